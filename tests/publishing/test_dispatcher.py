"""The dispatcher against a real Mastodon API server: exactly once, on time, errors typed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import AttemptOutcome, PostState, Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db


def compose(owner, account, text="Hello from Chorus", **extra):
    return services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text=text, **extra)]
    )


def test_due_post_is_published_once_with_link_and_times(owner, mastodon_account, statuses_of):
    post = compose(owner, mastodon_account, "ສະບາຍດີ Khmer ជំរាបសួរ and Thai สวัสดีครับ")
    services.post_publish_now(actor=owner, post=post)
    dispatcher = Dispatcher(concurrency=2)
    assert dispatcher.run_once() == 1
    assert dispatcher.run_once() == 0
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED
    statuses = statuses_of(mastodon_account)
    assert len(statuses) == 1 and statuses[0]["id"] == variant.remote_id
    assert variant.remote_url == statuses[0]["url"]
    assert variant.published_at and variant.claimed_at and variant.scheduled_at
    assert variant.attempts_log.get().outcome == AttemptOutcome.PUBLISHED


def test_future_post_waits_for_its_time(owner, mastodon_account, statuses_of):
    post = compose(owner, mastodon_account)
    services.post_schedule(actor=owner, post=post, at=timezone.now() + timedelta(hours=1))
    assert Dispatcher().run_once() == 0
    assert statuses_of(mastodon_account) == []
    later = timezone.now() + timedelta(hours=1, seconds=1)
    assert Dispatcher().run_once(now=later) == 1


def test_a_thread_goes_out_as_replies_in_order(owner, mastodon_account, statuses_of):
    post = compose(owner, mastodon_account, "1/3 start", thread=["2/3 middle", "3/3 end"])
    services.post_publish_now(actor=owner, post=post)
    Dispatcher().run_once()
    variant = Variant.objects.get(post=post)
    statuses = {s["id"]: s for s in statuses_of(mastodon_account)}
    parts = [statuses[p["id"]] for p in variant.parts_published]
    assert [p["content"] for p in parts] and len(parts) == 3
    assert parts[1]["in_reply_to_id"] == parts[0]["id"]
    assert parts[2]["in_reply_to_id"] == parts[1]["id"]


def test_crash_after_sending_then_recovery_publishes_exactly_once(
    owner, mastodon_account, statuses_of
):
    post = compose(owner, mastodon_account)
    services.post_publish_now(actor=owner, post=post)
    crashed = Dispatcher(lease=timedelta(seconds=30))
    work = crashed.claim()
    crashed.send(work)  # the network got it; the process dies before recording
    assert Variant.objects.get(post=post).status == VariantStatus.PUBLISHING
    assert Dispatcher().run_once() == 0, "a live lease is not taken over"
    after_lease = timezone.now() + timedelta(seconds=31)
    assert Dispatcher().run_once(now=after_lease) == 1
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED
    assert len(statuses_of(mastodon_account)) == 1
    outcomes = list(variant.attempts_log.order_by("number").values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.STARTED, AttemptOutcome.PUBLISHED]


def test_429_then_503_then_success_honours_retry_after(
    owner, mastodon_account, mastodon_server, statuses_of
):
    post = compose(owner, mastodon_account)
    services.post_publish_now(actor=owner, post=post)
    dispatcher = Dispatcher()
    with mastodon_server.fault(
        match={"methods": ["POST"], "path": "/api/v1/statuses"},
        effect={"type": "status", "status": 429, "headers": {"Retry-After": "120"}},
        count=1,
    ):
        dispatcher.run_once()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.SCHEDULED
    wait = (variant.due_at - timezone.now()).total_seconds()
    assert 100 < wait <= 121
    assert dispatcher.run_once(now=timezone.now() + timedelta(seconds=60)) == 0
    with mastodon_server.fault(
        match={"methods": ["POST"], "path": "/api/v1/statuses"},
        effect={"type": "status", "status": 503},
        count=1,
    ):
        dispatcher.run_once(now=variant.due_at + timedelta(seconds=1))
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED and variant.last_error
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=5))  # past every wait
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED
    assert len(statuses_of(mastodon_account)) == 1


def test_rejected_post_fails_with_the_networks_reason_and_tells_the_author(
    owner, mastodon_account, mastodon_server, mailoutbox, django_capture_on_commit_callbacks
):
    post = compose(owner, mastodon_account)
    services.post_publish_now(actor=owner, post=post)
    with (
        mastodon_server.fault(
            match={"methods": ["POST"], "path": "/api/v1/statuses"},
            effect={
                "type": "status",
                "status": 422,
                "body": {"error": "Validation failed: Text character limit of 500 exceeded"},
            },
            count=1,
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        Dispatcher().run_once()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.FAILED
    assert "character limit" in variant.last_error
    message = owner.user.notifications.get().message
    assert mastodon_account.handle in message and "character limit" in message
    assert any("character limit" in m.body for m in mailoutbox)


def test_revoked_token_holds_posts_as_needs_reconnect_and_reconnect_resumes(
    owner, mastodon_account, mastodon_server, statuses_of
):
    first, second = compose(owner, mastodon_account, "one"), compose(owner, mastodon_account, "two")
    mastodon_server.revoke(mastodon_account.secrets["access_token"])
    services.post_publish_now(actor=owner, post=first)
    services.post_publish_now(actor=owner, post=second)
    Dispatcher().run_once()
    statuses = set(Variant.objects.values_list("status", flat=True))
    assert statuses == {VariantStatus.NEEDS_RECONNECT}
    mastodon_account.refresh_from_db()
    assert mastodon_account.status == AccountStatus.NEEDS_RECONNECT


def test_too_late_post_is_held_not_published(owner, mastodon_account, statuses_of):
    post = compose(owner, mastodon_account)
    services.post_schedule(actor=owner, post=post, at=timezone.now() + timedelta(minutes=1))
    much_later = timezone.now() + timedelta(hours=3)
    Dispatcher(late_cutoff=timedelta(hours=1)).run_once(now=much_later)
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.HELD and "too late" in variant.last_error
    assert statuses_of(mastodon_account) == []


def test_author_who_lost_access_is_not_published_for(owner, make_member, mastodon_account):
    from chorus.accounts.roles import Role
    from chorus.networks import services as network_services

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    network_services.account_set_members(
        actor=owner, account=mastodon_account, memberships=[editor]
    )
    post = compose(editor, mastodon_account)
    services.post_publish_now(actor=editor, post=post)
    network_services.account_set_members(actor=owner, account=mastodon_account, memberships=[])
    Dispatcher().run_once()
    assert Variant.objects.get(post=post).status == VariantStatus.HELD


def test_unscheduling_while_being_sent_is_refused_and_the_post_goes_out(
    owner, mastodon_account, statuses_of
):
    from chorus.core.errors import Conflict

    post = compose(owner, mastodon_account)
    services.post_publish_now(actor=owner, post=post)
    dispatcher = Dispatcher()
    work = dispatcher.claim()
    with pytest.raises(Conflict):
        services.post_unschedule(actor=owner, post=post)
    dispatcher.record(dispatcher.send(work))
    assert Variant.objects.get(post=post).status == VariantStatus.PUBLISHED
    assert len(statuses_of(mastodon_account)) == 1


def test_unscheduled_before_its_time_is_never_claimed(owner, mastodon_account, statuses_of):
    post = compose(owner, mastodon_account)
    services.post_publish_now(actor=owner, post=post)
    services.post_unschedule(actor=owner, post=post)
    assert Dispatcher().run_once() == 0
    assert Variant.objects.get(post=post).status == VariantStatus.DRAFT
    assert statuses_of(mastodon_account) == []


def test_evergreen_post_is_scheduled_again_once(
    owner, mastodon_account, django_capture_on_commit_callbacks
):
    from chorus.publishing.models import Post

    post = compose(owner, mastodon_account, "Weekly tip")
    services.post_set_repeat(actor=owner, post=post, every_days=7)
    services.post_publish_now(actor=owner, post=post)
    with django_capture_on_commit_callbacks(execute=True):
        Dispatcher().run_once()
    copy = Post.objects.get(repeated_from=post)
    post.refresh_from_db()
    assert copy.state == PostState.SCHEDULED
    assert copy.scheduled_at - post.scheduled_at == timedelta(days=7)
    variant = copy.variants.get()
    assert variant.text == "Weekly tip" and variant.status == VariantStatus.SCHEDULED
    assert variant.idempotency_key != post.variants.get().idempotency_key
    assert services.post_repeat_next(post=post) is None, "only one next occurrence"


def test_an_exhausted_rate_budget_pauses_the_account_before_any_429(owner, mastodon_account):
    """The network said 0 requests left: Chorus waits for the reset instead of trying."""
    first, second = compose(owner, mastodon_account, "one"), compose(owner, mastodon_account, "two")
    services.post_publish_now(actor=owner, post=first)
    Dispatcher().run_once()
    mastodon_account.refresh_from_db()
    assert mastodon_account.rate_limit and mastodon_account.rate_remaining is not None
    mastodon_account.rate_remaining = 0
    mastodon_account.rate_reset_at = timezone.now() + timedelta(minutes=5)
    mastodon_account.save()
    services.post_publish_now(actor=owner, post=second)
    assert Dispatcher().run_once() == 0, "a paused account's posts are not claimed"
    assert Dispatcher().run_once(now=timezone.now() + timedelta(minutes=6)) == 1


def test_publishing_and_deleting_are_audited(
    owner, mastodon_account, django_capture_on_commit_callbacks
):
    from chorus.governance.models import AuditAction, AuditEntry

    post = compose(owner, mastodon_account, "audited")
    services.post_publish_now(actor=owner, post=post)
    with django_capture_on_commit_callbacks(execute=True):
        Dispatcher().run_once()
    variant = Variant.objects.get(post=post)
    published = AuditEntry.objects.get(action=AuditAction.POST_PUBLISHED)
    assert published.workspace_id == owner.workspace_id and published.actor_id is None
    assert variant.remote_id in str(published.changes)
    services.variant_delete_remote(actor=owner, variant=variant)
    draft = compose(owner, mastodon_account, "never sent")
    services.post_delete(actor=owner, post=draft)
    deleted = AuditEntry.objects.filter(action=AuditAction.POST_DELETED)
    assert deleted.count() == 2 and {e.actor_id for e in deleted} == {owner.user_id}


def test_full_batches_resume_where_they_stopped_and_a_short_one_rescans(
    owner, mastodon_account, statuses_of
):
    posts = [compose(owner, mastodon_account, f"Burst {n}") for n in range(5)]
    for post in posts:
        services.post_publish_now(actor=owner, post=post)
    dispatcher = Dispatcher(batch_size=2)
    first = dispatcher.claim()
    assert len(first) == 2
    dispatcher.record(dispatcher.send(first))
    # A variant that falls due behind the resume point (a retry due earlier, say) is passed
    # over by a resumed scan but found by the rescan after the next short batch.
    behind = Variant.objects.get(post=posts[4])
    Variant.objects.filter(pk=behind.pk).update(due_at=first[0].variant.due_at)
    second = dispatcher.claim()
    assert {w.variant.post_id for w in second} == {posts[2].pk, posts[3].pk}
    dispatcher.record(dispatcher.send(second))
    assert dispatcher.claim() == [], "resumed after the last full batch: nothing there"
    third = dispatcher.claim()
    assert [w.variant.post_id for w in third] == [posts[4].pk]
    dispatcher.record(dispatcher.send(third))
    assert len(statuses_of(mastodon_account)) == 5


def test_a_renewed_bluesky_session_is_kept_for_the_next_post(owner):
    with EmulatorServer(process=False, latency=0, rate_limit=None) as emulator:
        credentials = emulator.bluesky_credentials("brand.test", ttl_s=-60)  # access expired
        account = SocialAccount(
            workspace=owner.workspace,
            provider="bluesky",
            remote_id=credentials.identity["did"],
            handle="brand.test",
            identity=credentials.identity,
            connected_by=owner.user,
        )
        account.secrets = credentials.secrets
        account.save()
        first = compose(owner, account, "First, after the session renews")
        services.post_publish_now(actor=owner, post=first)
        Dispatcher().run_once()

        account.refresh_from_db()
        assert Variant.objects.get(post=first).status == VariantStatus.PUBLISHED
        assert account.secrets["refreshJwt"] != credentials.secrets["refreshJwt"]
        assert renewals(emulator) == 1
        second = compose(owner, account, "Second, with the kept session")
        services.post_publish_now(actor=owner, post=second)
        Dispatcher().run_once()
        assert Variant.objects.get(post=second).status == VariantStatus.PUBLISHED
        assert renewals(emulator) == 1, "the stored session was used, not the expired one"
        assert len(emulator.events()) == 2


def renewals(emulator) -> int:
    return sum(n for route, n in emulator.stats()["routes"].items() if "refreshSession" in route)
