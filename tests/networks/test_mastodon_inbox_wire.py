"""The Mastodon inbox's wire behaviour for each error shape and odd input (respx)."""

# ruff: noqa: F811  (the fixtures of test_mastodon_wire are imported and used by name)

from __future__ import annotations

import json

import httpx
import pytest
import respx
from tests.networks.test_mastodon_wire import (  # noqa: F401  (fixtures)
    SERVER,
    account,
    api,
    frozen_clock,
    provider,
    status_json,
)

from chorus.networks.providers.base import (
    AuthExpired,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.mastodon_streaming import (
    StreamingUnavailable,
    parse_events,
    streaming_base,
)

FAN = {"id": "8", "username": "fan", "acct": "fan@elsewhere.example", "display_name": "Fan"}


def notification(nid: str, kind: str, status: dict | None = None) -> dict:
    body = {"id": nid, "type": kind, "created_at": "2026-01-02T03:04:05Z", "account": FAN}
    return {**body, "status": status} if status else body


# --------------------------------------------------------------------------- polling


@pytest.mark.usefixtures("frozen_clock")
def test_polling_429_and_500_are_typed(api: respx.MockRouter, provider) -> None:
    route = api.get("/api/v1/notifications")
    route.respond(429, json={"error": "Too many requests"}, headers={"Retry-After": "42"})
    with pytest.raises(RateLimited) as limited:
        provider.fetch_interactions("5")
    assert limited.value.retry_after == 42
    route.respond(500, text="<html>oops</html>", headers={"content-type": "text/html"})
    with pytest.raises(Transient, match="HTTP 500"):
        provider.fetch_interactions("5")


def test_a_server_that_refuses_the_update_type_is_asked_without_it(
    api: respx.MockRouter, provider
) -> None:
    route = api.get("/api/v1/notifications")
    route.side_effect = [
        httpx.Response(400, json={"error": "unrecognized notification type: update"}),
        httpx.Response(200, json=[notification("5", "follow")]),
    ]
    page = provider.fetch_interactions()
    assert [i.kind for i in page.items] == ["follow"]
    asked = [call.request.url.params.get_list("types[]") for call in route.calls]
    assert "update" in asked[0] and "update" not in asked[1]


def test_unknown_types_and_broken_shapes_are_skipped(api: respx.MockRouter, provider) -> None:
    api.get("/api/v1/notifications").respond(
        200,
        json=[
            notification("1", "severed_relationships"),
            notification("2", "admin.sign_up"),
            {"id": "3", "type": "mention", "account": "not an object"},
            notification("4", "mention", {"id": "", "content": "no id"}),
            notification("5", "follow"),
        ],
    )
    page = provider.fetch_interactions()
    assert [(i.kind, i.remote_id) for i in page.items] == [("follow", "5")]
    assert page.cursor == "5"


def test_broken_unicode_is_repaired_not_fatal(api: respx.MockRouter, provider) -> None:
    mention = status_json("200", content="<p>caf\\u0065\\u0301 \\ud83d ok</p>", account=FAN)
    raw = httpx.Response(200, json=[notification("9", "mention", mention)]).content
    raw = raw.replace(b"\\\\u0065\\\\u0301", b"e\\u0301").replace(b"\\\\ud83d", b"\\ud83d")
    raw = raw.replace(b"ok", b"\xff\xfeok")  # bytes that are not UTF-8
    api.get("/api/v1/notifications").respond(200, content=raw)
    (item,) = provider.fetch_interactions().items
    assert item.text == "café \ufffd \ufffd\ufffdok"


def test_edits_arrive_as_update_notifications(api: respx.MockRouter, provider) -> None:
    edited = status_json(
        "300",
        account=FAN,
        in_reply_to_id="100",
        in_reply_to_account_id="7",
        edited_at="2026-01-02T04:00:00Z",
        content="<p>fixed typo</p>",
    )
    api.get("/api/v1/notifications").respond(200, json=[notification("11", "update", edited)])
    api.get("/api/v1/statuses/300/context").respond(
        200, json={"ancestors": [status_json("100")], "descendants": []}
    )
    (item,) = provider.fetch_interactions().items
    assert (item.kind, item.remote_id, item.text) == ("reply", "300", "fixed typo")
    assert item.edited_at is not None and item.subject == RemoteRef("100")
    assert item.created_at.hour == 3  # dated by the status, not by the edit


def test_a_context_that_is_gone_falls_back_to_the_parent(api: respx.MockRouter, provider) -> None:
    reply = status_json("301", account=FAN, in_reply_to_id="100", in_reply_to_account_id="7")
    api.get("/api/v1/notifications").respond(200, json=[notification("12", "mention", reply)])
    api.get("/api/v1/statuses/301/context").respond(404, json={"error": "Record not found"})
    (item,) = provider.fetch_interactions().items
    assert item.conversation_id == "100"


# --------------------------------------------------------------------------- threads and DMs


def test_fetch_thread_of_a_deleted_status(api: respx.MockRouter, provider) -> None:
    api.get("/api/v1/statuses/55").respond(404, json={"error": "Record not found"})
    (item,) = provider.fetch_thread(RemoteRef("55"))
    assert item.deleted and item.remote_id == "55" and item.text == ""


def test_fetch_thread_orders_replies_by_time(api: respx.MockRouter, provider) -> None:
    root = status_json("10")
    middle = status_json("20", in_reply_to_id="10", account=FAN)
    late = status_json("40", in_reply_to_id="20", created_at="2026-01-02T05:00:00Z")
    early = status_json("30", in_reply_to_id="20", created_at="2026-01-02T04:00:00Z")
    api.get("/api/v1/statuses/20").respond(200, json=middle)
    api.get("/api/v1/statuses/20/context").respond(
        200, json={"ancestors": [root], "descendants": [late, early]}
    )
    thread = provider.fetch_thread(RemoteRef("20"))
    assert [i.remote_id for i in thread] == ["10", "20", "30", "40"]
    assert {i.conversation_id for i in thread} == {"10"}


def test_direct_reply_mentions_everyone_and_sends_the_key(api: respx.MockRouter, provider) -> None:
    other = {"id": "9", "username": "pal", "acct": "pal@else.example"}
    first = status_json(
        "10", visibility="direct", account=FAN, mentions=[{"id": "7", "acct": "brand"}, other]
    )
    public = status_json("11", in_reply_to_id="10")
    api.get("/api/v1/statuses/10").respond(200, json=first)
    api.get("/api/v1/statuses/10/context").respond(
        200, json={"ancestors": [], "descendants": [public]}
    )
    sent = api.post("/api/v1/statuses").respond(200, json=status_json("12", visibility="direct"))
    ref = provider.send_direct_message("10", "@pal@else.example sure", idempotency_key="dm-1")
    assert ref.remote_id == "12"
    request = sent.calls.last.request
    assert request.headers["Idempotency-Key"] == "dm-1"
    body = httpx.Response(200, content=request.content).json()
    assert body == {
        "status": "@fan@elsewhere.example @pal@else.example sure",
        "visibility": "direct",
        "in_reply_to_id": "10",
    }


def test_direct_reply_to_a_conversation_that_is_gone(api: respx.MockRouter, provider) -> None:
    api.get("/api/v1/statuses/10").respond(404, json={"error": "Record not found"})
    with pytest.raises(Rejected, match="no longer exists"):
        provider.send_direct_message("10", "hello", idempotency_key="k")
    api.get("/api/v1/statuses/11").respond(200, json=status_json("11"))
    api.get("/api/v1/statuses/11/context").respond(200, json={"ancestors": [], "descendants": []})
    with pytest.raises(Rejected, match="no longer exists"):  # public thread: not a DM
        provider.send_direct_message("11", "hello", idempotency_key="k")


# --------------------------------------------------------------------------- streaming


def test_parse_events_follows_the_event_stream_format() -> None:
    lines = [
        ":connected",
        "event: notification",
        'data: {"a":',
        "data: 1}",
        "",
        "event: delete\r",
        "data:42",
        "",
        ":thump",
        "",
        "event: nothing",
        "",
    ]
    events = list(parse_events(lines))
    assert [(e.name, e.data) for e in events] == [
        ("notification", '{"a":\n1}'),
        ("delete", "42"),
    ]


def test_streaming_base_from_the_instance_document() -> None:
    v2 = {"configuration": {"urls": {"streaming": "wss://streaming.social.example"}}}
    assert streaming_base(v2, SERVER) == "https://streaming.social.example"
    v1 = {"urls": {"streaming_api": "wss://social.example"}}
    assert streaming_base(v1, SERVER) == "https://social.example"
    assert streaming_base({"configuration": {"urls": {"streaming": "ftp://x"}}}, SERVER) == SERVER
    assert streaming_base({}, SERVER) == SERVER


def sse(*events: tuple[str, str]) -> bytes:
    text = ":connected\n\n" + "".join(f"event: {n}\ndata: {d}\n\n" for n, d in events)
    return text.encode()


def stream_routes(api: respx.MockRouter, **stream: object) -> None:
    api.get("/api/v2/instance").respond(200, json={"domain": "social.example"})
    api.get("/api/v1/streaming/health").respond(200, text="OK")
    api.get("/api/v1/streaming/user").respond(**stream)


def test_stream_yields_interactions_then_transient(api: respx.MockRouter, provider) -> None:
    mention = status_json("200", account=FAN, mentions=[{"id": "7", "acct": "brand"}])
    elsewhere = status_json("201", account=FAN, edited_at="2026-01-02T04:00:00Z")
    edited = {**mention, "edited_at": "2026-01-02T04:00:00Z", "content": "<p>edited</p>"}
    body = sse(
        ("update", json.dumps(status_json("199"))),
        ("notification", json.dumps(notification("5", "mention", mention))),
        ("notification", "{broken json"),
        ("notification", json.dumps(notification("6", "poll"))),
        ("status.update", json.dumps(elsewhere)),
        ("status.update", json.dumps(edited)),
        ("delete", "200"),
        ("filters_changed", ""),
        ("announcement", "{}"),
    )
    stream_routes(api, status_code=200, content=body, headers={"content-type": "text/event-stream"})
    items = []
    with pytest.raises(Transient, match="closed the stream"):
        for item in provider.stream_interactions():
            items.append(item)
    assert [(i.kind, i.remote_id, i.deleted, i.edited_at is not None) for i in items] == [
        ("mention", "200", False, False),
        ("mention", "200", False, True),
        ("mention", "200", True, False),
    ]


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ({"status_code": 404, "json": {"error": "Not Found"}}, StreamingUnavailable, "polls"),
        (
            {
                "status_code": 200,
                "text": "<html>welcome</html>",
                "headers": {"content-type": "text/html"},
            },
            StreamingUnavailable,
            "no event stream",
        ),
        ({"status_code": 400, "text": "Bad Request"}, StreamingUnavailable, "Bad Request"),
        (
            {"status_code": 401, "json": {"error": "The access token is invalid"}},
            AuthExpired,
            "reconnect",
        ),
        ({"status_code": 429, "headers": {"Retry-After": "30"}}, RateLimited, "rate limit"),
        ({"status_code": 502, "text": "bad gateway"}, Transient, "HTTP 502"),
    ],
)
def test_stream_refusals_in_every_dialect(api, provider, answer, error, words) -> None:
    stream_routes(api, **answer)
    with pytest.raises(error, match=words):
        next(provider.stream_interactions())


def test_no_streaming_server_at_all(api: respx.MockRouter, provider) -> None:
    api.get("/api/v2/instance").respond(404)
    api.get("/api/v1/instance").respond(200, json={"uri": "social.example"})
    api.get("/api/v1/streaming/health").respond(404, text="Not Found")
    with pytest.raises(StreamingUnavailable):
        next(provider.stream_interactions())
