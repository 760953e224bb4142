"""The data behind each chart and list of the dashboards, read from the daily rollups.

Every function takes a `selectors.Scope` (already permission-checked) and answers in a
fixed number of queries, whatever the period or the number of posts.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from chorus.analytics import figures, rollups
from chorus.analytics.models import COUNTS, AccountDaily, AccountHourPosts, TrackedPost
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
    before = (
        AccountDaily.objects.filter(account_id=OuterRef("pk"), day__lte=first)
        .order_by("-day")
        .values("followers")[:1]
    )
    current = dict(
        SocialAccount.objects.filter(pk__in=scope.account_ids)
        .annotate(before=Subquery(before))
        .exclude(before=None)
        .values_list("pk", "before")
    )
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


@dataclass(frozen=True)
class Cell:
    weekday: int  # 0 = Monday
    hour: int
    posts: int
    engagements: int

    @property
    def average(self) -> float | None:
        return self.engagements / self.posts if self.posts else None


def _place(posts, tz: zoneinfo.ZoneInfo, counts: dict[tuple[int, int], list[int]]) -> None:
    """Add each of `posts` (tracked posts) to the cell of its local weekday and hour."""
    total = sum((F(n) for n in COUNTS[1:]), F(COUNTS[0]))
    posts = posts.order_by().annotate(total=total)
    if connection.vendor == "sqlite":
        # SQLite converts time zones in a Python function called per row: reading the
        # times and grouping here is cheaper (bench/analytics.py).
        for published_at, engagements in posts.values_list("published_at", "total"):
            local = published_at.astimezone(tz)
            cell = counts[(local.weekday(), local.hour)]
            cell[0] += 1
            cell[1] += engagements
        return
    rows = (
        posts.annotate(
            weekday=ExtractIsoWeekDay("published_at", tzinfo=tz),
            hour=ExtractHour("published_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(posts=Count("pk"), engagements=Sum("total"))
    )
    for r in rows:
        cell = counts[(r["weekday"] - 1, r["hour"])]
        cell[0] += r["posts"]
        cell[1] += r["engagements"] or 0


def _grid(counts: dict[tuple[int, int], list[int]]) -> list[list[Cell]]:
    return [[Cell(d, h, *counts.get((d, h), (0, 0))) for h in range(24)] for d in range(7)]


def weekday_hour(posts, zone: str) -> list[list[Cell]]:
    """7 rows (Monday first) of 24 cells: how many of `posts` (tracked posts) went out at
    that local weekday and hour, and the lifetime engagements they drew."""
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    _place(posts, zoneinfo.ZoneInfo(zone or "UTC"), counts)
    return _grid(counts)


def weekday_hour_rolled(
    account_ids, zone: str, start: datetime, end: datetime | None = None, *, read: bool = False
) -> list[list[Cell]] | None:
    """`weekday_hour` of the accounts' posts published from `start` until `end` (None: no
    end; `read`: only those read at least once), from the hourly rollup: whole UTC hours
    from `AccountHourPosts`, the parts of hours at either end from the posts. None when the
    zone's offset is not a whole number of hours then (India, Nepal...): a UTC hour is not
    one local hour, the caller places the posts themselves."""
    tz = zoneinfo.ZoneInfo(zone or "UTC")
    posts = TrackedPost.objects.filter(account_id__in=account_ids)
    if read:
        posts = posts.filter(collections__gt=0)
    first, last, edges = rollups.whole_hours(start, end)
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    if first is not None:
        rows = AccountHourPosts.objects.filter(account_id__in=account_ids, hour__gte=first)
        if last is not None:
            rows = rows.filter(hour__lt=last)
        n, engagements = ("read_posts", "read_engagements") if read else ("posts", "engagements")
        rows = rows.order_by().values("hour").annotate(n=Sum(n), e=Sum(engagements))
        for hour, count, drew in rows.values_list("hour", "n", "e"):
            local = hour.astimezone(tz)
            if local.minute or local.second:
                return None
            cell = counts[(local.weekday(), local.hour)]
            cell[0] += count
            cell[1] += drew
    if edges:
        _place(posts.filter(edges), tz, counts)
    return _grid(counts)


def heatmap(scope: Scope) -> list[list[Cell]]:
    if scope.rolled_up:
        start, end = scope.moment(scope.start), scope.moment(scope.end + timedelta(days=1))
        grid = weekday_hour_rolled(scope.account_ids, scope.zone, start, end)
        if grid is not None:
            return grid
    return weekday_hour(scope.published(), scope.zone)


def ranked_posts(scope: Scope, *, count: int = 5, best: bool = True) -> list[TrackedPost]:
    """Posts published in the period with the most (or fewest) lifetime engagements."""
    total = sum((F(n) for n in COUNTS[1:]), F(COUNTS[0]))
    order = ("-total" if best else "total", "-published_at")
    return list(
        scope.published()
        .filter(collections__gt=0)
        .annotate(total=total)
        .select_related("account", "variant__post")
        .order_by(*order)[:count]
    )
