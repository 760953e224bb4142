"""The dashboards' rollups: kept by collection's own writes (unlikes included), equal to a
recomputation from the collected rows, and every figure that reads them answers exactly
what it answers from the posts' rows, on random history in several time zones."""

import io
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chorus.analytics import besttime, dashboards, figures, grids, rollups
from chorus.analytics.collection import record_readings
from chorus.analytics.models import (
    AccountDayTotal,
    AccountHourPosts,
    AccountMonthHourPosts,
    PostDaily,
    TrackedPost,
)
from chorus.analytics.selectors import Scope
from chorus.networks.models import SocialAccount
from chorus.networks.providers.base import PostMetrics, RemoteRef
from tests.analytics.conftest import account

pytestmark = pytest.mark.django_db

START = datetime(2026, 9, 1, tzinfo=UTC)  # the history spans both autumn DST changes
SPAN_DAYS = 90


def rollup_rows():
    days = set(
        AccountDayTotal.objects.values_list(
            "account_id", "day", "likes", "reposts", "replies", "quotes", "impressions"
        )
    )
    hours = set(AccountHourPosts.objects.values_list("account_id", "hour", *rollups.HOUR_FIELDS))
    months = set(
        AccountMonthHourPosts.objects.values_list(
            "account_id", "month", "weekday", "hour", *rollups.HOUR_FIELDS
        )
    )
    return days, hours, months


def collect_randomly(rng: random.Random, accounts: list[SocialAccount], zone: str) -> None:
    """Posts tracked and read as collection does, counts going up and down."""
    posts = []
    for n in range(60):
        made = TrackedPost.objects.create(
            account=rng.choice(accounts),
            remote_id=f"p{n}",
            published_at=START + timedelta(minutes=rng.randrange(SPAN_DAYS * 1440)),
        )
        rollups.add_posts([made])
        posts.append(made)
    for _round in range(12):
        now = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 1440, (SPAN_DAYS + 30) * 1440))
        chosen = rng.sample(posts, rng.randrange(1, 25))
        for acct in accounts:
            readings = []
            for post in (p for p in chosen if p.account_id == acct.pk):
                extra = {"impressions": rng.randrange(200)} if rng.random() < 0.3 else {}
                counts = {
                    name: max(0, getattr(post, name) + rng.randrange(-3, 9))  # unlikes too
                    for name in ("likes", "reposts", "replies", "quotes")
                }
                readings.append(
                    (post, PostMetrics(RemoteRef(post.remote_id), extra=extra, **counts))
                )
            record_readings(readings, now=now, zone=zone)


@pytest.mark.parametrize(
    "seed, zone",
    [(1, "UTC"), (2, "Asia/Bangkok"), (3, "America/New_York"), (4, "Asia/Kolkata")],
)
def test_rollups_answer_what_the_posts_rows_answer(owner, seed, zone, monkeypatch):
    rng = random.Random(seed)
    accounts = [account(owner.workspace, f"a{i}@example.social") for i in range(3)]
    SocialAccount.objects.filter(pk=accounts[2].pk).update(provider="bluesky")
    accounts[2].refresh_from_db()
    collect_randomly(rng, accounts, zone)
    assert PostDaily.objects.filter(likes__lt=0).exists()  # some unlikes were collected

    # Kept by collection's delta updates = recomputed from the collected rows.
    kept = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == kept
    rollups.rebuild()  # again: replaces, never adds
    assert rollup_rows() == kept

    ids = [a.pk for a in accounts]
    for _ in range(12):
        start = date(2026, 8, 25) + timedelta(days=rng.randrange(110))
        end = start + timedelta(days=rng.choice((0, 1, 6, 27, 60, 150)))
        chosen = tuple(sorted(rng.sample(ids, rng.randrange(1, 4))))
        rolled = Scope(
            workspace_id=owner.workspace_id, zone=zone, account_ids=chosen, start=start, end=end
        )
        direct = replace(rolled, use_rollups=False, _memo={}, _shared={})
        assert rolled.rolled_up and not direct.rolled_up
        assert [(v.figure.key, v.value, v.previous) for v in figures.overview(rolled)] == [
            (v.figure.key, v.value, v.previous) for v in figures.overview(direct)
        ]
        # The overview read both periods' totals in one query: the same as one by one.
        alone = replace(rolled, _memo={}, _shared={})
        assert (alone.totals(), alone.previous().totals()) == (
            rolled.totals(),
            rolled.previous().totals(),
        )
        assert dashboards.engagement_series(rolled) == dashboards.engagement_series(direct)
        assert dashboards.by_account(rolled) == dashboards.by_account(direct)
        assert dashboards.by_network(rolled) == dashboards.by_network(direct)
        assert dashboards.heatmap(rolled) == dashboards.heatmap(direct)
        assert rolled.daily().exists() == direct.daily().exists()
        # Top and bottom posts: walking the engagement index (SQLite, long periods) finds
        # the posts the period's published index finds.
        for best in (True, False):
            ranked = dashboards.ranked_posts(rolled, count=3, best=best)
            with monkeypatch.context() as patched:
                patched.setattr(dashboards, "WALK_FROM_POSTS", 0)
                assert ranked == dashboards.ranked_posts(rolled, count=3, best=best)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_best_time_grid_from_the_rollup_is_the_posts_grid(owner, zone):
    rng = random.Random(5)
    acct = account(owner.workspace)
    collect_randomly(rng, [acct], zone)
    for _ in range(10):
        since = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 1440))
        posts = TrackedPost.objects.filter(account=acct, published_at__gte=since, collections__gt=0)
        rolled = grids.weekday_hour_rolled([acct.pk], zone, since, read=True)
        if zone == "Asia/Kolkata" and posts.exists():
            assert rolled is None  # a UTC hour is two local half-hours: read the posts
        else:
            assert rolled == grids.weekday_hour(posts, zone)
    now = START + timedelta(days=SPAN_DAYS + 1)
    best = besttime.best_times(acct, zone=zone, now=now)
    posts = TrackedPost.objects.filter(
        account=acct,
        published_at__gte=now - timedelta(days=besttime.HISTORY_DAYS),
        collections__gt=0,
    )
    assert best.grid == grids.weekday_hour(posts, zone)


def test_posts_filters_read_the_posts_rows(owner, history):
    scope = Scope(
        workspace_id=owner.workspace_id,
        zone="UTC",
        account_ids=(history.pk,),
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        language="th",
    )
    assert not scope.rolled_up and scope.daily().model is PostDaily
    assert replace(scope, language="", _memo={}).daily().model is AccountDayTotal


def test_the_rebuild_command_repairs_the_rollups(owner, history):
    from django.core.management import call_command

    kept = rollup_rows()
    AccountDayTotal.objects.update(likes=999)
    AccountHourPosts.objects.all().delete()
    AccountMonthHourPosts.objects.update(posts=999)
    call_command("rebuild_analytics_rollups", "--account", str(history.pk), stdout=io.StringIO())
    assert rollup_rows() == kept
    assert AccountDayTotal.objects.filter(account=history, day=date(2026, 11, 22)).get().likes == -1


def test_months_a_zone_keeps_one_offset_through_are_read_from_the_monthly_rollup():
    import zoneinfo

    first = datetime(2026, 9, 10, 5, tzinfo=UTC)
    last = datetime(2026, 12, 20, 0, tzinfo=UTC)
    months, ranges = grids._by_month(zoneinfo.ZoneInfo("America/New_York"), first, last)
    # October whole at UTC-4; November holds the switch back; December is cut by the end.
    assert months == {date(2026, 10, 1): -4}
    assert ranges == [
        (first, datetime(2026, 10, 1, tzinfo=UTC)),
        (datetime(2026, 11, 1, tzinfo=UTC), last),
    ]
    months, ranges = grids._by_month(zoneinfo.ZoneInfo("Asia/Bangkok"), first, last)
    assert months == {date(2026, 10, 1): 7, date(2026, 11, 1): 7}
    months, ranges = grids._by_month(zoneinfo.ZoneInfo("Asia/Kolkata"), first, last)
    assert months == {} and ranges == [(first, last)]  # UTC+5:30: the hours, then the posts


def test_the_follower_series_carries_each_account_forward(owner):
    """The database's sums of daily changes give what carrying every account's latest
    reading forward day by day gives, with accounts read before the period, first read
    inside it, read on some days only, and never read."""
    from chorus.analytics.models import AccountDaily

    rng = random.Random(9)
    accounts = [account(owner.workspace, f"f{i}@example.social") for i in range(4)]
    first_day = date(2026, 9, 1)
    for acct in accounts[:3]:
        for d in sorted(rng.sample(range(120), rng.randrange(5, 60))):
            AccountDaily.objects.create(
                account=acct,
                day=first_day + timedelta(days=d),
                followers=rng.randrange(1000),
                following=0,
                posts=0,
                collected_at=START,
            )
    for _ in range(8):
        start = first_day + timedelta(days=rng.randrange(100))
        end = start + timedelta(days=rng.choice((0, 6, 27, 60)))
        chosen = tuple(sorted(a.pk for a in rng.sample(accounts, rng.randrange(1, 5))))
        scope = Scope(
            workspace_id=owner.workspace_id, zone="UTC", account_ids=chosen, start=start, end=end
        )
        expected, latest = [], {}
        for acct_id, _day, followers in (
            AccountDaily.objects.filter(account_id__in=chosen, day__lt=start)
            .order_by("day")
            .values_list("account_id", "day", "followers")
        ):
            latest[acct_id] = followers
        for n in range((end - start).days + 1):
            day = start + timedelta(days=n)
            for acct_id, followers in AccountDaily.objects.filter(
                account_id__in=chosen, day=day
            ).values_list("account_id", "followers"):
                latest[acct_id] = followers
            expected.append({"day": day, "followers": sum(latest.values()) if latest else None})
        assert dashboards.follower_series(scope) == expected
    empty = Scope(
        workspace_id=owner.workspace_id,
        zone="UTC",
        account_ids=(),
        start=START.date(),
        end=START.date(),
    )
    assert dashboards.follower_series(empty) == [{"day": START.date(), "followers": None}]
