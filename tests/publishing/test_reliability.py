"""Reliability of real `chorus dispatcher` processes in small bursts against the emulator.

Each test seeds committed rows, starts dispatcher processes on the test database and
checks, from the emulator's own log, that every post went out exactly once.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing.models import AttemptOutcome, PublishAttempt, Variant, VariantStatus
from chorus.testing import load
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = 240
ACCOUNTS = 24


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"


def start_dispatcher(**settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CHORUS_SKIP_CHECKS": "1",
        "CHORUS_DISPATCH_LEASE_SECONDS": "3",
        "CHORUS_DISPATCH_BACKOFF_SECONDS": "0.3",
        "CHORUS_DISPATCH_CONCURRENCY": "16",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chorus.cli", "dispatcher"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if "dispatcher started" not in line:
        process.kill()
        pytest.fail(f"the dispatcher did not start: {line!r}")
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, *, within: float, what: str) -> None:
    """Poll until `condition()` holds; fail (never hang) after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def settled() -> bool:
    return not Variant.objects.filter(
        status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING]
    ).exists()


@pytest.fixture
def emulator():
    with EmulatorServer(latency=40, rate_limit=None) as server:
        yield server


@pytest.fixture
def burst(emulator):
    """POSTS posts due now over ACCOUNTS Mastodon accounts on the emulator."""
    account_ids = load.seed_accounts(
        count=ACCOUNTS, provider="mastodon", server_url=emulator.base_url
    )
    load.seed_posts(account_ids=account_ids, due=[timezone.now()] * POSTS)
    return account_ids


def assert_each_published_once(emulator, expected: int) -> None:
    keys = [event["key"] for event in emulator.events()]
    assert len(keys) == len(set(keys)), "a post was created twice"
    wanted = {f"{k}-0" for k in Variant.objects.values_list("idempotency_key", flat=True)}
    published = {
        f"{k}-0"
        for k in Variant.objects.filter(status=VariantStatus.PUBLISHED).values_list(
            "idempotency_key", flat=True
        )
    }
    others = list(
        Variant.objects.exclude(status=VariantStatus.PUBLISHED).values_list("status", "last_error")[
            :5
        ]
    )
    assert set(keys) == published and len(published) == expected, others
    assert published <= wanted


def test_kill_9_mid_burst_then_restart_publishes_each_post_exactly_once(emulator, burst):
    first = start_dispatcher()
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= POSTS // 3, within=60, what="a third")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert emulator.stats()["posts_created"] < POSTS, "killed too late to test recovery"
    second = start_dispatcher()
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(second)
    assert_each_published_once(emulator, POSTS)
    abandoned = PublishAttempt.objects.filter(outcome=AttemptOutcome.STARTED).count()
    assert abandoned > 0, "the killed dispatcher left claims that were taken over"


def test_kill_9_while_a_server_that_ignores_idempotency_keys_stalls_after_committing(
    emulator, burst
):
    """The server created the posts, then stalled; the dispatcher died waiting. The next one
    must find those posts, not send them again (the server would make second copies)."""
    emulator.configure(
        honour_idempotency_key=False,
        faults=[{"route": "publish", "after_commit": True, "delay_s": 8, "times": POSTS}],
    )
    first = start_dispatcher()
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= 16, within=60, what="16 stalled")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    emulator.configure(faults=[])
    second = start_dispatcher()
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(second)
    assert_each_published_once(emulator, POSTS)


def test_timeouts_on_a_server_that_ignores_idempotency_keys_publish_each_post_once(emulator, burst):
    """A stall past the dispatcher's timeout after the server committed: retried, found."""
    emulator.configure(
        honour_idempotency_key=False,
        faults=[{"route": "publish", "after_commit": True, "delay_s": 1.5, "times": 40}],
    )
    process = start_dispatcher(CHORUS_DISPATCH_TIMEOUT_SECONDS="0.5")
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(process)
    assert_each_published_once(emulator, POSTS)
    timed_out = PublishAttempt.objects.filter(outcome="transient", error__contains="in time")
    assert timed_out.count() >= 40


def test_429_with_retry_after_then_503s_then_success(emulator, burst):
    emulator.configure(
        faults=[
            {"route": "publish", "status": 429, "times": 30, "retry_after": 2},
            {"route": "publish", "status": 503, "times": 30},
        ]
    )
    process = start_dispatcher()
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(process)
    assert_each_published_once(emulator, POSTS)
    limited = PublishAttempt.objects.filter(outcome=AttemptOutcome.RATE_LIMITED)
    assert limited.exists() and PublishAttempt.objects.filter(outcome="transient").exists()
    for attempt in limited:
        following = (
            PublishAttempt.objects.filter(variant=attempt.variant, number__gt=attempt.number)
            .order_by("number")
            .first()
        )
        waited = following.claimed_at - attempt.claimed_at
        assert waited >= timedelta(seconds=1), "Retry-After: 2 was not honoured"


def test_token_revoked_mid_burst_holds_only_that_accounts_posts(emulator, burst):
    revoked = SocialAccount.objects.filter(pk__in=burst[:4])
    emulator.configure(latency=80)
    process = start_dispatcher()
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= 40, within=60, what="40 posts")
        for account in revoked:
            emulator.revoke(account.secrets["access_token"])
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(process)
    held = Variant.objects.filter(status=VariantStatus.NEEDS_RECONNECT)
    assert held.exists()
    assert set(held.values_list("account_id", flat=True)) <= set(burst[:4])
    others = Variant.objects.exclude(account_id__in=burst[:4])
    assert set(others.values_list("status", flat=True)) == {VariantStatus.PUBLISHED}
    assert set(SocialAccount.objects.filter(pk__in=burst[:4]).values_list("status", flat=True)) == {
        AccountStatus.NEEDS_RECONNECT
    }
    keys = [event["key"] for event in emulator.events()]
    assert len(keys) == len(set(keys))


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres") is False,
    reason="the database server restart applies to PostgreSQL (SQLite has no server)",
)
def test_database_connections_dropped_mid_burst_dispatcher_recovers(emulator, burst):
    emulator.configure(latency=80)
    process = start_dispatcher()
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= 40, within=60, what="40 posts")
        with connection.cursor() as cursor:  # what clients see when PostgreSQL restarts
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchall(), "no dispatcher connection was dropped"
        wait_for(settled, within=120, what="every post to settle")
        assert process.poll() is None, "the dispatcher died instead of recovering"
    finally:
        stop(process)
    assert_each_published_once(emulator, POSTS)
