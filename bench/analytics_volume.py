"""Seeding collected history at the issue's volume (1,000,000 posts, 10,000,000 metric rows)
in minutes: the database generates the rows itself with one INSERT ... SELECT per table
(`generate_series` on PostgreSQL, a recursive CTE on SQLite), so no row crosses into Python.

Each post gets the readings of the decaying schedule that are already past (1 h, 6 h, 1 d,
3 d, 7 d, 30 d, 60 d: one `PostSnapshot` each) and its gains on the day it was published
and 1, 3, 7 and 30 days later (one `PostDaily` each); each account a follower count per
day. Counts are random, shares of the post's lifetime counts, as collection would store.
The dashboards' rollups are then computed from those rows (`rollups.rebuild`).
"""

from __future__ import annotations

from datetime import datetime

READINGS = ((1, 0.3), (6, 0.5), (24, 0.7), (72, 0.85), (168, 0.95), (720, 1.0), (1440, 1.0))
GAINS = ((0, 0.6), (1, 0.2), (3, 0.1), (7, 0.06), (30, 0.04))
COUNTS = ("likes", "reposts", "replies", "quotes")
TOPS = (40, 10, 6, 2)  # each count is random below this


def _values(pairs) -> str:
    return ", ".join(f"({a}, {b})" for a, b in pairs)


def _scaled(share: str) -> str:
    return ", ".join(f"CAST(round(p.{n} * {share}) AS INTEGER)" for n in COUNTS)


def seed_postgres(cursor, account_ids: list[int], *, posts: int, days: int, now: datetime):
    random_counts = ", ".join(f"floor(random() * {top})::int" for top in TOPS)
    # Django's foreign keys are checked at commit, one trigger per row: minutes for 10M rows
    # that are consistent by construction. This session skips those triggers while seeding.
    cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute("SELECT setseed(0.7)")
    cursor.execute(
        f"""
        INSERT INTO analytics_trackedpost (account_id, remote_id, url, text, published_at,
            next_collect_at, collections, last_collected_at, last_error, missing_readings,
            {", ".join(COUNTS)})
        SELECT a.id, 'seed-' || a.id || '-' || g, '', 'Seeded post ' || g,
            %(now)s - (60 + floor(random() * %(minutes)s)) * interval '1 minute',
            %(now)s + interval '30 days', 7, %(now)s, '', 0, {random_counts}
        FROM unnest(%(accounts)s::bigint[]) AS a(id) CROSS JOIN generate_series(1, %(posts)s) g
        """,
        {"now": now, "minutes": days * 1440 - 60, "accounts": account_ids, "posts": posts},
    )
    cursor.execute(
        f"""
        INSERT INTO analytics_postsnapshot (post_id, collected_at, {", ".join(COUNTS)}, extra)
        SELECT p.id, p.published_at + o.h * interval '1 hour', {_scaled("o.s")}, '{{}}'::jsonb
        FROM analytics_trackedpost p CROSS JOIN (VALUES {_values(READINGS)}) AS o(h, s)
        WHERE p.published_at + o.h * interval '1 hour' <= %(now)s
        """,
        {"now": now},
    )
    cursor.execute(
        f"""
        INSERT INTO analytics_postdaily (post_id, account_id, day, {", ".join(COUNTS)})
        SELECT p.id, p.account_id,
            ((p.published_at AT TIME ZONE 'UTC') + o.d * interval '1 day')::date, {_scaled("o.s")}
        FROM analytics_trackedpost p CROSS JOIN (VALUES {_values(GAINS)}) AS o(d, s)
        WHERE p.published_at + o.d * interval '1 day' <= %(now)s
        """,
        {"now": now},
    )
    cursor.execute(
        """
        INSERT INTO analytics_accountdaily (account_id, day, followers, following, posts,
            collected_at)
        SELECT a.id, (%(now)s AT TIME ZONE 'UTC')::date - d, 5000 + a.id * 10 - d * 3, 150,
            %(posts)s, %(now)s - d * interval '1 day'
        FROM unnest(%(accounts)s::bigint[]) AS a(id) CROSS JOIN generate_series(0, %(days)s) d
        """,
        {"now": now, "posts": posts, "days": days, "accounts": account_ids},
    )


def seed_sqlite(cursor, account_ids: list[int], *, posts: int, days: int, now: datetime):
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    accounts = ", ".join(str(int(i)) for i in account_ids)
    random_counts = ", ".join(f"abs(random()) % {top}" for top in TOPS)
    when = "strftime('%Y-%m-%d %H:%M:%f', p.published_at, '+' || o.{0} || ' {1}')"
    cursor.execute(
        f"""
        WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {int(posts)})
        INSERT INTO analytics_trackedpost (account_id, remote_id, url, text, published_at,
            next_collect_at, collections, last_collected_at, last_error, missing_readings,
            {", ".join(COUNTS)})
        SELECT a.id, 'seed-' || a.id || '-' || g.i, '', 'Seeded post ' || g.i,
            strftime('%Y-%m-%d %H:%M:%f', '{stamp}',
                     '-' || (60 + abs(random()) % {days * 1440 - 60}) || ' minutes'),
            strftime('%Y-%m-%d %H:%M:%f', '{stamp}', '+30 days'), 7, '{stamp}', '', 0,
            {random_counts}
        FROM networks_socialaccount a CROSS JOIN g WHERE a.id IN ({accounts})
        """
    )
    cursor.execute(
        f"""
        INSERT INTO analytics_postsnapshot (post_id, collected_at, {", ".join(COUNTS)}, extra)
        SELECT p.id, {when.format("h", "hours")}, {_scaled("o.s")}, '{{}}'
        FROM analytics_trackedpost p
        CROSS JOIN (SELECT column1 AS h, column2 AS s FROM (VALUES {_values(READINGS)})) o
        WHERE {when.format("h", "hours")} <= '{stamp}'
        """
    )
    cursor.execute(
        f"""
        INSERT INTO analytics_postdaily (post_id, account_id, day, {", ".join(COUNTS)})
        SELECT p.id, p.account_id, date(p.published_at, '+' || o.d || ' days'), {_scaled("o.s")}
        FROM analytics_trackedpost p
        CROSS JOIN (SELECT column1 AS d, column2 AS s FROM (VALUES {_values(GAINS)})) o
        WHERE {when.format("d", "days")} <= '{stamp}'
        """
    )
    cursor.execute(
        f"""
        WITH RECURSIVE g(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM g WHERE d < {int(days)})
        INSERT INTO analytics_accountdaily (account_id, day, followers, following, posts,
            collected_at)
        SELECT a.id, date('{stamp}', '-' || g.d || ' days'), 5000 + a.id * 10 - g.d * 3, 150,
            {int(posts)}, strftime('%Y-%m-%d %H:%M:%f', '{stamp}', '-' || g.d || ' days')
        FROM networks_socialaccount a CROSS JOIN g WHERE a.id IN ({accounts})
        """
    )


def seed_volume(account_ids: list[int], *, posts: int, days: int, now: datetime) -> None:
    """`posts` tracked posts per account over the last `days` days, with their readings."""
    from django.db import connection, transaction

    from chorus.analytics import rollups

    seed = seed_postgres if connection.vendor == "postgresql" else seed_sqlite
    with transaction.atomic(), connection.cursor() as cursor:
        seed(cursor, account_ids, posts=posts, days=days, now=now)
        rollups.rebuild(account_ids)
        cursor.execute("ANALYZE")
