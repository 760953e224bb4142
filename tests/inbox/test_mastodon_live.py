"""The inbox against the stateful Mastodon test server: a second user writes, Chorus polls,
the message is in the inbox, a reply sent from Chorus lands in the right thread, once."""

from __future__ import annotations

import pytest

from chorus.inbox import ingest, replies
from chorus.inbox.models import Conversation, Message, PollState, Reply
from chorus.networks import services as network_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def brand(owner, mastodon_server):
    username, _ = mastodon_server.new_user("brand")
    url = network_services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    account = network_services.oauth_complete(actor=owner, state=state, code=code)
    return account, username


def _poll(account):
    PollState.objects.filter(account=account).update(next_poll_at="2000-01-01T00:00:00Z")
    return ingest.poll_account(account_id=account.pk)


def test_a_mention_is_polled_and_answered_in_its_thread(brand, owner, mastodon_server):
    account, username = brand
    _fan, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as fan:
        status = fan.post(
            "/api/v1/statuses", data={"status": f"@{username} my order never arrived"}
        ).json()
    stored = _poll(account)
    assert stored is not None and stored.messages == 1
    conversation = Conversation.objects.get(account=account)
    assert conversation.preview.endswith("my order never arrived")
    assert _poll(account).messages == 0  # the cursor moved: nothing fetched twice

    reply = replies.reply_create(
        actor=owner, conversation=conversation, text="Sorry! We are on it."
    )
    reply.refresh_from_db()
    assert reply.state == "sent", reply.error
    with mastodon_server.client(token) as fan:
        context = fan.get(f"/api/v1/statuses/{status['id']}/context").json()
    answers = [s for s in context["descendants"] if s["id"] == reply.remote_id]
    assert len(answers) == 1 and answers[0]["in_reply_to_id"] == status["id"]
    conversation.refresh_from_db()
    assert conversation.status == "pending" and conversation.first_response_seconds is not None
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1

    # A retry of the same reply (a lost answer) finds the copy and sends nothing new
    Reply.objects.filter(pk=reply.pk).update(state="sending", lease_until=None)
    replies.reply_deliver(reply_id=reply.pk)
    with mastodon_server.client(token) as fan:
        context = fan.get(f"/api/v1/statuses/{status['id']}/context").json()
    assert [s["id"] for s in context["descendants"]] == [reply.remote_id]


def test_a_direct_message_is_answered_privately(brand, owner, mastodon_server):
    account, username = brand
    _fan, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as fan:
        status = fan.post(
            "/api/v1/statuses",
            data={"status": f"@{username} private question", "visibility": "direct"},
        ).json()
    _poll(account)
    conversation = Conversation.objects.get(account=account)
    assert conversation.kind == "direct"
    reply = replies.reply_create(actor=owner, conversation=conversation, text="Answered privately")
    reply.refresh_from_db()
    assert reply.state == "sent", reply.error
    with mastodon_server.client(token) as fan:
        context = fan.get(f"/api/v1/statuses/{status['id']}/context").json()
    sent = [s for s in context["descendants"] if s["id"] == reply.remote_id]
    assert sent and sent[0]["visibility"] == "direct"


def test_a_server_error_while_polling_is_visible_and_loses_nothing(brand, mastodon_server):
    account, username = brand
    _fan, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as fan:
        fan.post("/api/v1/statuses", data={"status": f"@{username} first"})
    _poll(account)
    with mastodon_server.client(token) as fan:
        fan.post("/api/v1/statuses", data={"status": f"@{username} second"})
    with mastodon_server.fault(path="/api/v1/notifications", status=500, probability=1.0):
        assert _poll(account) is None
    state = PollState.objects.get(account=account)
    assert state.health == "failing"
    assert _poll(account).messages == 1
    assert Message.objects.filter(account=account).count() == 2
    assert PollState.objects.get(account=account).health == "ok"
