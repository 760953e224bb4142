"""Collection against the Mastodon test server: figures move, history is never lost."""

from datetime import timedelta

import pytest

from chorus.analytics import collection
from chorus.analytics.models import AccountDaily, PostDaily, PostSnapshot, TrackedPost
from chorus.networks.models import ServerBudget

pytestmark = pytest.mark.django_db


def test_a_published_post_is_read_on_its_schedule_and_its_figures_move(published, fan):
    variant = published("ជំរាបសួរ Khmer and สวัสดี Thai")
    assert collection.track_published() == 1
    tracked = TrackedPost.objects.get(variant=variant)
    assert tracked.next_collect_at == variant.published_at + timedelta(hours=1)
    assert collection.collect_posts(now=variant.published_at + timedelta(minutes=30)).read == 0

    fan.post(f"/api/v1/statuses/{variant.remote_id}/favourite").raise_for_status()
    first = collection.collect_posts(now=variant.published_at + timedelta(hours=1))
    assert first.read == 1
    tracked.refresh_from_db()
    assert (tracked.likes, tracked.reposts, tracked.collections) == (1, 0, 1)
    assert tracked.next_collect_at == variant.published_at + timedelta(hours=6)
    assert tracked.impressions is None  # Mastodon does not report them

    fan.post(f"/api/v1/statuses/{variant.remote_id}/reblog").raise_for_status()
    fan.post(f"/api/v1/statuses/{variant.remote_id}/unfavourite").raise_for_status()
    later = variant.published_at + timedelta(days=2)
    assert collection.collect_posts(now=later).read == 1
    tracked.refresh_from_db()
    assert (tracked.likes, tracked.reposts) == (0, 1)  # an unlike is stored as is
    assert [s.likes for s in PostSnapshot.objects.filter(post=tracked)] == [1, 0]
    assert tracked.next_collect_at == variant.published_at + timedelta(days=3)
    days = {d.day: (d.likes, d.reposts) for d in PostDaily.objects.filter(post=tracked)}
    assert days[collection.local_day(later, "UTC")] == (-1, 1)
    assert sum(likes for likes, _ in days.values()) == 0


def test_a_failed_reading_keeps_history_and_retries(published, fan, mastodon_server):
    variant = published()
    collection.track_published()
    fan.post(f"/api/v1/statuses/{variant.remote_id}/favourite").raise_for_status()
    at = variant.published_at + timedelta(hours=1)
    collection.collect_posts(now=at)
    with mastodon_server.fault(
        match={"methods": ["GET"], "path": "/api/v1/statuses"},
        effect={"type": "status", "status": 503},
    ):
        failed = collection.collect_posts(now=at + timedelta(hours=6))
    assert failed.failed == 1 and failed.read == 0
    tracked = TrackedPost.objects.get(variant=variant)
    assert tracked.likes == 1 and tracked.collections == 1 and tracked.deleted_at is None
    assert tracked.last_error
    assert tracked.next_collect_at == at + timedelta(hours=6) + collection.RETRY_AFTER_FAILURE
    assert PostSnapshot.objects.filter(post=tracked).count() == 1


def test_a_post_deleted_on_the_network_is_marked_and_keeps_its_history(
    published, fan, mastodon_account, mastodon_server
):
    variant = published()
    collection.track_published()
    fan.post(f"/api/v1/statuses/{variant.remote_id}/favourite").raise_for_status()
    collection.collect_posts(now=variant.published_at + timedelta(hours=1))
    with mastodon_server.client(mastodon_account.secrets["access_token"]) as ours:
        ours.delete(f"/api/v1/statuses/{variant.remote_id}").raise_for_status()
    first_miss = variant.published_at + timedelta(hours=6)
    outcome = collection.collect_posts(now=first_miss)
    tracked = TrackedPost.objects.get(variant=variant)
    assert outcome.deleted == 0, "absent once may be not yet indexed: read again soon"
    assert tracked.deleted_at is None and tracked.missing_readings == 1
    assert tracked.next_collect_at == first_miss + collection.RECHECK_ABSENT
    outcome = collection.collect_posts(now=tracked.next_collect_at)
    assert outcome.deleted == 1
    tracked.refresh_from_db()
    assert tracked.deleted_at is not None and tracked.next_collect_at is None
    assert tracked.likes == 1 and PostSnapshot.objects.filter(post=tracked).count() == 1


def test_account_figures_are_read_daily(mastodon_account, fan):
    our_id = mastodon_account.identity["account_id"]
    fan.post(f"/api/v1/accounts/{our_id}/follow").raise_for_status()
    outcome = collection.collect_accounts()
    assert outcome.read == 1
    day = AccountDaily.objects.get(account=mastodon_account)
    assert day.followers == 1
    assert collection.collect_accounts().read == 0  # not due again before a day has passed


def test_collection_charges_the_server_budget_and_leaves_publishing_its_reserve(
    published, settings
):
    variant = published()
    collection.track_published()
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": (10, 300)}
    at = variant.published_at + timedelta(hours=1)
    # Spend the readers' share: only the dispatcher's reserve is left.
    reserve = settings.CHORUS_PUBLISHING_RESERVE
    account = variant.account
    ServerBudget.objects.update_or_create(
        provider="mastodon",
        server=account.server,
        defaults={
            "limit": 10,
            "used": int(10 * (1 - reserve)),
            "window_ends_at": at + timedelta(minutes=5),
        },
    )
    outcome = collection.collect_posts(now=at)
    assert outcome.deferred == 1 and outcome.read == 0
    tracked = TrackedPost.objects.get(variant=variant)
    assert tracked.next_collect_at == at + timedelta(minutes=5)
    assert tracked.collections == 0


def test_a_post_being_read_is_left_alone_by_a_second_collector(published):
    variant = published()
    collection.track_published()
    at = variant.published_at + timedelta(hours=1)
    due = TrackedPost.objects.filter(next_collect_at__lte=at)
    claimed = collection._claim(due, at)  # the first collector, still reading
    assert len(claimed) == 1
    assert collection.collect_posts(now=at).read == 0  # a second one finds nothing due
    later = at + collection.LEASE  # the first one died: the post is due again
    assert collection.collect_posts(now=later).read == 1


def test_connecting_an_account_backfills_its_posts_made_with_chorus_or_not(
    published, mastodon_account, owner, mastodon_server, fan, django_capture_on_commit_callbacks
):
    from chorus.analytics.models import AccountCollection
    from chorus.networks import services as network_services

    made_with_chorus = published("made with Chorus")
    with mastodon_server.client(mastodon_account.secrets["access_token"]) as brand:
        outside = brand.post("/api/v1/statuses", json={"status": "ស្ទង់ made elsewhere"}).json()
        other = fan.post("/api/v1/statuses", json={"status": "someone else's"}).json()
        brand.post(f"/api/v1/statuses/{other['id']}/reblog").raise_for_status()
    # Reconnecting sends `account_connected`, as a first connection does.
    url = network_services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    username = mastodon_account.handle.split("@")[0]
    code, state = mastodon_server.approve(url, username)
    with django_capture_on_commit_callbacks(execute=True):
        network_services.oauth_complete(actor=owner, state=state, code=code)
    tracked = {t.remote_id: t for t in TrackedPost.objects.filter(account=mastodon_account)}
    # Its own posts, with and without Chorus; never the boost of someone else's post.
    assert set(tracked) == {made_with_chorus.remote_id, outside["id"]}
    assert tracked[made_with_chorus.remote_id].variant_id == made_with_chorus.pk
    assert tracked[outside["id"]].variant_id is None
    assert tracked[outside["id"]].text == "ស្ទង់ made elsewhere"
    state = AccountCollection.objects.get(account=mastodon_account)
    assert state.backfilled_at is not None and state.next_collect_at is not None
    assert collection.backfill(account=mastodon_account) == 0  # nothing twice


def test_the_backfill_leaves_out_posts_older_than_its_window(published, mastodon_account):
    from django.utils import timezone

    published("an old post")  # as seen from BACKFILL_DAYS + 1 days on
    future = timezone.now() + timedelta(days=collection.BACKFILL_DAYS + 1)
    assert collection.backfill(account=mastodon_account, now=future) == 0
    assert not TrackedPost.objects.exists()


def test_tracking_a_post_lists_its_language_for_the_dashboards_filter(published, owner):
    from chorus.analytics import rollups
    from chorus.analytics.models import AccountLanguage
    from chorus.analytics.selectors import tracked_languages

    published("สวัสดี", language="th")
    published("ជំរាបសួរ", language="km")
    published("Another one", language="th")
    assert tracked_languages(owner.workspace_id) == []  # nothing measured yet
    assert collection.track_published() == 3
    assert tracked_languages(owner.workspace_id) == ["km", "th"]
    kept = sorted(AccountLanguage.objects.values_list("account_id", "language"))
    AccountLanguage.objects.all().delete()
    rollups.rebuild()  # recomputed from the tracked posts: the same rows
    assert sorted(AccountLanguage.objects.values_list("account_id", "language")) == kept
