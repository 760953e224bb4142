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


def test_a_mention_arrives_through_the_stream_and_is_stored_once(brand, mastodon_server):
    """Pushed without a poll; the poll that follows reads it again and stores nothing."""
    import threading
    import time

    from chorus.inbox import streams

    account, username = brand
    _poll(account)  # the backfill: an empty account, cursor set
    cursor = PollState.objects.get(account=account).cursor
    _fan, token = mastodon_server.new_user("fan")
    stop = threading.Event()
    stream = streams.AccountStream(account.pk, stop)
    stream.start()
    try:
        # The stream subscribes some time after the request: mention until one is stored.
        deadline, posted = time.monotonic() + 20, []
        with mastodon_server.client(token) as fan:
            while not Message.objects.filter(account=account).exists():
                assert time.monotonic() < deadline, "nothing came through the stream"
                assert stream.is_alive(), "the stream stopped"
                posted.append(
                    fan.post("/api/v1/statuses", data={"status": f"@{username} live?"}).json()
                )
                stop.wait(0.5)
        assert PollState.objects.get(account=account).streaming
    finally:
        stream.interrupt()
        stream.join(timeout=10)
    assert not stream.is_alive()
    state = PollState.objects.get(account=account)
    assert state.cursor == cursor  # the stream never moved the poll cursor
    pushed = set(Message.objects.filter(account=account).values_list("remote_id", flat=True))
    assert pushed <= {p["id"] for p in posted}
    _poll(account)  # the safety net reads every mention; each is stored once
    remote_ids = list(Message.objects.filter(account=account).values_list("remote_id", flat=True))
    assert sorted(remote_ids) == sorted(p["id"] for p in posted)


def test_a_dropped_stream_reconnects(brand, mastodon_server, monkeypatch):
    """The connection breaks under the stream: it reconnects and the next mention arrives."""
    import threading
    import time

    from chorus.inbox import streams

    monkeypatch.setattr(streams, "backoff", lambda failures: 0.1)
    account, username = brand
    _poll(account)
    _fan, token = mastodon_server.new_user("fan")
    stop = threading.Event()
    stream = streams.AccountStream(account.pk, stop)
    stream.start()

    def mention_until_stored(fan, count):
        deadline = time.monotonic() + 20
        while Message.objects.filter(account=account).count() < count:
            assert time.monotonic() < deadline, "nothing came through the stream"
            assert stream.is_alive(), "the stream stopped"
            fan.post("/api/v1/statuses", data={"status": f"@{username} are you there?"})
            stop.wait(0.5)

    try:
        with mastodon_server.client(token) as fan:
            mention_until_stored(fan, 1)
            stream._http.close()  # the connection drops (not a stop)
            deadline = time.monotonic() + 20
            while stream.failures == 0:
                assert time.monotonic() < deadline, "the drop was not noticed"
                stop.wait(0.1)
            stored = Message.objects.filter(account=account).count()
            mention_until_stored(fan, stored + 1)  # arrives through the new connection
    finally:
        stream.interrupt()
        stream.join(timeout=10)
    assert not stream.is_alive()
