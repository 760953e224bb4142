"""Writes to the dashboards' rollups: per account and day, what its posts gained
(`AccountDayTotal`, the sums of `PostDaily`), and per account and UTC hour, the posts
published then (`AccountHourPosts`, and its sums per UTC month and weekday-hour,
`AccountMonthHourPosts`).

All are kept by delta updates, one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`
per batch, in the transaction that writes what they sum (docs/decisions.md, "Analytics
rollups"): a gain that is negative (an unlike) subtracts, concurrent collectors add up
instead of overwriting each other, and a rolled-back write leaves no trace. `rebuild`
recomputes them from `PostDaily` and `TrackedPost` (the migration that made them, the
`rebuild_analytics_rollups` command, seeding).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.apps import apps as installed_apps
from django.db import connection, transaction
from django.db.models import Count, DateField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncHour,
    TruncMonth,
)

from chorus.analytics.models import (
    COUNTS,
    HOUR_COUNTS,
    AccountDayTotal,
    AccountHourPosts,
    AccountLanguage,
    AccountMonthHourPosts,
    TrackedPost,
)

DAY_FIELDS = (*COUNTS, "impressions")
HOUR_FIELDS = HOUR_COUNTS


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour `moment` falls in (an `AccountHourPosts.hour`)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def month_of(hour: datetime) -> date:
    """The first day of the UTC month of `hour` (an `AccountMonthHourPosts.month`)."""
    return hour.astimezone(UTC).date().replace(day=1)


def whole_hours(start: datetime, end: datetime | None) -> tuple[datetime, datetime | None, Q]:
    """[start, end) (None: no end) as whole UTC hours [first, last), read from
    `AccountHourPosts`, and the parts of hours at either end, a filter on posts'
    `published_at` (empty `Q()` when there are none). `first` is None when the whole
    range lies within one hour: the posts are read, `edges` covering it all."""
    first = hour_of(start)
    first += timedelta(hours=1) if first < start else timedelta(0)
    last = None if end is None else hour_of(end)
    if last is not None and last < first:
        return None, None, Q(published_at__gte=start, published_at__lt=end)
    edges = Q(published_at__gte=start, published_at__lt=first) if first > start else Q()
    if last is not None and end > last:
        edges |= Q(published_at__gte=last, published_at__lt=end)
    return first, last, edges


def engagements_of(post: TrackedPost) -> int:
    return sum(getattr(post, name) for name in COUNTS)


def _upsert(table: str, keys: tuple[str, ...], fields: tuple[str, ...], rows, sets) -> None:
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in (*keys, *fields))
    marks = "(" + ", ".join(["%s"] * (len(keys) + len(fields))) + ")"
    sql = (
        f"INSERT INTO {q(table)} ({columns}) VALUES {', '.join([marks] * len(rows))} "  # noqa: S608
        f"ON CONFLICT ({', '.join(q(k) for k in keys)}) DO UPDATE SET {', '.join(sets)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def add_day_gains(gains: dict[tuple[int, date], dict[str, int | None]]) -> None:
    """Add gains per (account, day) to `AccountDayTotal`: each count, and impressions when
    reported (absent or None: not reported, the total stays as it was)."""
    if not gains:
        return
    table = AccountDayTotal._meta.db_table
    q = connection.ops.quote_name
    rows = [
        (
            account_id,
            connection.ops.adapt_datefield_value(day),
            *(gained.get(name) or 0 for name in COUNTS),
            gained.get("impressions"),
        )
        for (account_id, day), gained in gains.items()
    ]
    sets = [f"{q(n)} = {q(table)}.{q(n)} + excluded.{q(n)}" for n in COUNTS]
    sets.append(
        f"{q('impressions')} = CASE WHEN excluded.{q('impressions')} IS NULL "
        f"THEN {q(table)}.{q('impressions')} "
        f"ELSE COALESCE({q(table)}.{q('impressions')}, 0) + excluded.{q('impressions')} END"
    )
    _upsert(table, ("account_id", "day"), DAY_FIELDS, rows, sets)


def add_hour_posts(deltas: dict[tuple[int, datetime], list[int]]) -> None:
    """Add to `AccountHourPosts` per (account, UTC hour), and to the `AccountMonthHourPosts`
    those hours fall in: posts, engagements, read posts and read posts' engagements (in
    HOUR_FIELDS order)."""
    if not deltas:
        return
    q = connection.ops.quote_name
    monthly: dict[tuple[int, date, int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (account_id, hour), values in deltas.items():
        utc = hour.astimezone(UTC)
        row = monthly[(account_id, month_of(utc), utc.weekday(), utc.hour)]
        for i, value in enumerate(values):
            row[i] += value
    for table, keys, rows in (
        (
            AccountHourPosts._meta.db_table,
            ("account_id", "hour"),
            [
                (account_id, connection.ops.adapt_datetimefield_value(hour), *values)
                for (account_id, hour), values in deltas.items()
            ],
        ),
        (
            AccountMonthHourPosts._meta.db_table,
            ("account_id", "month", "weekday", "hour"),
            [
                (account_id, connection.ops.adapt_datefield_value(month), weekday, hour, *values)
                for (account_id, month, weekday, hour), values in monthly.items()
            ],
        ),
    ):
        sets = [f"{q(n)} = {q(table)}.{q(n)} + excluded.{q(n)}" for n in HOUR_FIELDS]
        _upsert(table, keys, HOUR_FIELDS, rows, sets)


def add_posts(posts: Iterable[TrackedPost]) -> None:
    """Count newly tracked posts in their hours (with whatever counts they carry)."""
    deltas: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for post in posts:
        row = deltas[(post.account_id, hour_of(post.published_at))]
        engagements = engagements_of(post)
        read = post.collections > 0
        row[0] += 1
        row[1] += engagements
        row[2] += int(read)
        row[3] += engagements if read else 0
    add_hour_posts(deltas)


def add_languages(pairs: Iterable[tuple[int, str]]) -> None:
    """Note (account, language) pairs of newly tracked posts' variants (blank: none)."""
    rows = sorted({(account_id, language) for account_id, language in pairs if language})
    if rows:
        AccountLanguage.objects.bulk_create(
            [AccountLanguage(account_id=a, language=lang) for a, lang in rows],
            ignore_conflicts=True,
        )


def _insert_select(model, columns: list[str], rows: QuerySet) -> int:
    sql, params = rows.query.sql_with_params()
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for c in columns)}) {sql}",
            params,
        )
        return cursor.rowcount


def rebuild_languages(account_ids: Iterable[int] | None = None, *, apps=None) -> None:
    """Recompute `AccountLanguage` (of these accounts, or all) from the tracked posts'
    variants, one `INSERT … SELECT DISTINCT`."""
    get = (apps or installed_apps).get_model
    tracked, languages = get("analytics", "TrackedPost"), get("analytics", "AccountLanguage")
    only = {} if account_ids is None else {"account_id__in": list(account_ids)}
    with transaction.atomic():
        languages.objects.filter(**only).delete()
        _insert_select(
            languages,
            ["account_id", "language"],
            tracked.objects.filter(**only, variant__isnull=False)
            .exclude(variant__language="")
            .order_by()
            .values("account_id", "variant__language")
            .distinct(),
        )


def rebuild(account_ids: Iterable[int] | None = None, *, apps=None) -> tuple[int, int]:
    """Recompute the rollups from `PostDaily` and `TrackedPost` (of these accounts, or
    all), one `INSERT … SELECT` each (the months' from the hours'), and the accounts'
    languages (`AccountLanguage`); returns the rollup rows written (days, hours). Run it where
    no collection writes meanwhile (it replaces rows, it does not add to them). Rows are
    written in time order, as collection adds them, so a period's rows sit together on
    disk. `apps`: a migration's historical models."""
    get = (apps or installed_apps).get_model
    post_daily, tracked = get("analytics", "PostDaily"), get("analytics", "TrackedPost")
    day_totals = get("analytics", "AccountDayTotal")
    hour_posts = get("analytics", "AccountHourPosts")
    models = (apps or installed_apps).all_models["analytics"]
    account_ids = None if account_ids is None else list(account_ids)
    only = {} if account_ids is None else {"account_id__in": account_ids}
    engagements = sum((F(n) for n in COUNTS[1:]), F(COUNTS[0]))
    read = Q(collections__gt=0)
    with transaction.atomic():
        day_totals.objects.filter(**only).delete()
        hour_posts.objects.filter(**only).delete()
        if "accountlanguage" in models:
            rebuild_languages(account_ids, apps=apps)  # not before migration 0008
        days = _insert_select(
            day_totals,
            ["account_id", "day", *DAY_FIELDS],
            post_daily.objects.filter(**only)
            .order_by()
            .values("account_id", "day")
            .annotate(**{f"sum_{n}": Sum(n) for n in DAY_FIELDS})
            .order_by("day", "account_id"),
        )
        hours = _insert_select(
            hour_posts,
            ["account_id", "hour", *HOUR_FIELDS],
            tracked.objects.filter(**only)
            .order_by()
            .annotate(at=TruncHour("published_at", tzinfo=UTC))
            .values("account_id", "at")
            .annotate(
                n_posts=Count("pk"),
                n_engagements=Coalesce(Sum(engagements), Value(0)),
                n_read_posts=Count("pk", filter=read),
                n_read_engagements=Coalesce(Sum(engagements, filter=read), Value(0)),
            )
            .order_by("at", "account_id"),
        )
        if "accountmonthhourposts" in models:  # not before migration 0009
            rebuild_months(account_ids, apps=apps)
    return days, hours


def rebuild_months(account_ids: Iterable[int] | None = None, *, apps=None) -> int:
    """Recompute `AccountMonthHourPosts` (of these accounts, or all) from `AccountHourPosts`,
    one `INSERT … SELECT`; returns the rows written."""
    get = (apps or installed_apps).get_model
    hour_posts = get("analytics", "AccountHourPosts")
    month_posts = get("analytics", "AccountMonthHourPosts")
    only = {} if account_ids is None else {"account_id__in": list(account_ids)}
    with transaction.atomic():
        month_posts.objects.filter(**only).delete()
        return _insert_select(
            month_posts,
            ["account_id", "month", "weekday", "hour", *HOUR_FIELDS],
            hour_posts.objects.filter(**only)
            .order_by()
            .annotate(
                in_month=Cast(TruncMonth("hour", tzinfo=UTC), DateField()),
                utc_weekday=ExtractIsoWeekDay("hour", tzinfo=UTC) - 1,
                utc_hour=ExtractHour("hour", tzinfo=UTC),
            )
            .values("account_id", "in_month", "utc_weekday", "utc_hour")
            .annotate(**{f"sum_{n}": Sum(n) for n in HOUR_FIELDS})
            .order_by("in_month", "account_id"),
        )
