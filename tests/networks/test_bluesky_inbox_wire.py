"""The Bluesky inbox's wire behaviour (respx): the compound cursor, chat failures that
leave notifications alone, thread shapes, sending errors, polling errors, broken input."""

# ruff: noqa: F811  (the fixtures of test_bluesky_wire are imported and used by name)

from __future__ import annotations

import httpx
import pytest
import respx
from tests.networks.test_bluesky_wire import (  # noqa: F401  (fixtures)
    DID,
    XRPC,
    api,
    error,
    frozen_clock,
    notification,
    provider,
)

from chorus.networks.providers.base import AuthExpired, RateLimited, Rejected, RemoteRef, Transient
from chorus.networks.providers.bluesky import Bluesky
from chorus.networks.providers.bluesky_chat import CHAT_SERVICE
from chorus.networks.providers.bluesky_inbox import decode_cursor

FAN = {"did": "did:plc:fan", "handle": "fan.example", "displayName": "Fan"}
DEFS = "chat.bsky.convo.defs"


def message(mid: str, text: str, sender: str = "did:plc:fan", at: str = "2026-01-02T03:00:00Z"):
    return {
        "$type": f"{DEFS}#messageView",
        "id": mid,
        "rev": mid,
        "text": text,
        "sender": {"did": sender},
        "sentAt": at,
    }


def created(mid: str, text: str, **kw) -> dict:
    return {
        "$type": f"{DEFS}#logCreateMessage",
        "rev": mid,
        "convoId": "c1",
        "message": message(mid, text, **kw),
        "relatedProfiles": [FAN],
    }


def test_dms_fold_into_the_cursor_without_gaps(api: respx.MockRouter, provider: Bluesky) -> None:
    api.get(f"{XRPC}/app.bsky.notification.listNotifications").respond(
        200, json={"notifications": []}
    )
    api["listConvos"].respond(
        200,
        json={
            "convos": [
                {"id": "c1", "rev": "r1", "members": [FAN], "lastMessage": message("m1", "hi")},
                {"id": "c2", "rev": "r0", "members": [], "lastMessage": message("m0", "mine", DID)},
            ]
        },
    )
    log = api["getLog"]
    log.side_effect = [
        httpx.Response(200, json={"cursor": "r1", "logs": []}),
        httpx.Response(
            200,
            json={
                "cursor": "r3",
                "logs": [
                    created("m2", "first"),
                    {"$type": f"{DEFS}#logReadMessage", "rev": "r3", "convoId": "c1"},
                ],
            },
        ),
        httpx.Response(
            200,
            json={
                "cursor": "r5",
                "logs": [
                    created("m4", "mine", sender=DID),
                    {
                        "$type": f"{DEFS}#logDeleteMessage",
                        "rev": "r5",
                        "convoId": "c1",
                        "message": {**message("m2", ""), "$type": f"{DEFS}#deletedMessageView"},
                    },
                    {"$type": "chat.bsky.convo.defs#logSomethingNew", "rev": "r5"},
                ],
            },
        ),
        httpx.Response(200, json={"cursor": "r5", "logs": []}),
    ]
    first = provider.fetch_interactions()
    assert [(i.kind, i.remote_id, i.author_handle) for i in first.items] == [
        ("direct_message", "m1", "fan.example")
    ]
    assert decode_cursor(first.cursor, provider.overlap)[2] == "r1"
    assert "cursor" not in log.calls[0].request.url.params
    assert log.calls[0].request.headers["atproto-proxy"] == CHAT_SERVICE

    second = provider.fetch_interactions(first.cursor)
    assert [(i.remote_id, i.deleted) for i in second.items] == [("m2", False), ("m2", True)]
    assert [c.request.url.params.get("cursor") for c in log.calls[1:]] == ["r1", "r3", "r5"]
    assert decode_cursor(second.cursor, provider.overlap)[2] == "r5"
    assert second.items[0].conversation_id == "c1" and second.items[0].text == "first"


def test_a_chat_failure_leaves_notifications_and_the_chat_cursor(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    reply = notification("at://did:plc:other/app.bsky.feed.post/2", "reply", "2026-01-02T03:01:00Z")
    api.get(f"{XRPC}/app.bsky.notification.listNotifications").respond(
        200, json={"notifications": [reply]}
    )
    api["getLog"].respond(400, json={"error": "InvalidToken", "message": "Bad token method"})
    page = provider.fetch_interactions()
    assert [i.kind for i in page.items] == ["reply"]
    (warning,) = page.warnings
    assert "Allow access to your direct messages" in warning and "reconnect" in warning
    assert decode_cursor(page.cursor, provider.overlap)[2] is None  # DMs start afresh later

    api["getLog"].respond(502, text="upstream failed")
    later = provider.fetch_interactions(page.cursor)
    assert later.items == () and "HTTP 502" in later.warnings[0]


@pytest.mark.usefixtures("frozen_clock")
def test_polling_429_and_500_are_typed(api: respx.MockRouter, provider: Bluesky) -> None:
    route = api.get(f"{XRPC}/app.bsky.notification.listNotifications")
    route.respond(429, json={"error": "RateLimitExceeded"}, headers={"retry-after": "17"})
    with pytest.raises(RateLimited) as limited:
        provider.fetch_interactions()
    assert limited.value.retry_after == 17
    route.respond(500, json={"error": "InternalServerError"})
    with pytest.raises(Transient):
        provider.fetch_interactions()


def test_unknown_reasons_and_broken_text(api: respx.MockRouter, provider: Bluesky) -> None:
    broken = notification(
        "at://did:plc:other/app.bsky.feed.post/5", "mention", "2026-01-02T03:00:00Z"
    )
    broken["record"] = {"text": "PLACEHOLDER", "createdAt": "2026-01-02T03:00:00Z"}
    body = httpx.Response(
        200,
        json={
            "notifications": [
                notification("at://x/app.bsky.feed.post/1", "verified", "2026-01-02T03:00:00Z"),
                notification(
                    "at://x/app.bsky.feed.post/2", "like-via-repost", "2026-01-02T03:00:00Z"
                ),
                {"uri": 5, "reason": "reply"},
                broken,
            ]
        },
    ).content.replace(b"PLACEHOLDER", b"bad \\udc00 \xc3\x28 end")
    api.get(f"{XRPC}/app.bsky.notification.listNotifications").respond(200, content=body)
    (item,) = provider.fetch_interactions().items
    assert item.text == "bad \ufffd \ufffd( end"


# --------------------------------------------------------------------------- threads


def post_view(uri: str, text: str, parent: str = "", root: str = "", at: str = "") -> dict:
    record: dict = {"text": text, "createdAt": at or "2026-01-02T03:00:00Z"}
    if parent:
        record["reply"] = {"parent": {"uri": parent}, "root": {"uri": root or parent}}
    return {
        "uri": uri,
        "cid": "c",
        "author": FAN,
        "record": record,
        "indexedAt": record["createdAt"],
    }


def test_thread_shapes(api: respx.MockRouter, provider: Bluesky) -> None:
    root = f"at://{DID}/app.bsky.feed.post/root"
    gone = "at://did:plc:fan/app.bsky.feed.post/gone"
    here = "at://did:plc:fan/app.bsky.feed.post/here"
    thread = {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": post_view(here, "here", parent=gone, root=root),
        "parent": {
            "$type": "app.bsky.feed.defs#notFoundPost",
            "uri": gone,
            "notFound": True,
            "parent": {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": post_view(root, "root"),
            },
        },
        "replies": [
            {"$type": "app.bsky.feed.defs#blockedPost", "uri": "at://b/app.bsky.feed.post/1"},
            {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": post_view(
                    "at://did:plc:fan/app.bsky.feed.post/late",
                    "late",
                    here,
                    root,
                    "2026-01-02T05:00:00Z",
                ),
                "replies": [
                    {
                        "$type": "app.bsky.feed.defs#threadViewPost",
                        "post": post_view(
                            "at://did:plc:fan/app.bsky.feed.post/early",
                            "early",
                            here,
                            root,
                            "2026-01-02T04:00:00Z",
                        ),
                    }
                ],
            },
            {"$type": "app.bsky.feed.defs#somethingNew"},
        ],
    }
    api.get(f"{XRPC}/app.bsky.feed.getPostThread").respond(200, json={"thread": thread})
    items = provider.fetch_thread(RemoteRef(here))
    assert [(i.remote_id.rsplit("/", 1)[-1], i.deleted) for i in items] == [
        ("root", False),
        ("gone", True),
        ("here", False),
        ("early", False),
        ("late", False),
    ]
    assert items[2].conversation_id == root and items[2].in_reply_to == gone


def test_thread_of_a_post_that_is_gone(api: respx.MockRouter, provider: Bluesky) -> None:
    uri = f"at://{DID}/app.bsky.feed.post/gone"
    route = api.get(f"{XRPC}/app.bsky.feed.getPostThread")
    route.respond(400, json={"error": "NotFound", "message": f"Post not found: {uri}"})
    (item,) = provider.fetch_thread(RemoteRef(uri))
    assert item.deleted and item.remote_id == uri
    route.respond(
        200,
        json={"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}},
    )
    assert provider.fetch_thread(RemoteRef(uri))[0].deleted


# --------------------------------------------------------------------------- sending


@pytest.mark.parametrize(
    ("answer", "error_type", "words"),
    [
        (error(400, "ConvoLocked", "convo is locked"), Rejected, "locked"),
        (error(400, "InvalidConvo", "Convo not found"), Rejected, "no longer exists"),
        (
            error(400, "InvalidRequest", "recipient has disabled incoming messages"),
            Rejected,
            "does not take these messages",
        ),
        (error(400, "InvalidToken", "Bad token method"), AuthExpired, "direct messages"),
        (error(429, "RateLimitExceeded"), RateLimited, "rate limit"),
    ],
)
def test_send_refusals(api, provider, answer, error_type, words) -> None:
    api.get(f"{XRPC}/chat.bsky.convo.getMessages").respond(200, json={"messages": []})
    api.post(f"{XRPC}/chat.bsky.convo.sendMessage").mock(return_value=answer)
    with pytest.raises(error_type, match=words):
        provider.send_direct_message("c1", "hello", idempotency_key="k")


def test_a_lost_answer_is_found_instead_of_sent_again(api, provider) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    reads = api.get(f"{XRPC}/chat.bsky.convo.getMessages")
    reads.side_effect = [
        httpx.Response(200, json={"messages": [message("m1", "hello", "did:plc:fan", now)]}),
        httpx.Response(200, json={"messages": [message("m2", "hello", DID, now)]}),
    ]
    api.post(f"{XRPC}/chat.bsky.convo.sendMessage").mock(side_effect=httpx.ReadTimeout("lost"))
    ref = provider.send_direct_message("c1", "hello", idempotency_key="k")
    assert ref.remote_id == "m2" and ref.extra == {"convo_id": "c1"}
