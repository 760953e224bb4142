"""The Mastodon inbox against a real, stateful Mastodon API server (mastodon-mock):
conversation ids, thread context, direct-message replies, edits, deletions, streaming."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.networks.test_mastodon_live import Connected, connect, draft
from tests.servers.mastodon_server import MastodonTestServer

from chorus.networks.providers.base import Interaction, PostDraft, RemoteRef, Transient
from chorus.networks.providers.mastodon import Mastodon

WAIT_SECONDS = 30.0


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def me(mastodon_server: MastodonTestServer, http: httpx.Client) -> Connected:
    username, _ = mastodon_server.new_user("inbox")
    return connect(mastodon_server, http, username)


@pytest.fixture
def fan(mastodon_server: MastodonTestServer) -> Iterator[tuple[str, httpx.Client]]:
    username, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as client:
        yield username, client


def created(response: httpx.Response) -> dict:
    response.raise_for_status()
    return response.json()


def test_replies_share_the_thread_root_and_fetch_thread_gives_context(
    me: Connected, fan: tuple[str, httpx.Client]
) -> None:
    fan_name, client = fan
    start = me.provider.fetch_interactions()
    root = me.provider.publish(draft("What do you think?", "k-root"))
    reply = created(
        client.post(
            "/api/v1/statuses",
            json={"status": f"@{me.username} I agree", "in_reply_to_id": root.ref.remote_id},
        )
    )
    deeper = created(
        client.post(
            "/api/v1/statuses",
            json={"status": f"@{me.username} and also this", "in_reply_to_id": reply["id"]},
        )
    )

    page = me.provider.fetch_interactions(start.cursor)
    by_id = {i.remote_id: i for i in page.items}
    assert set(by_id) == {reply["id"], deeper["id"]}
    assert by_id[reply["id"]].kind == "reply"
    assert by_id[reply["id"]].subject == RemoteRef(root.ref.remote_id)
    assert by_id[reply["id"]].in_reply_to == root.ref.remote_id
    assert by_id[deeper["id"]].kind == "mention"  # answers the fan's own reply
    assert {i.conversation_id for i in page.items} == {root.ref.remote_id}
    assert all(i.visibility == "public" for i in page.items)

    ours = me.provider.publish(
        PostDraft(text="Thanks!", idempotency_key="k-answer", reply_to=RemoteRef(deeper["id"]))
    )
    thread = me.provider.fetch_thread(RemoteRef(reply["id"]))
    assert [i.remote_id for i in thread] == [
        root.ref.remote_id,
        reply["id"],
        deeper["id"],
        ours.ref.remote_id,
    ]
    assert {i.conversation_id for i in thread} == {root.ref.remote_id}
    assert thread[-1].in_reply_to == deeper["id"]
    assert thread[1].author_handle.startswith(f"{fan_name}@")


def test_direct_messages_are_answered_in_their_conversation(
    mastodon_server: MastodonTestServer, me: Connected, fan: tuple[str, httpx.Client]
) -> None:
    fan_name, client = fan
    start = me.provider.fetch_interactions()
    first = created(
        client.post(
            "/api/v1/statuses",
            json={"status": f"@{me.username} can we talk privately?", "visibility": "direct"},
        )
    )
    page = me.provider.fetch_interactions(start.cursor)
    [dm] = page.items
    assert (dm.kind, dm.conversation_id, dm.visibility) == ("direct_message", first["id"], "direct")

    sent = me.provider.send_direct_message(
        dm.conversation_id, "Sure, go ahead", idempotency_key="dm1"
    )
    again = me.provider.send_direct_message(
        dm.conversation_id, "Sure, go ahead", idempotency_key="dm1"
    )
    assert again.remote_id == sent.remote_id  # the Idempotency-Key held
    seen = created(client.get(f"/api/v1/statuses/{sent.remote_id}"))
    assert seen["visibility"] == "direct"
    assert seen["in_reply_to_id"] == first["id"]
    assert [m["username"] for m in seen["mentions"]] == [fan_name]

    answer = created(
        client.post(
            "/api/v1/statuses",
            json={
                "status": f"@{me.username} thanks",
                "visibility": "direct",
                "in_reply_to_id": sent.remote_id,
            },
        )
    )
    [later] = me.provider.fetch_interactions(page.cursor).items
    assert (later.remote_id, later.conversation_id) == (answer["id"], first["id"])
    conversations = created(client.get("/api/v1/conversations"))
    assert any(c["last_status"]["id"] == answer["id"] for c in conversations)


def test_deleted_and_edited_statuses_show_in_the_thread(
    me: Connected, fan: tuple[str, httpx.Client]
) -> None:
    _, client = fan
    root = me.provider.publish(draft("Edit me if you dare", "k-edit"))
    reply = created(
        client.post(
            "/api/v1/statuses",
            json={"status": f"@{me.username} typo", "in_reply_to_id": root.ref.remote_id},
        )
    )
    created(client.put(f"/api/v1/statuses/{reply['id']}", json={"status": f"@{me.username} fixed"}))
    [_, edited] = me.provider.fetch_thread(RemoteRef(reply["id"]))
    assert edited.text.endswith("fixed") and edited.edited_at is not None

    created(client.delete(f"/api/v1/statuses/{reply['id']}"))
    [gone] = me.provider.fetch_thread(RemoteRef(reply["id"]))
    assert gone.deleted and gone.remote_id == reply["id"] and gone.text == ""


def test_stream_pushes_mentions_edits_and_deletions(
    mastodon_server: MastodonTestServer, me: Connected, fan: tuple[str, httpx.Client]
) -> None:
    _, client = fan
    fan_id = created(client.get("/api/v1/accounts/verify_credentials"))["id"]
    me.provider.http.post(
        f"{mastodon_server.base_url}/api/v1/accounts/{fan_id}/follow",
        headers={"Authorization": f"Bearer {me.token}"},
    ).raise_for_status()
    items: queue.Queue[Interaction | Exception] = queue.Queue()
    stream_http = httpx.Client(timeout=10)
    streaming = Mastodon(me.provider.credentials, http=stream_http)

    def consume() -> None:
        try:
            for item in streaming.stream_interactions():
                items.put(item)
        except Exception as exc:  # the test reads it from the queue
            items.put(exc)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    # The stream subscribes some time after the request: mention until one arrives.
    deadline, posted, first = time.monotonic() + WAIT_SECONDS, [], None
    while first is None:
        assert time.monotonic() < deadline, "no mention came through the stream"
        posted.append(
            created(client.post("/api/v1/statuses", json={"status": f"@{me.username} ping"}))
        )
        try:
            first = items.get(timeout=0.5)
        except queue.Empty:
            continue
    assert isinstance(first, Interaction), first
    assert first.kind == "mention" and first.remote_id in {p["id"] for p in posted}

    created(
        client.put(f"/api/v1/statuses/{first.remote_id}", json={"status": f"@{me.username} pong"})
    )
    created(client.delete(f"/api/v1/statuses/{first.remote_id}"))
    wanted: dict[str, Interaction] = {}
    while not ({"edited", "deleted"} <= set(wanted)):
        item = items.get(timeout=WAIT_SECONDS)
        assert isinstance(item, Interaction), item
        if item.remote_id == first.remote_id and item.edited_at is not None:
            wanted["edited"] = item
        if item.remote_id == first.remote_id and item.deleted:
            wanted["deleted"] = item
    assert wanted["edited"].text.endswith("pong")

    stream_http.close()  # the stream breaks off: the caller sees Transient
    worker.join(timeout=WAIT_SECONDS)
    leftovers = []
    while not items.empty():
        leftovers.append(items.get())
    assert isinstance(leftovers[-1], Transient)
