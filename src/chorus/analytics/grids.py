"""The weekday-by-hour grid: how many posts went out at each local weekday and hour and the
lifetime engagements they drew, placed post by post or folded from the hourly rollup."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from chorus.analytics import rollups
from chorus.analytics.models import COUNTS, AccountHourPosts, TrackedPost


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
        if not _fold(rows, tz, n, engagements, counts):
            return None
    if edges:
        _place(posts.filter(edges), tz, counts)
    return _grid(counts)
