"""The dispatcher: publishes every due variant exactly once, on time.

How it keeps that promise:

- **The database decides.** A variant is due when `status=scheduled` and `due_at <= now`.
  Dispatchers claim due rows in batches inside one short transaction (`SELECT … FOR UPDATE
  SKIP LOCKED` on PostgreSQL, so any number of dispatchers on any number of machines share
  the work; SQLite serialises writers). Claiming sets `status=publishing`, a lease and a
  `PublishAttempt` row, all committed before the network is called.
- **A crash is recoverable without duplicates.** A dispatcher that dies leaves its rows in
  `publishing` with a lease that runs out; the next claim takes them again. Every network
  call carries the variant's idempotency key (Mastodon's Idempotency-Key header, a
  deterministic Bluesky record key), and exactly-once does not rest on the server keeping
  that promise: after any uncertain outcome (a timeout or lost answer, recorded as a
  transient failure, or a lease taken over) the retry first asks the network for the post
  already made (`Provider.find_published`, from the time of the first uncertain attempt,
  leaving out ids recorded for other posts) and records that copy; it sends only when the
  network confirms there is none.
- **Checks at send time.** Inside the claim, moments before sending, it re-checks that the
  post is still scheduled and approved where approval is required, the account connected,
  the author still allowed to use the account, and that the post is not later than the late
  cutoff (otherwise it is held and the author told). Unscheduling a claimed post is refused
  ("being published right now"), so nothing changes between that check and the send.
- **The caller owns retries.** Providers raise typed errors; here `RateLimited` waits for
  the network's Retry-After (and holds the whole account until then), `Transient` backs off
  exponentially, `AuthExpired` marks the account and its posts needs-reconnect,
  `Rejected` fails the variant with the network's reason.
- **Quotas.** An account whose network-reported budget is spent, or whose server's shared
  budget is (`networks.budgets`), is not claimed until the window resets.
- **Throughput.** Claims and results are written in batches by their own threads; the
  network calls of every claimed variant run concurrently on one event loop (the providers'
  code in greenlets, aiohttp underneath: `networks.providers.aio`), so a top-of-the-hour
  burst is limited by the networks' latency, not by database round trips or a thread per
  request. In a burst, claims wait briefly for a worthwhile batch and resume the due scan
  where the last one stopped (see `claim`), so each claim's cost stays flat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.core import crypto
from chorus.networks import budgets
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers import get_provider
from chorus.networks.providers.aio import AsyncHTTP, LoopClient, run_to_completion
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    ProviderError,
    RateLimited,
    Rejected,
)
from chorus.publishing import hooks
from chorus.publishing.claiming import (
    authors_allowed,
    charge_further_requests,
    db_value,
    lock_rows,
    policy_blocked,
    recorded_ids,
    start_attempts,
    uncertain_attempts,
    walk_indexes_in_order,
    within_server_budgets,
)
from chorus.publishing.models import (
    AttemptOutcome,
    Post,
    PostState,
    PublishAttempt,
    Variant,
    VariantMedia,
    VariantStatus,
)
from chorus.publishing.sending import Outcome, Work, send_parts

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RESCAN_EVERY = timedelta(seconds=5)
GATHER_SECONDS = 0.05  # a claim in a burst waits this long for a worthwhile batch
HEALTH_PRECISION = timedelta(minutes=1)  # how stale an account's "last success" may be
BACKOFF_MAX_SECONDS = 15 * 60


@dataclass(frozen=True)
class Resume:
    """Where the last full claim stopped in the due rows, and when to rescan from the start."""

    due_at: datetime
    pk: int
    until: datetime


# An account's tokens are decrypted once per process, not once per post: a burst sends
# several posts per account, and Fernet is about a tenth of a claim's cost per row.
# Keyed by the ciphertext, so renewed or re-encrypted tokens are decrypted afresh.
_decrypted = lru_cache(maxsize=50_000)(crypto.decrypt)


def backoff_seconds(attempt: int) -> float:
    """15 s, 30 s, 60 s… (CHORUS_DISPATCH_BACKOFF_SECONDS) capped at 15 min, with jitter
    so retries do not stampede."""
    first = settings.CHORUS_DISPATCH_BACKOFF_SECONDS
    base = min(first * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS)
    return base * random.uniform(0.8, 1.2)


class Dispatcher:
    """Claims due variants and publishes them; run one or many, anywhere."""

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        batch_size: int = 250,
        lookahead: timedelta = timedelta(seconds=1),
        lease: timedelta | None = None,
        poll_interval: float = 0.2,
        late_cutoff: timedelta | None = None,
    ):
        self.concurrency = concurrency or settings.CHORUS_DISPATCH_CONCURRENCY
        self.batch_size = batch_size
        self.lookahead = lookahead
        self.lease = lease or timedelta(seconds=settings.CHORUS_DISPATCH_LEASE_SECONDS)
        self.poll_interval = poll_interval
        self.late_cutoff = late_cutoff or timedelta(seconds=settings.CHORUS_LATE_CUTOFF_SECONDS)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._account_pause: dict[int, datetime] = {}  # account -> not before (rate limits)
        self._resume_after: Resume | None = None
        self._pause_lock = threading.Lock()

    # ------------------------------------------------------------------ claiming

    def claim(self, *, now: datetime | None = None, limit: int | None = None) -> list[Work]:
        """Claim due (or abandoned) variants, recording an attempt for each, and commit."""
        now = now or timezone.now()
        limit = limit or self.batch_size
        horizon = now + self.lookahead
        waiting = Q(rate_remaining=0, rate_reset_at__gt=now)  # their own budget is spent
        for provider, server in budgets.spent_servers(now):  # or their server's
            waiting |= Q(provider=provider, server=server)
        abandoned = Variant.objects.filter(
            status=VariantStatus.PUBLISHING, lease_until__lt=now
        ).order_by("lease_until")
        due = (
            Variant.objects.filter(status=VariantStatus.SCHEDULED, due_at__lte=horizon)
            .exclude(account__in=SocialAccount.objects.filter(waiting))
            .order_by("due_at", "pk")
        )
        resume = (
            self._resume_after if self._resume_after and now < self._resume_after.until else None
        )
        if resume:
            table = connection.ops.quote_name(Variant._meta.db_table)
            due = due.filter(
                RawSQL(  # noqa: S611 (table name from the model, values as parameters)
                    f"({table}.due_at, {table}.id) > (%s, %s)",  # noqa: S608
                    (db_value(Variant, "due_at", resume.due_at), resume.pk),
                    output_field=BooleanField(),
                )
            )
        with transaction.atomic(), walk_indexes_in_order():
            recovered = lock_rows(abandoned, limit)
            fresh = lock_rows(due, limit - len(recovered))
            # Claimed rows leave dead index entries at the head of the due range until
            # vacuum, so scanning from the start on every claim made a burst quadratic.
            # While scans fill their batch, the next one resumes after the last row; a
            # short batch, or RESCAN_EVERY, starts from the beginning again, so a row a
            # resumed scan passed over (a retry due earlier, a rolled-back claim) waits
            # seconds at most.
            full = bool(fresh) and len(fresh) == limit - len(recovered)
            self._resume_after = (
                Resume(fresh[-1][3], fresh[-1][0], resume.until if resume else now + RESCAN_EVERY)
                if full
                else None
            )
            claimed = within_server_budgets(recovered + fresh, now)
            if not claimed:
                return []
            ids = list(claimed)
            Variant.objects.filter(pk__in=ids).update(
                status=VariantStatus.PUBLISHING,
                lease_until=now + self.lease,
                claimed_at=now,
                attempts=F("attempts") + 1,
            )
            variants = list(Variant.objects.filter(pk__in=ids).select_related("post", "account"))
            hooks.before_send(variants)  # e.g. tracked short links (chorus.links)
            attempts = start_attempts(ids, now, self.worker)
            media: dict[int, list[VariantMedia]] = {}
            for item in VariantMedia.objects.filter(variant_id__in=ids).select_related("asset"):
                media.setdefault(item.variant_id, []).append(item)
            charge_further_requests(variants, media)
        credentials = self._credentials({v.account for v in variants})
        allowed = authors_allowed(variants)
        blocked = policy_blocked(variants)
        earlier = uncertain_attempts(variants, attempts)
        recorded = recorded_ids(variants, earlier)
        work = []
        for variant in variants:
            failures, since = earlier.get(variant.pk, (0, None))
            item = Work(
                variant,
                attempts[variant.pk],
                credentials.get(variant.account_id),
                media=media.get(variant.pk, []),
                failures=failures,
                reconcile_since=since,
                recorded=recorded.get(variant.pk, frozenset()),
            )
            item.refusal = self.refusal(
                item,
                now,
                author_allowed=variant.pk in allowed,
                recovering=claimed[variant.pk] == VariantStatus.PUBLISHING,
                policy_violation=blocked.get(variant.pk, ""),
            )
            work.append(item)
        return work

    @staticmethod
    def _credentials(accounts: set[SocialAccount]) -> dict[int, Credentials]:
        creds = {}
        for account in accounts:
            if account.status != AccountStatus.ACTIVE or not account.secrets_encrypted:
                continue
            try:
                secrets = json.loads(_decrypted(account.secrets_encrypted))
            except crypto.DecryptionFailed:  # a key was dropped too soon: reconnecting mends it
                log.error("the tokens of account %s cannot be decrypted", account.pk)
                continue
            creds[account.pk] = Credentials(identity=dict(account.identity), secrets=secrets)
        return creds

    # ------------------------------------------------------------------ publishing

    def refusal(
        self,
        work: Work,
        now: datetime,
        *,
        author_allowed: bool,
        recovering: bool,
        policy_violation: str = "",
    ) -> Outcome | None:
        """Why this variant must not go out, or None.

        Decided inside the claim's transaction, from rows it has just locked: that is the
        last moment before sending (a claimed variant is sent at once, or within the
        lookahead), and it keeps the sending threads free of database work.
        """
        variant, post = work.variant, work.variant.post
        held = {"variant_id": variant.pk, "attempt_id": work.attempt_id}
        if post.needs_approval:  # the final guard: never out without its approval
            return Outcome(
                **held,
                outcome=AttemptOutcome.HELD,
                status=VariantStatus.HELD,
                error=_("Held: the post needs approval and is not approved (%(status)s).")
                % {"status": post.get_approval_status_display()},
            )
        if post.state != PostState.SCHEDULED:
            return Outcome(
                **held,
                outcome=AttemptOutcome.HELD,
                status=VariantStatus.DRAFT
                if post.state == PostState.DRAFT
                else VariantStatus.CANCELLED,
                error=_("The post is no longer scheduled."),
            )
        if variant.account.status != AccountStatus.ACTIVE or work.credentials is None:
            return Outcome(
                **held,
                outcome=AttemptOutcome.AUTH_EXPIRED,
                status=VariantStatus.NEEDS_RECONNECT,
                error=_("Reconnect %(handle)s to publish.") % {"handle": variant.account.handle},
            )
        if not author_allowed:
            return Outcome(
                **held,
                outcome=AttemptOutcome.HELD,
                status=VariantStatus.HELD,
                error=_("The author may no longer publish as %(handle)s.")
                % {"handle": variant.account.handle},
            )
        if policy_violation and not recovering:
            return Outcome(
                **held,
                outcome=AttemptOutcome.HELD,
                status=VariantStatus.HELD,
                error=_("Held by a compliance policy: %(why)s") % {"why": policy_violation},
            )
        scheduled = variant.scheduled_at or variant.due_at
        if not recovering and scheduled and now - scheduled > self.late_cutoff:
            return Outcome(
                **held,
                outcome=AttemptOutcome.HELD,
                status=VariantStatus.HELD,
                error=_("Held: it was due at %(time)s and is now too late to post unattended.")
                % {"time": timezone.localtime(scheduled).strftime("%Y-%m-%d %H:%M %Z")},
            )
        return None

    def delay(self, work: Work) -> float:
        """Seconds to wait before sending: the claim looks a moment ahead of due times."""
        due = work.variant.due_at
        if work.refusal or due is None:
            return 0.0
        now = max(timezone.now(), work.variant.claimed_at)  # a test may claim "in the future"
        return min(max((due - now).total_seconds(), 0.0), self.lookahead.total_seconds())

    def publish(self, work: Work, http: LoopClient) -> Outcome:
        """Send one variant (all its parts) to its network; never raises.

        Runs inside `AsyncHTTP.call` (see `_send_on_loop`), so it must not block: the
        decisions that need the database were taken when the variant was claimed.
        """
        variant = work.variant
        if work.refusal:
            return work.refusal
        pause = self._paused_until(variant.account_id)
        if pause and pause > max(timezone.now(), variant.claimed_at):
            return Outcome(
                variant.pk,
                work.attempt_id,
                AttemptOutcome.RATE_LIMITED,
                VariantStatus.SCHEDULED,
                due_at=pause,
                error=_("Waiting for the network's rate limit to reset."),
                counted=False,
            )
        provider = get_provider(variant.account.provider)(work.credentials, http=http)
        try:
            published, parts, found = send_parts(provider, work)
        except Exception as exc:
            outcome = self._failure(work, exc)
        else:
            outcome = Outcome(
                variant.pk,
                work.attempt_id,
                AttemptOutcome.PUBLISHED,
                VariantStatus.PUBLISHED,
                error=_("Already on the network after an earlier attempt: that copy is recorded.")
                if found
                else "",
                published=published,
                parts=parts,
                account_id=variant.account_id,
                budget=provider.rate_budget,
            )
        if provider.credentials_changed:
            outcome.credentials = provider.credentials
            outcome.account_id = variant.account_id
        return outcome

    def _failure(self, work: Work, exc: Exception) -> Outcome:
        """The outcome of a send that raised: wait, reconnect, fail for good, or retry."""
        variant = work.variant
        if isinstance(exc, RateLimited):
            until = timezone.now() + timedelta(seconds=max(exc.retry_after, 1))
            self._pause(variant.account_id, until)
            return Outcome(
                variant.pk,
                work.attempt_id,
                AttemptOutcome.RATE_LIMITED,
                VariantStatus.SCHEDULED,
                due_at=until,
                error=exc.message,
                account_id=variant.account_id,
            )
        if isinstance(exc, AuthExpired):
            return Outcome(
                variant.pk,
                work.attempt_id,
                AttemptOutcome.AUTH_EXPIRED,
                VariantStatus.NEEDS_RECONNECT,
                error=exc.message,
                account_id=variant.account_id,
                pending_media={},
            )
        if isinstance(exc, Rejected):
            return Outcome(
                variant.pk,
                work.attempt_id,
                AttemptOutcome.REJECTED,
                VariantStatus.FAILED,
                error=exc.message,
                pending_media={},
            )
        # Transient, or a bug: both retried, both recorded
        if not isinstance(exc, ProviderError):
            log.error("publishing variant %s failed unexpectedly", variant.pk, exc_info=exc)
        message = exc.message if isinstance(exc, ProviderError) else repr(exc)
        account_id = variant.account_id if isinstance(exc, ProviderError) else None
        if work.failures + 1 >= MAX_ATTEMPTS:
            return Outcome(
                variant.pk,
                work.attempt_id,
                AttemptOutcome.TRANSIENT,
                VariantStatus.FAILED,
                error=_("Gave up after %(n)s attempts: %(error)s")
                % {"n": work.failures + 1, "error": message},
                account_id=account_id,
                pending_media={},
            )
        return Outcome(
            variant.pk,
            work.attempt_id,
            AttemptOutcome.TRANSIENT,
            VariantStatus.SCHEDULED,
            due_at=timezone.now() + timedelta(seconds=backoff_seconds(work.failures + 1)),
            error=message,
            account_id=account_id,
            pending_media=work.pending_media,
        )

    # ------------------------------------------------------------------ recording

    def record(self, outcomes: list[Outcome]) -> None:
        """Write a batch of outcomes in one transaction, one prepared statement per kind.

        Plain parameterised UPDATEs run with executemany: Django's bulk_update builds a
        CASE expression per field and row, which costs more than the network calls.
        """
        if not outcomes:
            return
        now = timezone.now()
        variant_table = connection.ops.quote_name(Variant._meta.db_table)
        attempt_table = connection.ops.quote_name(PublishAttempt._meta.db_table)
        published, other = [], []
        for o in outcomes:
            if o.published:
                published.append(
                    (
                        o.status,
                        db_value(
                            Variant, "published_at", o.published.published_at or o.finished_at
                        ),
                        o.published.ref.remote_id,
                        o.published.ref.url,
                        db_value(Variant, "parts_published", o.parts),
                        db_value(Variant, "pending_media", {}),
                        o.variant_id,
                    )
                )
            else:
                due = o.due_at if o.status == VariantStatus.SCHEDULED else None
                kept = o.pending_media
                kept = None if kept is None else db_value(Variant, "pending_media", kept)
                other.append(
                    (o.status, o.error, db_value(Variant, "due_at", due), kept, o.variant_id)
                )
        with transaction.atomic(), connection.cursor() as cursor:
            if published:
                cursor.executemany(
                    f"UPDATE {variant_table} SET status = %s, lease_until = NULL, "  # noqa: S608
                    "last_error = '', published_at = %s, remote_id = %s, remote_url = %s, "
                    "parts_published = %s, pending_media = %s WHERE id = %s",
                    published,
                )
            if other:
                cursor.executemany(
                    f"UPDATE {variant_table} SET status = %s, lease_until = NULL, "  # noqa: S608
                    "last_error = %s, due_at = COALESCE(%s, due_at), "
                    "pending_media = COALESCE(%s, pending_media) WHERE id = %s",
                    other,
                )
            cursor.executemany(
                f"UPDATE {attempt_table} SET outcome = %s, error = %s, "  # noqa: S608
                "finished_at = %s WHERE id = %s",
                [
                    (o.outcome, o.error, db_value(PublishAttempt, "finished_at", now), o.attempt_id)
                    for o in outcomes
                ],
            )
            self._record_accounts(outcomes, now)
            _after_outcomes(outcomes)

    def _record_accounts(self, outcomes: list[Outcome], now: datetime) -> None:
        ok = {o.account_id for o in outcomes if o.outcome == AttemptOutcome.PUBLISHED}
        expired = {o.account_id for o in outcomes if o.outcome == AttemptOutcome.AUTH_EXPIRED}
        if ok - expired:
            SocialAccount.objects.filter(  # health needs minutes, not every post: a burst
                Q(last_ok_at__isnull=True)
                | Q(last_ok_at__lt=now - HEALTH_PRECISION)
                | Q(last_error_at__gte=F("last_ok_at")),  # a recent failure: show recovery
                pk__in=ok - expired,
            ).update(last_ok_at=now)
        reported = {o.account_id: o.budget for o in outcomes if o.budget and o.account_id}
        if reported:  # an exhausted budget pauses the account until its reset (see claim)
            table = connection.ops.quote_name(SocialAccount._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET rate_limit = %s, rate_remaining = %s, "  # noqa: S608
                    "rate_reset_at = %s WHERE id = %s",
                    [
                        (
                            b.limit,
                            b.remaining,
                            db_value(SocialAccount, "rate_reset_at", b.reset_at),
                            pk,
                        )
                        for pk, b in reported.items()
                    ],
                )
        renewed = {o.account_id: o.credentials for o in outcomes if o.credentials}
        for pk, credentials in renewed.items():  # a renewed session replaces the old one
            SocialAccount.objects.filter(pk=pk).update(
                secrets_encrypted=crypto.encrypt(json.dumps(credentials.secrets)),
                identity=credentials.identity,
            )
        failing = {  # the network failed us: the account's health shows it at once
            o.account_id: o.error
            for o in outcomes
            if o.outcome == AttemptOutcome.TRANSIENT and o.account_id and o.account_id not in ok
        }
        for pk, error in failing.items():
            SocialAccount.objects.filter(pk=pk).update(last_error=error[:2000], last_error_at=now)
        for o in outcomes:
            if o.outcome == AttemptOutcome.RATE_LIMITED and o.account_id and o.counted:
                SocialAccount.objects.filter(pk=o.account_id).update(
                    rate_remaining=0, rate_reset_at=o.due_at
                )
            if o.account_id in expired and o.outcome == AttemptOutcome.AUTH_EXPIRED:
                SocialAccount.objects.filter(pk=o.account_id).update(
                    status=AccountStatus.NEEDS_RECONNECT,
                    last_error=o.error[:2000],
                    last_error_at=now,
                )
                expired.discard(o.account_id)

    # ------------------------------------------------------------------ loops

    def run_once(self, *, now: datetime | None = None) -> int:
        """Claim one batch, publish it, record it; returns how many were handled (tests)."""
        work = self.claim(now=now)
        self.record(self.send(work))
        return len(work)

    def send(self, work: list[Work]) -> list[Outcome]:
        """Publish claimed work on an event loop of its own; outcomes are not yet recorded."""

        async def send_all() -> list[Outcome]:
            async with self._http() as http:
                return await asyncio.gather(*(self._send_on_loop(item, http) for item in work))

        return run_to_completion(send_all) if work else []

    def run(self, stop: threading.Event) -> None:
        """Keep claiming and publishing until `stop` is set.

        Three threads: this one claims, an event loop sends everything claimed, and a
        writer records outcomes in batches. `in_flight` caps what is claimed but not done.
        """
        results: queue.Queue[Outcome] = queue.Queue()
        in_flight = threading.Semaphore(self.concurrency)
        writer = threading.Thread(target=self._write_loop, args=(results, stop), daemon=True)
        writer.start()
        loop = asyncio.new_event_loop()
        sender = threading.Thread(target=loop.run_forever, name="publish-loop", daemon=True)
        sender.start()
        http = asyncio.run_coroutine_threadsafe(self._http().__aenter__(), loop).result()

        def finished(task: asyncio.Task[Outcome]) -> None:
            in_flight.release()
            if task.exception() is not None:  # a bug in the bridge: the lease recovers it
                log.error("sending failed unexpectedly", exc_info=task.exception())
            else:
                results.put(task.result())

        def start(batch: list[Work]) -> None:
            for item in batch:
                loop.create_task(self._send_on_loop(item, http)).add_done_callback(finished)

        while not stop.is_set():
            try:
                capacity = _available(
                    in_flight, self.batch_size, least=min(self.batch_size, self.concurrency // 4)
                )
                work = self.claim(limit=capacity) if capacity else []
            except Exception:
                log.exception("claiming failed; retrying shortly")
                _release(in_flight, capacity)
                close_old_connections()
                stop.wait(1.0)
                continue
            _release(in_flight, capacity - len(work))
            if work:
                loop.call_soon_threadsafe(start, work)
            if len(work) < max(capacity, 1):
                stop.wait(self.poll_interval)
        for _slot in range(self.concurrency):  # let every send in flight finish
            in_flight.acquire()
        asyncio.run_coroutine_threadsafe(http.__aexit__(None, None, None), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        sender.join()
        loop.close()
        writer.join()

    def _http(self) -> AsyncHTTP:
        return AsyncHTTP(
            connections=self.concurrency, timeout=settings.CHORUS_DISPATCH_TIMEOUT_SECONDS
        )

    async def _send_on_loop(self, work: Work, http: AsyncHTTP) -> Outcome:
        wait = self.delay(work)
        if wait > 0:
            await asyncio.sleep(wait)
        return await http.call(self.publish, work, http.client)

    def _write_loop(self, results: queue.Queue[Outcome], stop: threading.Event) -> None:
        pending: list[Outcome] = []
        while not (stop.is_set() and results.empty() and not pending):
            try:
                pending.append(results.get(timeout=0.05))
                while len(pending) < 500:
                    pending.append(results.get_nowait())
            except queue.Empty:
                pass
            if pending:
                try:
                    self.record(pending)
                    pending = []
                except Exception:
                    log.exception("recording outcomes failed; retrying")
                    close_old_connections()
                    time.sleep(0.5)

    def _pause(self, account_id: int, until: datetime) -> None:
        with self._pause_lock:
            self._account_pause[account_id] = max(until, self._account_pause.get(account_id, until))

    def _paused_until(self, account_id: int) -> datetime | None:
        with self._pause_lock:
            return self._account_pause.get(account_id)


def _available(semaphore: threading.Semaphore, most: int, *, least: int) -> int:
    """Take up to `most` free slots: wait briefly for the first, then take what is free.

    When fewer than `least` are free (a burst keeps every slot busy), wait up to
    GATHER_SECONDS for more: each claim costs a dozen queries and a commit whatever its
    size, and claiming every few freed slots spent more on claims than on posts.
    """
    if not semaphore.acquire(timeout=0.2):
        return 0
    taken = 1
    gather_until = time.monotonic() + GATHER_SECONDS
    while taken < most:
        if semaphore.acquire(blocking=False):
            taken += 1
            continue
        wait = gather_until - time.monotonic()
        if taken >= least or wait <= 0 or not semaphore.acquire(timeout=wait):
            break
        taken += 1
    return taken


def _release(semaphore: threading.Semaphore, count: int) -> None:
    for _slot in range(max(count, 0)):
        semaphore.release()


def _after_outcomes(outcomes: list[Outcome]) -> None:
    """Once the batch commits: tell authors about trouble, schedule evergreen repeats."""
    from chorus.publishing.outcomes import tell_author
    from chorus.publishing.tasks import audit_published, repeat_evergreen

    published = [o.variant_id for o in outcomes if o.status == VariantStatus.PUBLISHED]
    if published:
        transaction.on_commit(lambda: audit_published(published))
    evergreen = list(
        Post.objects.filter(variants__pk__in=published, repeat_every_days__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    for post_id in evergreen:
        transaction.on_commit(lambda post_id=post_id: repeat_evergreen(post_id))

    troubled = [
        o
        for o in outcomes
        if o.status in (VariantStatus.FAILED, VariantStatus.HELD, VariantStatus.NEEDS_RECONNECT)
    ]
    if troubled:
        ids = [o.variant_id for o in troubled]
        transaction.on_commit(lambda: tell_author(variant_ids=ids))
