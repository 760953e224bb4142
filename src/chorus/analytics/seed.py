"""Plausible collected history for accounts, written in bulk: for benchmarks at volume and
for trying the dashboards on a fresh install. Rows look exactly like collected ones."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chorus.analytics import rollups
from chorus.analytics.collection import local_day, next_reading
from chorus.analytics.models import AccountDaily, PostDaily, PostSnapshot, TrackedPost
from chorus.networks.models import SocialAccount

BATCH = 2000
QUEUE_HOURS = (8, 9, 10, 12, 13, 17, 18, 19, 20)


def queued_moment(now: datetime, zone: str, days_ago: int, hour: int, rng) -> datetime:
    """A minute of `hour` on the local day `days_ago` days before `now`."""
    day = local_day(now - timedelta(days=days_ago), zone)
    return datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=ZoneInfo(zone))


def seed_history(
    accounts: list[SocialAccount],
    *,
    posts_per_account: int,
    days: int,
    now: datetime,
    zone: str = "UTC",
    seed: int = 7,
    queue_hours: int | None = None,
) -> int:
    """Posts spread over the last `days`, each with three readings and their daily gains,
    and each account's followers every day; then those accounts' rollups are recomputed.
    With `queue_hours`, each account posts at that many recurring hours of the day in `zone`
    (a queue's slots, as most brands post), so the same posts share a weekday-hour cell
    whatever the day the history is seeded. Returns the number of PostDaily rows written."""
    rng = random.Random(seed)
    written = 0
    for account in accounts:
        hours = rng.sample(QUEUE_HOURS, queue_hours) if queue_hours else None
        followers = rng.randint(200, 20_000)
        AccountDaily.objects.bulk_create(
            [
                AccountDaily(
                    account=account,
                    day=local_day(now - timedelta(days=d), zone),
                    followers=(followers := max(0, followers + rng.randint(-3, 12))),
                    following=150,
                    posts=posts_per_account,
                    collected_at=now - timedelta(days=d),
                )
                for d in range(days, -1, -1)
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        posts = [
            TrackedPost(
                account=account,
                remote_id=f"seed-{account.pk}-{i}",
                text=f"Seeded post {i}",
                published_at=(
                    queued_moment(now, zone, rng.randint(1, days), rng.choice(hours), rng)
                    if hours
                    else now - timedelta(minutes=rng.randint(60, days * 1440))
                ),
            )
            for i in range(posts_per_account)
        ]
        for post in posts:
            quality = rng.random() * (2 if 8 <= post.published_at.hour <= 11 else 1)
            post.likes = int(quality * rng.randint(0, 40))
            post.reposts = int(quality * rng.randint(0, 10))
            post.replies = int(quality * rng.randint(0, 6))
            post.quotes = int(quality * rng.randint(0, 2))
            post.collections = 3
            post.last_collected_at = now
            post.next_collect_at = next_reading(post.published_at, now)
        TrackedPost.objects.bulk_create(posts, batch_size=BATCH)
        posts = list(TrackedPost.objects.filter(account=account, remote_id__startswith="seed-"))
        daily, snapshots = [], []
        for post in posts:
            age = (now - post.published_at).days
            shares = (0.7, 0.2, 0.1)
            offsets = sorted({0, min(1, age), min(3, age)})
            for offset, share in zip(offsets, shares, strict=False):
                at = post.published_at + timedelta(days=offset)
                daily.append(
                    PostDaily(
                        post=post,
                        account=account,
                        day=local_day(at, zone),
                        likes=round(post.likes * share),
                        reposts=round(post.reposts * share),
                        replies=round(post.replies * share),
                        quotes=round(post.quotes * share),
                    )
                )
            snapshots.append(
                PostSnapshot(
                    post=post,
                    collected_at=now,
                    likes=post.likes,
                    reposts=post.reposts,
                    replies=post.replies,
                    quotes=post.quotes,
                )
            )
        PostDaily.objects.bulk_create(daily, batch_size=BATCH, ignore_conflicts=True)
        PostSnapshot.objects.bulk_create(snapshots, batch_size=BATCH)
        written += len(daily)
    rollups.rebuild([a.pk for a in accounts])
    return written
