"""Reliability of real `chorus dispatcher` processes in small bursts against the emulator.

Each test seeds committed rows on a mix of every network the emulator speaks
(chorus.testing.networks), starts dispatcher processes on the test database and checks,
network by network from the emulator's own log, that every post went out exactly once.
Instagram fetches each photo from the site address: the test's live server.
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
from chorus.networks.providers.base import Credentials
from chorus.publishing.models import AttemptOutcome, PublishAttempt, Variant, VariantStatus
from chorus.testing import load, networks
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

PER_NETWORK = 4  # accounts on each network
POSTS = 30 * len(networks.NETWORKS)


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"


def start_dispatcher(site, **settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **site,
        "DATABASE_URL": database_url(),
        "CHORUS_SKIP_CHECKS": "1",
        # A lease outlasts a whole send (each network call may take the timeout; Instagram's
        # and Threads' take five or more), else a slow send is taken over while in flight.
        "CHORUS_DISPATCH_LEASE_SECONDS": "30",
        "CHORUS_DISPATCH_TIMEOUT_SECONDS": "2",
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
def site(emulator, live_server) -> dict[str, str]:
    """What a dispatcher process needs: every network's app pointed at the emulator, and
    the site address Instagram fetches photos from."""
    return {**networks.environment(emulator.base_url), "CHORUS_SITE_URL": live_server.url}


@pytest.fixture
def burst(emulator) -> dict[str, list[int]]:
    """POSTS posts due now over PER_NETWORK accounts on each network; account ids by network."""
    by_network = load.seed_mix(per_network=PER_NETWORK, server_url=emulator.base_url)
    interleaved = [pk for group in zip(*by_network.values(), strict=True) for pk in group]
    load.seed_posts(account_ids=interleaved, due=[timezone.now()] * POSTS)
    return by_network


def faults(emulator, *steps: dict) -> None:
    """The same steps on every network's publish call, each in that network's words."""
    networks.configure_faults(emulator.base_url, {key: list(steps) for key in networks.NETWORKS})


def assert_each_published_once(emulator, expected: int) -> None:
    """Each network has each post it was sent once and only once; every post is published,
    or, on a network that cannot confirm a post is absent after an uncertain outcome
    (Telegram), failed for a person to check and absent from the network."""
    received = load.received(emulator.events())
    published = load.expected(status=VariantStatus.PUBLISHED)
    unconfirmed = load.expected(status=VariantStatus.FAILED)
    others = list(
        Variant.objects.exclude(status=VariantStatus.PUBLISHED).values_list(
            "account__provider", "status", "last_error"
        )[:5]
    )
    done = sum(len(n) for n in published.values()) + sum(len(n) for n in unconfirmed.values())
    assert done == expected, others
    assert set(published) == set(networks.NETWORKS), "a network published nothing"
    for provider, numbers in published.items():
        tally = received.get(provider) or networks.Tally()
        assert tally.duplicates == 0, f"a post was created twice on {provider}"
        assert set(tally.received) == set(numbers), f"{provider}: not each post once"
        if networks.NETWORKS[provider].confirms_absence:
            assert not unconfirmed.get(provider), others


def test_kill_9_mid_burst_then_restart_publishes_each_post_exactly_once(emulator, burst, site):
    first = start_dispatcher(site)
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= POSTS // 3, within=60, what="a third")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert emulator.stats()["posts_created"] < POSTS, "killed too late to test recovery"
    second = start_dispatcher(site)
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(second)
    assert_each_published_once(emulator, POSTS)
    abandoned = PublishAttempt.objects.filter(outcome=AttemptOutcome.STARTED).count()
    assert abandoned > 0, "the killed dispatcher left claims that were taken over"


def test_kill_9_while_servers_without_idempotency_keys_stall_after_committing(
    emulator, burst, site
):
    """The servers created the posts, then stalled; the dispatcher died waiting. The next
    one must find those posts, not send them again (the servers would make second copies:
    Mastodon's is set to ignore Idempotency-Key, the others have none)."""
    emulator.configure(honour_idempotency_key=False)
    faults(emulator, {"after_commit": True, "delay_s": 8, "times": POSTS})
    first = start_dispatcher(site)
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= 16, within=60, what="16 stalled")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    networks.configure_faults(emulator.base_url, {})
    second = start_dispatcher(site)
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(second)
    assert_each_published_once(emulator, POSTS)


def test_timeouts_on_servers_without_idempotency_keys_publish_each_post_once(emulator, burst, site):
    """A stall past the dispatcher's timeout after the server committed: retried, found."""
    emulator.configure(honour_idempotency_key=False)
    # the timeout leaves Instagram the time to fetch each photo while it makes the container
    faults(emulator, {"after_commit": True, "delay_s": 5, "times": 6})
    process = start_dispatcher(site, CHORUS_DISPATCH_TIMEOUT_SECONDS="3")
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(process)
    assert_each_published_once(emulator, POSTS)
    timed_out = PublishAttempt.objects.filter(outcome="transient", error__contains="in time")
    # Bluesky reads a lost record back by its key within the same try: no retry to count
    later = set(networks.NETWORKS) - {"bluesky"}
    assert set(timed_out.values_list("variant__account__provider", flat=True)) == later
    assert timed_out.count() >= 6 * len(later)


def test_429_with_retry_after_then_503s_then_success(emulator, burst, site):
    faults(emulator, {"status": 429, "times": 5, "retry_after": 2}, {"status": 503, "times": 5})
    process = start_dispatcher(site)
    try:
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(process)
    assert_each_published_once(emulator, POSTS)
    limited = PublishAttempt.objects.filter(outcome=AttemptOutcome.RATE_LIMITED)
    transient = PublishAttempt.objects.filter(outcome="transient")
    for outcome in (limited, transient):
        providers = set(outcome.values_list("variant__account__provider", flat=True))
        assert providers == set(networks.NETWORKS)
    # each 429 the network sent (not the tries that only waited out an account's pause)
    for attempt in limited.exclude(error__startswith="Waiting for the network"):
        following = (
            PublishAttempt.objects.filter(variant=attempt.variant, number__gt=attempt.number)
            .order_by("number")
            .first()
        )
        waited = following.claimed_at - attempt.claimed_at
        assert waited >= timedelta(seconds=1), "Retry-After: 2 was not honoured"


def test_token_revoked_mid_burst_holds_only_that_accounts_posts(emulator, burst, site):
    """One account on each network loses its access while the burst goes out."""
    revoked = [ids[0] for ids in burst.values()]
    emulator.configure(latency=80)
    process = start_dispatcher(site)
    try:
        wait_for(lambda: emulator.stats()["posts_created"] >= 20, within=60, what="20 posts")
        for account in SocialAccount.objects.filter(pk__in=revoked):
            network = networks.NETWORKS[account.provider]
            credentials = Credentials(identity=account.identity, secrets=account.secrets)
            emulator.revoke(network.revoke_key(credentials))
        wait_for(settled, within=120, what="every post to settle")
    finally:
        stop(process)
    held = Variant.objects.filter(status=VariantStatus.NEEDS_RECONNECT)
    assert set(held.values_list("account__provider", flat=True)) == set(networks.NETWORKS)
    assert set(held.values_list("account_id", flat=True)) <= set(revoked)
    others = Variant.objects.exclude(account_id__in=revoked)
    assert set(others.values_list("status", flat=True)) == {VariantStatus.PUBLISHED}
    assert set(SocialAccount.objects.filter(pk__in=revoked).values_list("status", flat=True)) == {
        AccountStatus.NEEDS_RECONNECT
    }
    for provider, tally in load.received(emulator.events()).items():
        assert tally.duplicates == 0, f"a post was created twice on {provider}"


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres") is False,
    reason="the database server restart applies to PostgreSQL (SQLite has no server)",
)
def test_database_connections_dropped_mid_burst_dispatcher_recovers(emulator, burst, site):
    emulator.configure(latency=80)
    process = start_dispatcher(site)
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
