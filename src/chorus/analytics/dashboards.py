"""The data behind each chart and list of the dashboards, read from the daily rollups.

Every function takes a `selectors.Scope` (already permission-checked) and answers in a
fixed number of queries, whatever the period or the number of posts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import DateTimeField, F, Func, IntegerField, QuerySet, Sum

from chorus.analytics import figures
from chorus.analytics.grids import Cell, weekday_hour
from chorus.analytics.models import COUNTS, AccountDaily, TrackedPost
from chorus.analytics.selectors import Scope
from chorus.networks.models import SocialAccount
from chorus.networks.providers import get_provider


def _days(scope: Scope) -> list[date]:
    return [scope.start + timedelta(days=i) for i in range(scope.days)]


def engagement_series(scope: Scope) -> list[dict]:
    """Per day of the period: each count gained, each engagement figure of other apps
    (link clicks, under its key) and their total (0 on quiet days)."""
    rows = scope.daily().values("day").annotate(**{n: Sum(n) for n in COUNTS})
    found = {row["day"]: row for row in rows}
    others = {part.key: part.per_day(scope) for part in figures.other_engagement_parts()}
    series = []
    for day in _days(scope):
        row = found.get(day, {})
        values = {name: row.get(name) or 0 for name in COUNTS}
        values.update({key: per_day.get(day, 0) for key, per_day in others.items()})
        series.append({"day": day, **values, "total": sum(values.values())})
    return series


def follower_series(scope: Scope) -> list[dict]:
    """Per day: followers of the scope's accounts, each carried forward from its latest
    reading; None before any account was read."""
    first = scope.start - timedelta(days=1)
    rows = AccountDaily.objects.filter(
        account_id__in=scope.account_ids, day__gte=scope.start, day__lte=scope.end
    ).values_list("account_id", "day", "followers")
    current = dict(scope.followers_by_account(first))
    by_day: dict[date, dict[int, int]] = defaultdict(dict)
    for account_id, day, followers in rows:
        by_day[day][account_id] = followers
    series = []
    for day in _days(scope):
        current.update(by_day.get(day, {}))
        series.append({"day": day, "followers": sum(current.values()) if current else None})
    return series


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    filter: str = ""  # the dashboard's query narrowing to this bar: "account=3"


def by_account(scope: Scope) -> list[Bar]:
    """Engagements gained in the period per account, most first."""
    totals = dict(
        scope.daily()
        .values("account_id")
        .annotate(total=Sum(sum((F(n) for n in COUNTS[1:]), F(COUNTS[0]))))
        .values_list("account_id", "total")
    )
    accounts = SocialAccount.objects.filter(pk__in=scope.account_ids)
    bars = [Bar(a.label, totals.get(a.pk) or 0, f"account={a.pk}") for a in accounts]
    return sorted(bars, key=lambda b: (-b.value, b.label))


def by_network(scope: Scope) -> list[Bar]:
    """Engagements gained in the period per network, most first."""
    rows = (
        scope.daily()
        .values("account__provider")
        .annotate(total=Sum(sum((F(n) for n in COUNTS[1:]), F(COUNTS[0]))))
    )
    bars = [
        Bar(
            get_provider(r["account__provider"]).name,
            r["total"] or 0,
            f"network={r['account__provider']}",
        )
        for r in rows
    ]
    return sorted(bars, key=lambda b: (-b.value, b.label))


def heatmap(scope: Scope) -> list[list[Cell]]:
    grid = scope.rolled_grid()
    return grid if grid is not None else weekday_hour(scope.published(), scope.zone)


class _Unindexed(Func):
    """A column SQLite may not look up by index (a unary plus: the same value)."""

    template = "+%(expressions)s"


# SQLite walks the engagement index for top and bottom posts of periods holding at least
# this many posts (its planner would rather read and sort all the period's posts).
WALK_FROM_POSTS = 5000


def _published(scope: Scope) -> QuerySet[TrackedPost]:
    """`scope.published()`, for ordering by engagements: on SQLite, over a period holding
    many posts and without post filters, through columns hidden from its planner, so it
    walks the engagement index until enough of the period's posts have passed (28 days at
    the issue's volume, 76,000 posts: about 2 ms instead of 57). How many posts the period
    holds comes from the rollups the overview reads anyway."""
    if connection.vendor != "sqlite" or scope.filters_posts:
        return scope.published()
    if scope.memo("published", scope.published_count) < WALK_FROM_POSTS:
        return scope.published()
    return TrackedPost.objects.annotate(
        walk_account=_Unindexed("account_id", output_field=IntegerField()),
        walk_at=_Unindexed("published_at", output_field=DateTimeField()),
    ).filter(
        walk_account__in=scope.account_ids,
        walk_at__gte=scope.moment(scope.start),
        walk_at__lt=scope.moment(scope.end + timedelta(days=1)),
    )


def ranked_posts(scope: Scope, *, count: int = 5, best: bool = True) -> list[TrackedPost]:
    """Posts published in the period with the most (or fewest) lifetime engagements."""
    total = sum((F(n) for n in COUNTS[1:]), F(COUNTS[0]))
    order = ("-total" if best else "total", "-published_at")
    return list(
        _published(scope)
        .filter(collections__gt=0)
        .annotate(total=total)
        .select_related("account", "variant__post")
        .order_by(*order)[:count]
    )
