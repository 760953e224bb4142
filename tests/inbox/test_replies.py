"""Replies: checked before recording, sent once, uncertain outcomes reconciled, not resent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.governance import services as governance
from chorus.inbox import ingest, replies, selectors
from chorus.inbox.models import Conversation, Reply
from chorus.networks.providers.base import PublishedPost, Rejected, RemoteRef, Transient
from chorus.networks.providers.mastodon import Mastodon
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """reply_create, with the send that follows its commit run as it would be."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return replies.reply_create(**kwargs)

    return run


@pytest.fixture
def conversation(account):
    ingest.store_page(account, page(item(1, minutes_ago=30)), now=timezone.now())
    return Conversation.objects.get()


class Network:
    """A stand-in for the Mastodon provider's publishing calls, counting what went out."""

    def __init__(self, monkeypatch, outcomes):
        self.outcomes = list(outcomes)
        self.sent = []
        self.looked = 0
        network = self

        def publish(provider, draft):
            outcome = network.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            network.sent.append(draft)
            return PublishedPost(RemoteRef(outcome, url=f"https://m.example/{outcome}"))

        def find_published(provider, draft, *, since, exclude=frozenset()):
            network.looked += 1
            return None

        monkeypatch.setattr(Mastodon, "publish", publish)
        monkeypatch.setattr(Mastodon, "find_published", find_published)


def test_a_reply_goes_out_once_in_the_thread(conversation, owner, monkeypatch, send):
    network = Network(monkeypatch, ["r1"])
    reply = send(actor=owner, conversation=conversation, text="On it!")
    reply.refresh_from_db()
    assert reply.state == "sent" and reply.remote_id == "r1"
    assert network.sent[0].reply_to.remote_id == "1"
    assert network.sent[0].idempotency_key == str(reply.idempotency_key)
    assert replies.reply_deliver(reply_id=reply.pk) is None  # already sent: nothing happens
    assert len(network.sent) == 1
    conversation.refresh_from_db()
    assert conversation.first_response_seconds >= 30 * 60 - 5
    assert conversation.status == "pending"


def test_a_lost_answer_is_looked_for_before_sending_again(conversation, owner, monkeypatch, send):
    network = Network(monkeypatch, [Transient("timeout"), "r2"])
    reply = send(actor=owner, conversation=conversation, text="Hello")
    reply.refresh_from_db()
    assert reply.state == "sending" and reply.error == "timeout"
    assert replies.replies_to_reconcile(timezone.now()) == []  # backing off
    later = reply.lease_until + timedelta(seconds=1)
    assert replies.replies_to_reconcile(later) == [reply.pk]
    replies.reply_deliver(reply_id=reply.pk, now=later)
    reply.refresh_from_db()
    assert reply.state == "sent" and network.looked == 1


def test_a_copy_found_on_the_network_is_recorded_not_resent(conversation, owner, monkeypatch, send):
    network = Network(monkeypatch, [Transient("timeout")])
    monkeypatch.setattr(
        Mastodon,
        "find_published",
        lambda self, draft, since, exclude=frozenset(): PublishedPost(RemoteRef("copy")),
    )
    reply = send(actor=owner, conversation=conversation, text="Hello")
    reply.refresh_from_db()
    replies.reply_deliver(reply_id=reply.pk, now=reply.lease_until + timedelta(seconds=1))
    reply.refresh_from_db()
    assert reply.state == "sent" and reply.remote_id == "copy" and network.sent == []


def test_a_refusal_fails_the_reply_and_it_can_be_sent_again(
    conversation, owner, monkeypatch, send, django_capture_on_commit_callbacks
):
    network = Network(monkeypatch, [Rejected("Validation failed"), "r3"])
    reply = send(actor=owner, conversation=conversation, text="Hello")
    reply.refresh_from_db()
    assert reply.state == "failed" and "Validation" in reply.error
    with django_capture_on_commit_callbacks(execute=True):
        replies.reply_retry(actor=owner, reply=reply)
    reply.refresh_from_db()
    assert reply.state == "sent" and len(network.sent) == 1


def test_policies_and_limits_refuse_before_anything_is_recorded(conversation, owner, send):
    governance.policy_create(actor=owner, name="No promises", kind="banned_terms", terms=["refund"])
    with pytest.raises(ServiceError, match="refund"):
        replies.reply_create(actor=owner, conversation=conversation, text="A refund is coming")
    with pytest.raises(ServiceError, match="characters"):
        replies.reply_create(actor=owner, conversation=conversation, text="x" * 600)
    assert not Reply.objects.exists()


def test_figures_count_first_responses_against_the_target(conversation, owner, monkeypatch, send):
    Network(monkeypatch, ["r1"])
    ingest.store_page(
        conversation.account, page(item(9, author="late@x", minutes_ago=5)), now=timezone.now()
    )
    send(actor=owner, conversation=conversation, text="Done")
    now = timezone.now()
    figures = selectors.response_figures(
        owner, since=now - timedelta(days=1), until=now + timedelta(minutes=1), by="agent"
    )
    assert (figures.conversations, figures.answered, figures.within_target) == (2, 1, 1)
    assert figures.response_rate == 0.5
    assert [row["id"] for row in figures.rows] == [owner.pk]
