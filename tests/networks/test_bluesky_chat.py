"""Bluesky direct messages against the emulator's chat service (there is no local one)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from chorus.networks.providers.base import AuthExpired, Rejected
from chorus.networks.providers.bluesky import Bluesky
from chorus.networks.providers.bluesky_chat import Chat
from chorus.testing.emulator import EmulatorServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(rate_limit=None) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    server.reset()
    return server


def account(emulator: EmulatorServer, http: httpx.Client, handle: str, **kw) -> Bluesky:
    return Bluesky(emulator.bluesky_credentials(handle, **kw), http=http)


def open_convo(sender: Bluesky, recipient: Bluesky) -> str:
    convo = sender.chat_call(
        "chat.bsky.convo.getConvoForMembers", params={"members": [recipient.did]}
    )
    return convo["convo"]["id"]


def write(sender: Bluesky, convo_id: str, text: str) -> dict:
    body = {"convoId": convo_id, "message": {"text": text}}
    return sender.chat_call("chat.bsky.convo.sendMessage", body=body)


def test_first_read_shows_latest_messages_then_follows_the_log(emulator, http) -> None:
    brand, fan = account(emulator, http, "brand.test"), account(emulator, http, "fan.test")
    convo = open_convo(fan, brand)
    write(fan, convo, "Hello there")

    first, cursor = Chat(brand).read(None, max_pages=5)
    assert [(i.kind, i.text, i.conversation_id) for i in first] == [
        ("direct_message", "Hello there", convo)
    ]
    assert first[0].author_handle == "fan.test" and first[0].visibility == "direct"

    nothing, same = Chat(brand).read(cursor, max_pages=5)
    assert nothing == [] and same == cursor

    second = write(fan, convo, "Are you there? ก็ได้")
    sent = brand.send_direct_message(convo, "Yes, how can we help?", idempotency_key="k1")
    later, cursor = Chat(brand).read(cursor, max_pages=5)
    assert [i.remote_id for i in later] == [second["id"]]  # our own message is left out
    assert later[0].text == "Are you there? ก็ได้"
    fan_view, _ = Chat(fan).read(None, max_pages=5)
    assert [(i.remote_id, i.author_handle) for i in fan_view] == [(sent.remote_id, "brand.test")]


def test_the_log_is_read_across_pages(emulator, http) -> None:
    brand, fan = account(emulator, http, "brand.test"), account(emulator, http, "fan.test")
    convo = open_convo(fan, brand)
    _, cursor = Chat(brand).read(None, max_pages=5)
    for n in range(130):  # the emulator pages the log by 100
        write(fan, convo, f"message {n}")
    items, cursor = Chat(brand).read(cursor, max_pages=5)
    assert [i.text for i in items] == [f"message {n}" for n in range(130)]
    assert Chat(brand).read(cursor, max_pages=5)[0] == []


def test_a_retried_send_is_not_sent_twice(emulator, http) -> None:
    brand, fan = account(emulator, http, "brand.test"), account(emulator, http, "fan.test")
    convo = open_convo(fan, brand)
    write(fan, convo, "hi")
    one = brand.send_direct_message(convo, "Thanks for writing", idempotency_key="k")
    two = brand.send_direct_message(convo, "Thanks for writing", idempotency_key="k")
    assert one.remote_id == two.remote_id
    messages = brand.chat_call("chat.bsky.convo.getMessages", params={"convoId": convo})
    assert [m["text"] for m in messages["messages"]] == ["Thanks for writing", "hi"]


def test_deleted_messages_are_reported(emulator, http) -> None:
    brand, fan = account(emulator, http, "brand.test"), account(emulator, http, "fan.test")
    convo = open_convo(fan, brand)
    _, cursor = Chat(brand).read(None, max_pages=5)
    message = write(fan, convo, "oops")
    brand.chat_call(
        "chat.bsky.convo.deleteMessageForSelf",
        body={"convoId": convo, "messageId": message["id"]},
    )
    items, _ = Chat(brand).read(cursor, max_pages=5)
    assert [(i.remote_id, i.deleted) for i in items] == [
        (message["id"], False),
        (message["id"], True),
    ]


def test_an_app_password_without_dm_access_says_what_to_do(emulator, http) -> None:
    brand = account(emulator, http, "brand.test", dm_access=False)
    assert brand.verify().handle == "brand.test"  # everything but the chat works
    with pytest.raises(AuthExpired, match="Allow access to your direct messages"):
        Chat(brand).read(None, max_pages=5)
    with pytest.raises(AuthExpired, match="reconnect"):
        brand.send_direct_message("convo1", "hi", idempotency_key="k")


def test_recipients_who_take_no_messages_and_unknown_convos_are_refused(emulator, http) -> None:
    brand, shy = account(emulator, http, "brand.test"), account(emulator, http, "shy.test")
    shy.http.post(
        f"{shy.pds_url}/xrpc/com.atproto.repo.createRecord",
        json={
            "repo": shy.did,
            "collection": "chat.bsky.actor.declaration",
            "rkey": "self",
            "record": {"$type": "chat.bsky.actor.declaration", "allowIncoming": "none"},
        },
        headers={"Authorization": f"Bearer {shy.credentials.secrets['accessJwt']}"},
    ).raise_for_status()
    with pytest.raises(Rejected, match="does not take these messages.*disabled incoming"):
        open_convo(brand, shy)
    with pytest.raises(Rejected, match="no longer exists"):
        brand.send_direct_message("convo-unknown", "hi", idempotency_key="k")
    with pytest.raises(Rejected, match="empty"):
        brand.send_direct_message("convo-unknown", "  ", idempotency_key="k")


def test_without_the_proxy_header_the_pds_finds_no_service(emulator, http) -> None:
    brand = account(emulator, http, "brand.test")
    response = http.get(
        f"{brand.pds_url}/xrpc/chat.bsky.convo.getLog",
        headers={"Authorization": f"Bearer {brand.credentials.secrets['accessJwt']}"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "No service configured for chat.bsky.convo.getLog"


def test_a_renewed_session_keeps_the_app_passwords_rights(emulator, http) -> None:
    brand = account(emulator, http, "brand.test", dm_access=False)
    brand.refresh()
    with pytest.raises(AuthExpired, match="direct messages"):
        Chat(brand).read(None, max_pages=5)
