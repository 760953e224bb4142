"""Exactly once on servers that keep no idempotency promise: every network the emulator
speaks (chorus.testing.networks), Mastodon's set to ignore Idempotency-Key as some servers
of that API do, the others having no such key at all.

The emulator stalls or loses its answer after it has created the post. The dispatcher must
find the post it already made and record that copy instead of posting a second one.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.networks.providers import get_provider
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import AttemptOutcome, Variant, VariantStatus
from chorus.testing import load, networks
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "mastodon.statuses.create"
EVERY = sorted(networks.NETWORKS)
# Bluesky's record key is the idempotency key: its provider reads a lost record back within
# the same try (tests/networks/test_bluesky_wire.py), so no second try is left to reconcile.
# Telegram's Bot API cannot tell "not posted" from "posted" for what it cannot find, so it
# fails the post visibly rather than risk a second copy (providers/telegram.py).
RECONCILED = [key for key in EVERY if key != "bluesky"]
CONFIRMS_ABSENCE = [key for key in RECONCILED if key != "telegram"]
THREADED = [key for key in CONFIRMS_ABSENCE if get_provider(key).limits.supports_threads]


@pytest.fixture
def emulator(settings, live_server):
    with EmulatorServer(latency=0, rate_limit=None, honour_idempotency_key=False) as server:
        networks.apply_settings(settings, server.base_url)
        settings.SITE_URL = live_server.url  # Instagram fetches photos from here
        yield server


@pytest.fixture
def network(request) -> str:
    return getattr(request, "param", "mastodon")


@pytest.fixture
def account(owner, emulator, network):
    return load.connect(owner=owner, provider=network, server_url=emulator.base_url, label="b")


def faults(emulator, account, *steps: dict) -> None:
    networks.configure_faults(emulator.base_url, {account.provider: list(steps)})


def publish_now(owner, account, text, **extra):
    if networks.NETWORKS[account.provider].needs_media:
        extra["media"] = [(load.load_photo(owner.workspace_id, owner.user_id).pk, "A teal square")]
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text=text, **extra)]
    )
    services.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


def created(emulator, account) -> list[dict]:
    """The posts the emulator made for this network, oldest first."""
    log_name = networks.NETWORKS[account.provider].log_name
    return [e for e in emulator.events() if e["network"] == log_name]


def later(minutes: int = 1):
    return timezone.now() + timedelta(minutes=minutes)


def test_the_emulator_really_ignores_the_key(emulator):
    """The premise: without reconciliation this server makes a second copy."""
    from chorus.networks.providers.base import PostDraft
    from chorus.networks.providers.mastodon import Mastodon

    provider = Mastodon(emulator.mastodon_credentials("premise-token"))
    draft = PostDraft(text="twice?", idempotency_key="same-key")
    assert provider.publish(draft).ref != provider.publish(draft).ref
    assert len(emulator.events()) == 2


# Instagram's container call waits while it fetches the photo from this site, which the
# short timeout here would cut as well; its lost answers are the lease test's below
@pytest.mark.parametrize("network", [k for k in RECONCILED if k != "instagram"], indirect=True)
def test_a_timeout_after_the_server_committed_is_reconciled_not_sent_again(
    owner, account, emulator, settings
):
    settings.CHORUS_DISPATCH_TIMEOUT_SECONDS = 0.5
    faults(emulator, account, {"after_commit": True, "delay_s": 2})
    variant = publish_now(owner, account, "Launch day ជំរាបសួរ @friend@other.example #news")
    Dispatcher().run_once()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED and "in time" in variant.last_error
    account.refresh_from_db()
    assert "in time" in account.last_error and not account.is_healthy

    Dispatcher().run_once(now=later())
    variant.refresh_from_db()
    events = created(emulator, account)
    assert len(events) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == events[0]["id"]
    last = variant.attempts_log.order_by("number").last()
    assert last.outcome == AttemptOutcome.PUBLISHED and "earlier attempt" in last.error
    account.refresh_from_db()
    assert account.is_healthy, "the recovery shows on the account's health"


@pytest.mark.parametrize("network", THREADED, indirect=True)
def test_a_lost_answer_in_the_middle_of_a_thread_sends_only_the_missing_parts(
    owner, account, emulator
):
    faults(
        emulator,
        account,
        {},  # the first part goes through
        {"status": 502, "after_commit": True},  # the second is lost
    )
    variant = publish_now(owner, account, "1/3 start", thread=["2/3 middle", "3/3 end"])
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    assert len(created(emulator, account)) == 2

    Dispatcher().run_once(now=later())
    variant.refresh_from_db()
    events = created(emulator, account)
    assert [e["text"] for e in events] == ["1/3 start", "2/3 middle", "3/3 end"]
    assert [p["id"] for p in variant.parts_published] == [e["id"] for e in events]
    assert variant.status == VariantStatus.PUBLISHED


@pytest.mark.parametrize("network", EVERY, indirect=True)
def test_a_lease_taken_over_from_a_dead_sender_is_reconciled(owner, account, emulator):
    variant = publish_now(owner, account, "Sent, then the dispatcher died")
    crashed = Dispatcher(lease=timedelta(seconds=30))
    crashed.send(crashed.claim())  # the network got it; the process dies before recording
    assert Dispatcher().run_once(now=timezone.now() + timedelta(seconds=31)) == 1
    variant.refresh_from_db()
    events = created(emulator, account)
    assert len(events) == 1 and variant.remote_id == events[0]["id"]
    assert variant.status == VariantStatus.PUBLISHED


# X refuses a second post with the same words outright, and LinkedIn one that repeats the
# author's previous post (422 DUPLICATE_POST), so they have no such pair to confuse
@pytest.mark.parametrize(
    "network", [key for key in CONFIRMS_ABSENCE if key not in ("x", "linkedin")], indirect=True
)
def test_an_identical_post_recorded_for_another_variant_is_not_taken_for_this_one(
    owner, account, emulator
):
    faults(emulator, account, {"status": 503})  # refused before creating
    first = publish_now(owner, account, "Same words")
    Dispatcher().run_once()
    assert Variant.objects.get(pk=first.pk).status == VariantStatus.SCHEDULED
    second = publish_now(owner, account, "Same words")
    assert Dispatcher().run_once() == 1  # only the second is due yet
    Dispatcher().run_once(now=later())
    first.refresh_from_db()
    second.refresh_from_db()
    events = created(emulator, account)
    assert len(events) == 2 and {first.remote_id, second.remote_id} == {e["id"] for e in events}
    assert first.status == second.status == VariantStatus.PUBLISHED


def test_a_failed_reconciliation_sends_nothing_and_retries(owner, account, emulator):
    emulator.configure(
        faults=[
            {"route": CREATE, "status": 502, "after_commit": True},
            {"route": "mastodon.accounts.statuses", "status": 503},
        ]
    )
    variant = publish_now(owner, account, "Careful")
    Dispatcher().run_once()
    Dispatcher().run_once(now=later())
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED and len(emulator.events()) == 1
    Dispatcher().run_once(now=later(30))
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED and len(emulator.events()) == 1
