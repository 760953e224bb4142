"""Exactly once on a Mastodon-API server that ignores Idempotency-Key.

The emulator is set to ignore the header, as some servers of the API do, and to stall or
lose its answer after it has created the status. The dispatcher must find the status it
already made and record that copy instead of posting a second one.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.networks.models import SocialAccount
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import AttemptOutcome, Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db

CREATE = "mastodon.statuses.create"


@pytest.fixture
def emulator():
    with EmulatorServer(latency=0, rate_limit=None, honour_idempotency_key=False) as server:
        yield server


@pytest.fixture
def account(owner, emulator):
    account = SocialAccount(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="1",
        handle="brand",
        identity={"server_url": emulator.base_url, "account_id": "1", "acct": "brand"},
        connected_by=owner.user,
    )
    account.secrets = {"access_token": "brand-token"}
    account.save()
    return account


def publish_now(owner, account, text, **extra):
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text=text, **extra)]
    )
    services.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


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


def test_a_timeout_after_the_server_committed_is_reconciled_not_sent_again(
    owner, account, emulator, settings
):
    settings.CHORUS_DISPATCH_TIMEOUT_SECONDS = 0.5
    emulator.configure(faults=[{"route": CREATE, "after_commit": True, "delay_s": 2}])
    variant = publish_now(owner, account, "Launch day ជំរាបសួរ @friend@other.example #news")
    Dispatcher().run_once()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED and "in time" in variant.last_error
    account.refresh_from_db()
    assert "in time" in account.last_error and not account.is_healthy

    Dispatcher().run_once(now=later())
    variant.refresh_from_db()
    events = emulator.events()
    assert len(events) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == events[0]["id"]
    last = variant.attempts_log.order_by("number").last()
    assert last.outcome == AttemptOutcome.PUBLISHED and "earlier attempt" in last.error
    account.refresh_from_db()
    assert account.is_healthy, "the recovery shows on the account's health"


def test_a_lost_answer_in_the_middle_of_a_thread_sends_only_the_missing_parts(
    owner, account, emulator
):
    emulator.configure(
        faults=[
            {"route": CREATE},  # the first part goes through
            {"route": CREATE, "status": 502, "after_commit": True},  # the second is lost
        ]
    )
    variant = publish_now(owner, account, "1/3 start", thread=["2/3 middle", "3/3 end"])
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    assert len(emulator.events()) == 2

    Dispatcher().run_once(now=later())
    variant.refresh_from_db()
    events = emulator.events()
    assert [e["text"] for e in events] == ["1/3 start", "2/3 middle", "3/3 end"]
    assert [p["id"] for p in variant.parts_published] == [e["id"] for e in events]
    assert variant.status == VariantStatus.PUBLISHED


def test_a_lease_taken_over_from_a_dead_sender_is_reconciled(owner, account, emulator):
    variant = publish_now(owner, account, "Sent, then the dispatcher died")
    crashed = Dispatcher(lease=timedelta(seconds=30))
    crashed.send(crashed.claim())  # the network got it; the process dies before recording
    assert Dispatcher().run_once(now=timezone.now() + timedelta(seconds=31)) == 1
    variant.refresh_from_db()
    events = emulator.events()
    assert len(events) == 1 and variant.remote_id == events[0]["id"]
    assert variant.status == VariantStatus.PUBLISHED


def test_an_identical_post_recorded_for_another_variant_is_not_taken_for_this_one(
    owner, account, emulator
):
    emulator.configure(faults=[{"route": CREATE, "status": 503}])  # refused before creating
    first = publish_now(owner, account, "Same words")
    Dispatcher().run_once()
    assert Variant.objects.get(pk=first.pk).status == VariantStatus.SCHEDULED
    second = publish_now(owner, account, "Same words")
    assert Dispatcher().run_once() == 1  # only the second is due yet
    Dispatcher().run_once(now=later())
    first.refresh_from_db()
    second.refresh_from_db()
    events = emulator.events()
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
