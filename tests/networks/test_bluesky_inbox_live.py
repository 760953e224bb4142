"""The Bluesky inbox against a real AT Protocol network (Bluesky's dev-env): replies,
quotes and mentions with their conversation ids and subjects, thread context, answering in
the thread, and a post that is gone. The dev network has no chat service: DMs are tested
against the emulator (test_bluesky_chat.py); here they must not hold notifications back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.networks.test_bluesky_live import act, eventually, key, now_iso, sign_in
from tests.servers.bluesky_server import BlueskyTestServer

from chorus.networks.providers.base import PostDraft, RemoteRef
from chorus.networks.providers.bluesky import Bluesky


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as client:
        yield client


@pytest.fixture
def alice(bluesky_server: BlueskyTestServer, http: httpx.Client) -> Bluesky:
    return sign_in(bluesky_server, bluesky_server.accounts[0], http)


@pytest.fixture
def bob(bluesky_server: BlueskyTestServer, http: httpx.Client) -> Bluesky:
    return sign_in(bluesky_server, bluesky_server.accounts[1], http)


def indexed(reader: Bluesky, uri: str) -> None:
    """Wait until the AppView serves the post (until then its thread reads as gone)."""

    def served():
        return any(
            i.remote_id == uri and not i.deleted for i in reader.fetch_thread(RemoteRef(uri))
        )

    eventually(served, f"the AppView to index {uri}")


def post_as(author: Bluesky, text: str, **extra: object) -> dict:
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": now_iso(), **extra}
    body = {"repo": author.did, "collection": "app.bsky.feed.post", "record": record}
    return act(author, "com.atproto.repo.createRecord", body)


def test_replies_quotes_and_mentions_with_thread_context(
    bluesky_server: BlueskyTestServer, alice: Bluesky, bob: Bluesky
) -> None:
    post = alice.publish(PostDraft(text="Tell us what you think", idempotency_key=key()))
    baseline = alice.fetch_interactions()
    eventually(lambda: alice.fetch_post_metrics([post.ref]), "the AppView to index the post")
    ours = {"uri": post.ref.remote_id, "cid": post.ref.extra["cid"]}
    reply = post_as(bob, "Love it", reply={"root": ours, "parent": ours})
    theirs = {"uri": reply["uri"], "cid": reply["cid"]}
    indexed(alice, reply["uri"])
    deeper = post_as(
        bob,
        f"@{alice.handle} and more",
        reply={"root": ours, "parent": theirs},
        facets=[_mention(alice, f"@{alice.handle}")],
    )
    quote = post_as(bob, "Look at this", embed={"$type": "app.bsky.embed.record", "record": ours})
    text = f"Hey @{alice.handle}"
    mention = post_as(bob, text, facets=[_mention(alice, text[4:], start=4)])
    wanted = {reply["uri"], deeper["uri"], quote["uri"], mention["uri"]}

    def all_arrived():
        page = alice.fetch_interactions(baseline.cursor)
        return page if wanted <= {i.remote_id for i in page.items} else None

    page = eventually(all_arrived, "the reply, quote and mention in the notifications")
    by_id = {item.remote_id: item for item in page.items}
    assert by_id[reply["uri"]].kind == "reply"
    assert by_id[reply["uri"]].subject.remote_id == post.ref.remote_id
    assert by_id[reply["uri"]].in_reply_to == post.ref.remote_id
    assert by_id[deeper["uri"]].conversation_id == post.ref.remote_id
    assert by_id[deeper["uri"]].in_reply_to == reply["uri"]
    assert by_id[quote["uri"]].kind == "quote"
    assert by_id[quote["uri"]].subject.remote_id == post.ref.remote_id
    assert by_id[mention["uri"]].kind == "mention"
    assert by_id[mention["uri"]].conversation_id == mention["uri"]
    # The dev network has no chat service: the DMs fail alone, with a warning.
    assert page.warnings and page.warnings[0].startswith("Direct messages were not read")

    answer = alice.publish(
        PostDraft(text="Thank you!", idempotency_key=key(), reply_to=RemoteRef(deeper["uri"]))
    )

    def thread_with_answer():
        thread = alice.fetch_thread(RemoteRef(reply["uri"]))
        return thread if answer.ref.remote_id in {i.remote_id for i in thread} else None

    thread = eventually(thread_with_answer, "our answer in the thread")
    assert [i.remote_id for i in thread] == [
        post.ref.remote_id,
        reply["uri"],
        deeper["uri"],
        answer.ref.remote_id,
    ]
    assert {i.conversation_id for i in thread} == {post.ref.remote_id}
    assert thread[1].subject.remote_id == post.ref.remote_id  # Bob's reply answers our post
    assert thread[3].in_reply_to == deeper["uri"]


def test_a_deleted_post_comes_back_deleted(alice: Bluesky, bob: Bluesky) -> None:
    post = alice.publish(PostDraft(text="Short-lived", idempotency_key=key()))
    eventually(lambda: alice.fetch_post_metrics([post.ref]), "the AppView to index the post")
    ours = {"uri": post.ref.remote_id, "cid": post.ref.extra["cid"]}
    reply = post_as(bob, "Replying before it goes", reply={"root": ours, "parent": ours})
    indexed(alice, reply["uri"])
    alice.delete(post.ref)

    def parent_gone():
        thread = alice.fetch_thread(RemoteRef(reply["uri"]))
        return thread if thread and thread[0].deleted else None

    thread = eventually(parent_gone, "the parent to be gone from the thread")
    assert thread[0].remote_id == post.ref.remote_id and thread[0].text == ""
    assert thread[1].remote_id == reply["uri"] and not thread[1].deleted

    def post_gone():
        (item,) = alice.fetch_thread(post.ref)
        return item if item.deleted else None

    assert eventually(post_gone, "the post itself to be gone").remote_id == post.ref.remote_id


def _mention(target: Bluesky, text: str, *, start: int = 0) -> dict:
    """A mention facet for `text` starting at byte `start` of the post's text."""
    return {
        "index": {"byteStart": start, "byteEnd": start + len(text.encode())},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": target.did}],
    }
