"""Pages that stay bounded however much a workspace holds: the calendar's "+N more", day and
paged list views, the queue's next free slots for many accounts, approvals checking each
distinct text once, posts filtered without duplicates, the API's page size and the on-time
percentiles computed by the database."""

import datetime as dt
import random
import re
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chorus.governance import services as governance
from chorus.governance.models import PolicyAction, PolicyKind
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import queues, selectors, services
from chorus.publishing.models import Post, PostState, QueueSlot, Variant, VariantStatus
from chorus.publishing.selectors import on_time_record, percentile
from chorus.testing.load import seed_posts
from chorus.web.views.calendar import LIST_PAGE_SIZE, MONTH_PER_DAY

pytestmark = pytest.mark.django_db

ZONE = zoneinfo.ZoneInfo("Asia/Bangkok")
CHIP = '<a class="cal-post '  # one post on the calendar


def make_account(owner, n: int = 0, provider: str = "mastodon") -> SocialAccount:
    return SocialAccount.objects.create(
        workspace=owner.workspace,
        provider=provider,
        remote_id=f"brand{n}",
        handle=f"brand{n}@mastodon.example",
        identity={"server_url": "https://mastodon.example"},
        status=AccountStatus.ACTIVE,
        connected_by=owner.user,
    )


@pytest.fixture
def account(owner):
    owner.workspace.timezone = "Asia/Bangkok"
    owner.workspace.save()
    return make_account(owner)


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def a_day_ahead(days: int = 20) -> dt.date:
    return (timezone.now() + timedelta(days=days)).astimezone(ZONE).date()


def schedule_many(account, day: dt.date, count: int, hour: int = 8) -> list[int]:
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE)
    seed_posts(account_ids=[account.pk], due=(start + timedelta(minutes=n) for n in range(count)))
    return list(Post.objects.order_by("scheduled_at").values_list("pk", flat=True))


def test_month_cell_shows_what_fits_and_more_opens_the_day(owner, account):
    day = a_day_ahead()
    ids = schedule_many(account, day, MONTH_PER_DAY + 4)
    client = signed_in(owner)
    page = client.get(f"/calendar/?view=month&date={day.isoformat()}").content.decode()
    cell = page.split(f'data-date="{day.isoformat()}"', 1)[1].split("</td>", 1)[0]
    assert cell.count(CHIP) == MONTH_PER_DAY
    assert all(f'data-post="{pk}"' in cell for pk in ids[:MONTH_PER_DAY])  # the earliest
    more = re.search(r'<a class="cal-more" href="([^"]+)" data-more="(\d+)"', cell)
    assert more and more.group(2) == "4"
    assert ">+4 more<" in cell and "4 more posts on" in cell
    whole_day = client.get("/calendar/" + more.group(1).replace("&amp;", "&"))
    assert whole_day.status_code == 200
    listed = whole_day.content.decode()
    assert all(f'data-post="{pk}"' in listed for pk in ids)
    assert f"{len(ids)} posts" in listed  # the day's count, from the aggregate


def test_week_cell_shows_one_post_per_hour_and_more(owner, account):
    day = a_day_ahead()
    schedule_many(account, day, 3, hour=8)
    page = signed_in(owner).get(f"/calendar/?view=week&date={day.isoformat()}").content.decode()
    slot = page.split(f'data-date="{day.isoformat()}" data-hour="8"', 1)[1].split("</td>", 1)[0]
    assert slot.count(CHIP) == 1 and 'data-more="2"' in slot


def test_list_pages_through_a_busy_month_and_a_page_past_the_end_says_so(owner, account):
    day = a_day_ahead()
    ids = schedule_many(account, day, LIST_PAGE_SIZE + 5)
    client = signed_in(owner)
    first = client.get(f"/calendar/?view=list&date={day.isoformat()}").content.decode()
    assert first.count(CHIP) == LIST_PAGE_SIZE
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get(f"/calendar/?view=list&date={day.isoformat()}&page=2").content.decode()
    assert second.count(CHIP) == 5
    assert f'data-post="{ids[-1]}"' in second
    past = client.get(f"/calendar/?view=list&date={day.isoformat()}&page=9999")
    assert past.status_code == 200
    text = past.content.decode()
    assert "There is no page 9999; this is the last page, 2." in text
    assert text.count(CHIP) == 5
    assert client.get(f"/calendar/?view=day&date={day.isoformat()}&page=abc").status_code == 200


def test_calendar_of_an_empty_workspace(owner, account):
    client = signed_in(owner)
    for view in ("month", "week", "day", "list"):
        response = client.get(f"/calendar/?view={view}")
        assert response.status_code == 200
    assert "Nothing is planned on this day." in client.get("/calendar/?view=day").content.decode()
    assert (
        "Nothing is planned in this month." in client.get("/calendar/?view=list").content.decode()
    )
    assert client.get("/approvals/?page=3").status_code == 200
    assert client.get("/queue/").status_code == 200
    assert on_time_record(owner) == []


def test_filters_match_one_variant_and_never_repeat_a_post(owner, account):
    other = make_account(owner, 1)
    post = services.post_save(
        actor=owner,
        variants=[
            services.VariantInput(account_id=account.pk, text="Both"),
            services.VariantInput(account_id=other.pk, text="Both"),
        ],
    )
    Variant.objects.filter(post=post, account=other).update(status=VariantStatus.FAILED)
    assert list(selectors.posts_of(owner, account_ids=[account.pk, other.pk])) == [post]
    assert list(selectors.posts_of(owner, statuses=["draft", "failed"])) == [post]
    assert list(selectors.posts_of(owner, account_ids=[other.pk], statuses=["failed"])) == [post]
    # The account's own variant is a draft: "failed on this account" does not match.
    assert list(selectors.posts_of(owner, account_ids=[account.pk], statuses=["failed"])) == []


def test_api_page_size_goes_up_to_200_and_past_the_end_is_empty(owner, account, api, api_token_for):
    seed_posts(
        account_ids=[account.pk],
        due=(timezone.now() + timedelta(hours=1, minutes=n) for n in range(205)),
    )
    token = api_token_for(owner)
    body = api.get("/posts?page_size=200", token=token).json()
    assert (len(body["items"]), body["count"]) == (200, 205)
    assert len(api.get("/posts?page_size=500", token=token).json()["items"]) == 200
    assert len(api.get("/posts", token=token).json()["items"]) == 50
    past = api.get("/posts?page=99", token=token)
    assert past.status_code == 200 and past.json() == {"items": [], "count": 205}
    assert api.get("/posts?page=0", token=token).status_code == 422


def test_next_free_slots_for_many_accounts_skip_taken_slots_beyond_one_batch(owner, account):
    accounts = [account, make_account(owner, 1), make_account(owner, 2)]
    for a in accounts[:2]:
        QueueSlot.objects.bulk_create(
            QueueSlot(account=a, weekday=day, time=dt.time(hour))
            for day in range(7)
            for hour in (9, 18)
        )
    after = timezone.now()
    candidates = list(queues._slot_times(accounts[0], after))
    taken = candidates[: queues.SLOT_BATCH + 3]  # more than one batch of candidates
    seed_posts(account_ids=[account.pk], due=taken)
    loaded = list(
        SocialAccount.objects.filter(pk__in=[a.pk for a in accounts])
        .select_related("workspace")
        .prefetch_related("slots")
        .order_by("pk")
    )
    found = queues.next_free_slots(loaded, after=after)
    assert found[account.pk] == candidates[queues.SLOT_BATCH + 3]
    assert found[accounts[1].pk] == candidates[0]  # same slots, nothing taken
    assert found[accounts[2].pk] is None  # no slots
    assert queues.next_free_slot(account, after=after) == found[account.pk]


def test_approvals_check_each_distinct_text_once(owner, make_member, account, monkeypatch):
    from chorus.networks import services as network_services

    governance.policy_create(
        actor=owner,
        name="Claims",
        kind=PolicyKind.BANNED_TERMS,
        action=PolicyAction.REQUIRE_APPROVAL,
        terms=["guaranteed"],
    )
    contributor = make_member("contributor", workspace=owner.workspace)
    network_services.account_set_member_levels(
        actor=owner, account=account, levels={contributor: {"draft"}}
    )
    for n in range(4):
        post = services.post_save(
            actor=contributor,
            variants=[services.VariantInput(account_id=account.pk, text="Results guaranteed")],
        )
        services.post_schedule(
            actor=contributor, post=post, at=timezone.now() + timedelta(days=1, minutes=n)
        )
    assert Post.objects.filter(state=PostState.PENDING_APPROVAL).count() == 4
    calls = []
    real = governance.evaluate

    def counting(policy, text, links=None):
        calls.append(text)
        return real(policy, text, links)

    monkeypatch.setattr(governance, "evaluate", counting)
    page = signed_in(owner).get("/approvals/").content.decode()
    assert page.count('class="card approval-item"') == 4
    assert page.count("<mark>guaranteed</mark>") == 4  # every card still shows it
    assert calls == ["Results guaranteed"]  # one policy, one distinct text: one evaluation


def test_on_time_percentiles_from_the_database_match_nearest_rank(owner, account):
    other = make_account(owner, 1, provider="bluesky")
    rng = random.Random(5)
    values = {account.handle: [], other.handle: []}
    now = timezone.now()
    for n in range(37 + 12):
        target = account if n < 37 else other
        lateness = round(rng.uniform(0, 90), 6)
        values[target.handle].append(lateness)
        post = Post.objects.create(
            workspace=owner.workspace, author=owner.user, state=PostState.SCHEDULED
        )
        scheduled = now - timedelta(hours=2, seconds=n)
        Variant.objects.create(
            post=post,
            account=target,
            status=VariantStatus.PUBLISHED,
            scheduled_at=scheduled,
            published_at=scheduled + timedelta(seconds=lateness),
        )
    rows = {row.group: row for row in on_time_record(owner, by="account")}
    for handle, lateness in values.items():
        lateness.sort()
        row = rows[handle]
        assert row.published == len(lateness)
        assert row.p50 == pytest.approx(percentile(lateness, 0.50), abs=1e-6)
        assert row.p90 == pytest.approx(percentile(lateness, 0.90), abs=1e-6)
        assert row.p99 == pytest.approx(percentile(lateness, 0.99), abs=1e-6)
        assert row.worst == pytest.approx(lateness[-1], abs=1e-6)
    assert [r.group for r in on_time_record(owner, by="network")] == ["bluesky", "mastodon"]
    assert percentile([float(v) for v in range(1, 11)], 0.90) == 9.0  # rank ceil(0.9 * 10)
