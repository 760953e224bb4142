"""Collecting figures from the networks: posts on a decaying schedule, accounts daily.

Every fetch first asks `networks.budgets.reserve_background` for its requests, so
collection shares each account's and server's budget with publishing and the inbox and
stops short of the share kept for publishing. A failed fetch writes nothing but the error
and a later retry: stored history is never overwritten. A post the network no longer has is
marked deleted and keeps its history.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from math import ceil

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chorus.analytics import rollups
from chorus.analytics.models import (
    COUNTS,
    AccountCollection,
    AccountDaily,
    PostDaily,
    PostSnapshot,
    TrackedPost,
)
from chorus.networks import budgets
from chorus.networks import services as network_services
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers import get_provider
from chorus.networks.providers.base import PostMetrics, Provider, ProviderError, RemoteRef
from chorus.publishing.models import Variant, VariantStatus

# After publishing: 1 hour, 6 hours, 1, 3, 7 and 30 days, then every 30 days.
SCHEDULE = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
MONTHLY = timedelta(days=30)
ACCOUNT_EVERY = timedelta(days=1)
BACKFILL_DAYS = 90  # posts older than this when first seen are never collected
BACKFILL_POSTS = 100  # at most this many of an account's own posts listed on connect
RETRY_AFTER_FAILURE = timedelta(minutes=30)
# A post absent from the network's answer is read again after this long, and counted as
# deleted when it is absent MISSING_BEFORE_DELETED times in a row.
RECHECK_ABSENT = timedelta(minutes=10)
MISSING_BEFORE_DELETED = 2
LEASE = timedelta(minutes=10)  # a claimed post is read within this, or claimed again
POSTS_PER_RUN = 200  # per account and run: one account never holds up the others
POSTS_PER_REQUEST = {"mastodon": 20, "bluesky": 25}  # the providers' batch sizes


def reading_due(published_at: datetime, step: int) -> datetime:
    """When the `step`-th reading (from 0) of a post published then is due."""
    if step < len(SCHEDULE):
        return published_at + SCHEDULE[step]
    return published_at + SCHEDULE[-1] + MONTHLY * (step - len(SCHEDULE) + 1)


def next_reading(published_at: datetime, now: datetime) -> datetime:
    """The first scheduled reading after `now` (steps already past are skipped)."""
    elapsed = now - published_at
    for step in SCHEDULE:
        if published_at + step > now:
            return published_at + step
    months = (elapsed - SCHEDULE[-1]) // MONTHLY + 1
    return published_at + SCHEDULE[-1] + MONTHLY * months


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(zoneinfo.ZoneInfo(zone or "UTC")).date()


@dataclass
class Outcome:
    """What one collection run did, for logs and benchmarks."""

    read: int = 0  # posts or accounts read
    deleted: int = 0  # posts found gone from the network
    deferred: int = 0  # waiting for budget
    failed: int = 0  # the network answered with an error
    requests: int = 0  # requests reserved
    errors: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        for name in ("read", "deleted", "deferred", "failed", "requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


# --------------------------------------------------------------------------- tracking


def track_published(*, now: datetime | None = None, account: SocialAccount | None = None) -> int:
    """Start collecting every published variant not yet tracked (published within the
    backfill window), and stop for variants deleted from the network through Chorus."""
    now = now or timezone.now()
    variants = Variant.objects.filter(
        status=VariantStatus.PUBLISHED,
        tracked__isnull=True,
        published_at__gte=now - timedelta(days=BACKFILL_DAYS),
    ).exclude(remote_id="")
    if account is not None:
        variants = variants.filter(account=account)
    created = 0
    fields = ("pk", "account_id", "remote_id", "remote_url", "published_at", "language")
    for variant in variants.only(*fields):
        try:
            with transaction.atomic():
                post = TrackedPost.objects.create(
                    account_id=variant.account_id,
                    variant=variant,
                    remote_id=variant.remote_id,
                    url=variant.remote_url,
                    published_at=variant.published_at,
                    next_collect_at=reading_due(variant.published_at, 0),
                )
                rollups.add_posts([post])
                rollups.add_languages([(variant.account_id, variant.language)])
            created += 1
        except IntegrityError:  # tracked meanwhile (backfill found it first): link it
            with transaction.atomic():
                linked = TrackedPost.objects.filter(
                    account_id=variant.account_id,
                    remote_id=variant.remote_id,
                    variant__isnull=True,
                ).update(variant=variant)
                if linked:
                    rollups.add_languages([(variant.account_id, variant.language)])
    TrackedPost.objects.filter(
        variant__status=VariantStatus.DELETED, deleted_at__isnull=True
    ).update(deleted_at=now, next_collect_at=None)
    return created


def backfill(*, account: SocialAccount, now: datetime | None = None) -> int:
    """On connecting an account: track its recent posts made with Chorus and, where its
    network lists an account's own posts, its other recent posts too (bounded by
    BACKFILL_POSTS and BACKFILL_DAYS). Returns how many posts were newly tracked."""
    now = now or timezone.now()
    created = track_published(now=now, account=account)
    state, _ = AccountCollection.objects.get_or_create(account=account)
    state.next_collect_at = now  # read its followers at the next run
    fields = ["next_collect_at"]
    if _lists_own_posts(account) and account.status == AccountStatus.ACTIVE:
        retry = budgets.reserve_background(account, 1, now)
        if retry is None:
            try:
                with network_services.provider_for(account) as provider:
                    found = provider.fetch_own_posts(limit=BACKFILL_POSTS)
            except ProviderError as exc:
                state.last_error, state.last_error_at = exc.message[:2000], now
                fields += ["last_error", "last_error_at"]
            else:
                created += _track_found(account, found, now)
                state.backfilled_at = now
                fields.append("backfilled_at")
    else:
        state.backfilled_at = now
        fields.append("backfilled_at")
    state.save(update_fields=fields)
    return created


def _lists_own_posts(account: SocialAccount) -> bool:
    return get_provider(account.provider).fetch_own_posts is not Provider.fetch_own_posts


def _track_found(account: SocialAccount, found, now: datetime) -> int:
    known = set(TrackedPost.objects.filter(account=account).values_list("remote_id", flat=True))
    created = 0
    for published in found[:BACKFILL_POSTS]:
        at = published.published_at or now
        if published.ref.remote_id in known or at < now - timedelta(days=BACKFILL_DAYS):
            continue
        variant = Variant.objects.filter(
            account=account, remote_id=published.ref.remote_id, tracked__isnull=True
        ).first()
        with transaction.atomic():
            post = TrackedPost.objects.create(
                account=account,
                variant=variant,
                remote_id=published.ref.remote_id,
                url=published.ref.url,
                text=published.ref.extra.get("text", "")[:5000],
                published_at=at,
                next_collect_at=reading_due(at, 0),
            )
            rollups.add_posts([post])
            if variant is not None:
                rollups.add_languages([(account.pk, variant.language)])
        known.add(published.ref.remote_id)
        created += 1
    return created


# --------------------------------------------------------------------------- posts


def collect_posts(*, now: datetime | None = None) -> Outcome:
    """Read every post whose reading is due, account by account, within budgets."""
    now = now or timezone.now()
    outcome = Outcome()
    due = TrackedPost.objects.filter(next_collect_at__lte=now, account__status=AccountStatus.ACTIVE)
    account_ids = sorted(set(due.values_list("account_id", flat=True)))
    for account in SocialAccount.objects.filter(pk__in=account_ids).select_related("workspace"):
        posts = _claim(due.filter(account=account), now)
        outcome.add(collect_account_posts(account=account, posts=posts, now=now))
    return outcome


def _claim(due, now: datetime) -> list[TrackedPost]:
    """Take up to POSTS_PER_RUN due posts for this run: their next reading moves LEASE
    ahead, so a second collector running meanwhile leaves them alone (and a collector
    that dies mid-way leaves them due again soon)."""
    with transaction.atomic():
        posts = list(
            due.order_by("next_collect_at").select_for_update(skip_locked=True)[:POSTS_PER_RUN]
        )
        TrackedPost.objects.filter(pk__in=[p.pk for p in posts]).update(next_collect_at=now + LEASE)
    return posts


def collect_account_posts(
    *, account: SocialAccount, posts: list[TrackedPost], now: datetime
) -> Outcome:
    """One batched reading of these posts of one account."""
    outcome = Outcome()
    if not posts:
        return outcome
    requests = ceil(len(posts) / POSTS_PER_REQUEST.get(account.provider, 20))
    retry = budgets.reserve_background(account, requests, now)
    ids = [p.pk for p in posts]
    if retry is not None:
        TrackedPost.objects.filter(pk__in=ids).update(next_collect_at=retry)
        outcome.deferred = len(posts)
        return outcome
    outcome.requests = requests
    try:
        with network_services.provider_for(account) as provider:
            metrics = provider.fetch_post_metrics(
                [RemoteRef(remote_id=p.remote_id, url=p.url) for p in posts]
            )
    except ProviderError as exc:
        retry_at = now + max(RETRY_AFTER_FAILURE, timedelta(seconds=getattr(exc, "retry_after", 0)))
        TrackedPost.objects.filter(pk__in=ids).update(
            next_collect_at=retry_at, last_error=exc.message[:2000]
        )
        outcome.failed = len(posts)
        outcome.errors.append(exc.message)
        return outcome
    by_remote = {m.ref.remote_id: m for m in metrics}
    absent = [p for p in posts if p.remote_id not in by_remote]
    # A post the network does not return may be gone, or not yet indexed (a Bluesky AppView
    # serves a new post seconds after the PDS took it): deleted only when absent again.
    gone = [p for p in absent if p.missing_readings + 1 >= MISSING_BEFORE_DELETED]
    with transaction.atomic():
        if gone:
            TrackedPost.objects.filter(pk__in=[p.pk for p in gone]).update(
                deleted_at=now, next_collect_at=None, missing_readings=F("missing_readings") + 1
            )
        if len(absent) > len(gone):
            TrackedPost.objects.filter(pk__in=[p.pk for p in absent if p not in gone]).update(
                next_collect_at=now + RECHECK_ABSENT, missing_readings=F("missing_readings") + 1
            )
        read = [(p, by_remote[p.remote_id]) for p in posts if p.remote_id in by_remote]
        TrackedPost.objects.filter(pk__in=[p.pk for p, _m in read], missing_readings__gt=0).update(
            missing_readings=0
        )
        record_readings(read, now=now, zone=account.workspace.timezone)
    outcome.deleted, outcome.read = len(gone), len(read)
    return outcome


POST_FIELDS = (
    *COUNTS,
    "impressions",
    "collections",
    "last_collected_at",
    "last_error",
    "next_collect_at",
)


def record_readings(
    readings: list[tuple[TrackedPost, PostMetrics]], *, now: datetime, zone: str
) -> None:
    """Store a batch of readings in a fixed number of queries: a snapshot of each as
    reported, each post's gains on the day, and its latest counts.

    A post's first reading is credited to the day it was published (its counts accrued
    since then); each later one to the day it was taken. The rollups get the same gains
    in the same transaction (`rollups`).
    """
    with transaction.atomic():
        _record_readings(readings, now=now, zone=zone)


def _record_readings(readings, *, now: datetime, zone: str) -> None:
    snapshots, gains = [], {}
    hours: dict[tuple[int, datetime], list[int]] = {}
    for post, reading in readings:
        values = {name: int(getattr(reading, name)) for name in COUNTS}
        impressions = reading.extra.get("impressions")
        extra = {k: v for k, v in reading.extra.items() if k != "impressions"}
        snapshots.append(
            PostSnapshot(
                post=post, collected_at=now, impressions=impressions, extra=extra, **values
            )
        )
        first = post.collections == 0
        day = local_day(post.published_at if first else now, zone)
        gained = {name: values[name] - (0 if first else getattr(post, name)) for name in COUNTS}
        if impressions is not None:
            before = 0 if first or post.impressions is None else post.impressions
            gained["impressions"] = impressions - before
        gains[(post.pk, day)] = (post.account_id, gained)
        had, has = rollups.engagements_of(post), sum(values.values())
        hour = hours.setdefault((post.account_id, rollups.hour_of(post.published_at)), [0] * 4)
        hour[1] += has - had
        hour[2] += int(first)
        hour[3] += has - (0 if first else had)
        for name, value in values.items():
            setattr(post, name, value)
        post.impressions = impressions
        post.collections += 1
        post.last_collected_at = now
        post.last_error = ""
        post.next_collect_at = next_reading(post.published_at, now)
    PostSnapshot.objects.bulk_create(snapshots)
    day_gains: dict[tuple[int, date], dict[str, int]] = {}
    for (_post_id, day), (account_id, gained) in gains.items():
        total = day_gains.setdefault((account_id, day), {})
        for name, value in gained.items():
            total[name] = total.get(name, 0) + value
    existing = {
        (row.post_id, row.day): row
        for row in PostDaily.objects.filter(
            post_id__in=[post_id for post_id, _day in gains],
            day__in={day for _post, day in gains},
        )
    }
    new, changed = [], []
    for (post_id, day), (account_id, gained) in gains.items():
        row = existing.get((post_id, day))
        if row is None:
            new.append(PostDaily(post_id=post_id, account_id=account_id, day=day, **gained))
            continue
        for name, value in gained.items():
            setattr(row, name, (getattr(row, name) or 0) + value)
        changed.append(row)
    PostDaily.objects.bulk_create(new)
    # One small UPDATE per row: Django's bulk_update builds a CASE per field and row,
    # which costs more than the round trips it saves (bench/analytics.py).
    for row in changed:
        PostDaily.objects.filter(pk=row.pk).update(
            **{name: getattr(row, name) for name in (*COUNTS, "impressions")}
        )
    for post, _reading in readings:
        TrackedPost.objects.filter(pk=post.pk).update(
            **{name: getattr(post, name) for name in POST_FIELDS}
        )
    rollups.add_day_gains(day_gains)
    rollups.add_hour_posts(hours)


# --------------------------------------------------------------------------- accounts


def collect_accounts(*, now: datetime | None = None) -> Outcome:
    """Read followers, following and posts of every connected account due for it (daily)."""
    now = now or timezone.now()
    outcome = Outcome()
    accounts = SocialAccount.objects.filter(status=AccountStatus.ACTIVE).select_related(
        "workspace", "analytics_collection"
    )
    for account in accounts:
        state = getattr(account, "analytics_collection", None)
        if state is not None and state.next_collect_at and state.next_collect_at > now:
            continue
        outcome.add(collect_account(account=account, now=now))
    return outcome


def collect_account(*, account: SocialAccount, now: datetime) -> Outcome:
    outcome = Outcome()
    state, _ = AccountCollection.objects.get_or_create(account=account)
    retry = budgets.reserve_background(account, 1, now)
    if retry is not None:
        state.next_collect_at = retry
        state.save(update_fields=["next_collect_at"])
        outcome.deferred = 1
        return outcome
    outcome.requests = 1
    try:
        with network_services.provider_for(account) as provider:
            metrics = provider.fetch_account_metrics()
    except ProviderError as exc:
        state.last_error, state.last_error_at = exc.message[:2000], now
        state.next_collect_at = now + RETRY_AFTER_FAILURE
        state.save(update_fields=["last_error", "last_error_at", "next_collect_at"])
        outcome.failed = 1
        outcome.errors.append(exc.message)
        return outcome
    AccountDaily.objects.update_or_create(
        account=account,
        day=local_day(now, account.workspace.timezone),
        defaults={
            "followers": metrics.followers,
            "following": metrics.following,
            "posts": metrics.posts,
            "collected_at": now,
        },
    )
    state.next_collect_at = now + ACCOUNT_EVERY
    state.last_error = ""
    state.save(update_fields=["next_collect_at", "last_error"])
    outcome.read = 1
    return outcome


def collect_all(*, now: datetime | None = None) -> Outcome:
    """One pass: track new posts, read due posts, read due accounts."""
    now = now or timezone.now()
    track_published(now=now)
    outcome = collect_posts(now=now)
    outcome.add(collect_accounts(now=now))
    return outcome
