"""The weekday-by-hour grid: how many posts went out at each local weekday and hour and the
lifetime engagements they drew, placed post by post or folded from the hourly rollup."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from chorus.analytics import rollups
from chorus.analytics.models import COUNTS, AccountHourPosts, AccountMonthHourPosts, TrackedPost

HOURS_A_WEEK = 7 * 24


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


def _fold(rows, tz: zoneinfo.ZoneInfo, n: str, engagements: str, counts) -> bool:
    """Add hourly rollup `rows` to the cells of their local weekday and hour; False when a
    UTC hour is not one local hour in `tz` (nothing added then). PostgreSQL groups them by
    local weekday and hour itself (at most 168 rows back rather than one per hour of the
    period, converting only the summed hours); SQLite's time-zone functions run in Python
    per row, so the hours are read and placed here."""
    rows = rows.order_by().values("hour").annotate(n=Sum(n), e=Sum(engagements))
    if connection.vendor == "postgresql":
        try:
            sql, params = rows.query.sql_with_params()
        except EmptyResultSet:  # no accounts: no rows
            return True
        local = 'h."hour" AT TIME ZONE %s'
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT EXTRACT(ISODOW FROM {local}), EXTRACT(HOUR FROM {local}), "  # noqa: S608
                f"EXTRACT(MINUTE FROM {local}) + EXTRACT(SECOND FROM {local}), "
                f'SUM(h."n"), SUM(h."e") FROM ({sql}) h GROUP BY 1, 2, 3',
                [tz.key] * 4 + list(params),
            )
            found = [
                ((int(weekday) - 1, int(hour)), minute, int(count), int(drew))
                for weekday, hour, minute, count, drew in cursor.fetchall()
            ]
    else:
        found = []
        for hour, count, drew in rows.values_list("hour", "n", "e"):
            local = hour.astimezone(tz)
            found.append(((local.weekday(), local.hour), local.minute or local.second, count, drew))
    if any(minute for _cell, minute, _count, _drew in found):
        return False
    for key, _minute, count, drew in found:
        cell = counts[key]
        cell[0] += count
        cell[1] += drew
    return True


def _next_month(month: datetime) -> datetime:
    return (month + timedelta(days=32)).replace(day=1)


def _steady_offset(tz: zoneinfo.ZoneInfo, month: datetime) -> int | None:
    """The zone's offset from UTC in whole hours through the UTC month starting at `month`,
    or None when it changes then (a daylight-saving switch; sampled daily, since no zone
    switches and back within a day) or is not a whole number of hours."""
    end = _next_month(month)
    days = (end - month).days
    offsets = {tz.utcoffset(month + timedelta(days=d)) for d in range(days)}
    offsets.add(tz.utcoffset(end - timedelta(hours=1)))
    if len(offsets) != 1:
        return None
    seconds = int(offsets.pop().total_seconds())
    return seconds // 3600 if seconds % 3600 == 0 else None


def _by_month(
    tz: zoneinfo.ZoneInfo, first: datetime, last: datetime | None
) -> tuple[dict[date, int], list[tuple[datetime, datetime | None]]]:
    """Whole hours [first, last) split into the UTC months read from
    `AccountMonthHourPosts` (each with the zone's steady offset in hours) and the ranges
    of hours read from `AccountHourPosts`: the parts of months at either end, and the
    months whose offset changes. No end: up to the current month, then open."""
    ceiling = (
        last if last is not None else rollups.hour_of(datetime.now(UTC)).replace(day=1, hour=0)
    )
    month = first.replace(day=1, hour=0)
    if month < first:
        month = _next_month(month)
    months: dict[date, int] = {}
    ranges: list[tuple[datetime, datetime | None]] = []
    cursor = first
    while _next_month(month) <= ceiling:
        offset = _steady_offset(tz, month)
        if offset is not None:
            if cursor < month:
                ranges.append((cursor, month))
            months[month.date()] = offset
            cursor = _next_month(month)
        month = _next_month(month)
    if last is None or cursor < last:
        ranges.append((cursor, last))
    return months, ranges


def _within(ranges: list[tuple[datetime, datetime | None]]) -> Q:
    """Hourly rollup rows in any of `ranges` ([low, high), None: no end)."""
    within = Q()
    for low, high in ranges:
        within |= Q(hour__gte=low, hour__lt=high) if high else Q(hour__gte=low)
    return within


def _fold_months(account_ids, months: dict[date, int], n: str, engagements: str, counts) -> None:
    """Add the monthly rollup's UTC weekday-hours to the cells they are in the zone, each
    month shifted by its offset (at most 168 rows a month come back)."""
    rows = (
        AccountMonthHourPosts.objects.filter(account_id__in=account_ids, month__in=list(months))
        .order_by()
        .values_list("month", "weekday", "hour")
        .annotate(n=Sum(n), e=Sum(engagements))
    )
    for month, weekday, hour, count, drew in rows:
        local = (weekday * 24 + hour + months[month]) % HOURS_A_WEEK
        cell = counts[divmod(local, 24)]
        cell[0] += count
        cell[1] += drew


def posts_rolled(account_ids, start: datetime, end: datetime) -> int:
    """How many of the accounts' posts were published in [start, end), from the rollups: a
    count needs no local hours, so every whole UTC month is read from
    `AccountMonthHourPosts`, the other whole hours from `AccountHourPosts`, the parts of
    hours at either end from the posts."""
    first, last, edges = rollups.whole_hours(start, end)
    total = 0
    if first is not None:
        months, ranges = _by_month(zoneinfo.ZoneInfo("UTC"), first, last)
        if months:
            rows = AccountMonthHourPosts.objects.filter(
                account_id__in=account_ids, month__in=list(months)
            )
            total += rows.aggregate(n=Sum("posts"))["n"] or 0
        if ranges:
            rows = AccountHourPosts.objects.filter(_within(ranges), account_id__in=account_ids)
            total += rows.aggregate(n=Sum("posts"))["n"] or 0
    if edges:
        total += TrackedPost.objects.filter(edges, account_id__in=account_ids).count()
    return total


def weekday_hour_rolled(
    account_ids, zone: str, start: datetime, end: datetime | None = None, *, read: bool = False
) -> list[list[Cell]] | None:
    """`weekday_hour` of the accounts' posts published from `start` until `end` (None: no
    end; `read`: only those read at least once), from the rollups: the whole UTC months
    through which the zone keeps one offset from `AccountMonthHourPosts`, the other whole
    UTC hours from `AccountHourPosts`, the parts of hours at either end from the posts.
    None when the zone's offset is not a whole number of hours then (India, Nepal...): a
    UTC hour is not one local hour, the caller places the posts themselves."""
    tz = zoneinfo.ZoneInfo(zone or "UTC")
    posts = TrackedPost.objects.filter(account_id__in=account_ids)
    if read:
        posts = posts.filter(collections__gt=0)
    first, last, edges = rollups.whole_hours(start, end)
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    n, engagements = ("read_posts", "read_engagements") if read else ("posts", "engagements")
    if first is not None:
        months, ranges = _by_month(tz, first, last)
        if ranges:
            rows = AccountHourPosts.objects.filter(_within(ranges), account_id__in=account_ids)
            if not _fold(rows, tz, n, engagements, counts):
                return None
        if months:
            _fold_months(account_ids, months, n, engagements, counts)
    if edges:
        _place(posts.filter(edges), tz, counts)
    return _grid(counts)
