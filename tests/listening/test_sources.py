"""The Bluesky stream consumer: decoding, malformed frames, a source that is down, and
reconnecting from the saved cursor with no gap and no double count.

Jetstream is served by a local aiohttp WebSocket server sending the JSON events documented in
https://github.com/bluesky-social/jetstream#consuming-jetstream and honouring `cursor`; the
repository firehose is tested against the local reference Bluesky network in
test_bluesky_firehose.py.
"""

import asyncio
import json
import threading

import libipld
import pytest
from aiohttp import web
from django.db import connections

from chorus.listening import services
from chorus.listening.models import Mention, Source
from chorus.listening.sources.bluesky import (
    MalformedFrame,
    StreamError,
    decode_firehose,
    decode_jetstream,
)
from chorus.listening.sources.consumer import (
    JETSTREAM,
    JETSTREAM_REWIND_US,
    Consumer,
    stream_url,
)

DID = "did:plc:abc123"


def jetstream_post(time_us, rkey, text, **record):
    return {
        "did": DID,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": "3l3qo2vutsw2b",
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": "2026-12-01T10:00:00.000Z",
                "text": text,
                **record,
            },
            "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
        },
    }


def test_jetstream_post_with_facets_and_embed():
    message = jetstream_post(
        5,
        "3k1",
        "Deal at ร้านชอรัส today",
        langs=["th"],
        facets=[
            {
                "index": {"byteStart": 0, "byteEnd": 4},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Sale"}],
            }
        ],
        embed={
            "$type": "app.bsky.embed.recordWithMedia",
            "media": {"$type": "app.bsky.embed.images", "images": []},
        },
    )
    frame = decode_jetstream(json.dumps(message), {DID: "shop.example"})
    assert frame.cursor == 5
    (item,) = frame.posts
    assert item.uri == f"at://{DID}/app.bsky.feed.post/3k1"
    assert item.post.hashtags == ("Sale",) and item.post.has_media
    assert item.post.lang == "th" and item.post.author == "shop.example"
    assert item.posted_at.year == 2026


def test_jetstream_identity_and_other_events_move_the_cursor_only():
    handles = {}
    identity = {
        "did": DID,
        "time_us": 7,
        "kind": "identity",
        "identity": {"did": DID, "handle": "ann.example", "seq": 1, "time": "x"},
    }
    assert decode_jetstream(json.dumps(identity), handles).cursor == 7
    assert handles == {DID: "ann.example"}
    like = {
        "did": DID,
        "time_us": 8,
        "kind": "commit",
        "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "x"},
    }
    assert decode_jetstream(json.dumps(like)).posts == []


@pytest.mark.parametrize("frame", [b"", b"\xff\x00garbage", libipld.encode_dag_cbor({"op": 1})])
def test_malformed_firehose_frames_raise(frame):
    with pytest.raises(MalformedFrame):
        decode_firehose(frame)


def test_firehose_error_frame():
    frame = libipld.encode_dag_cbor({"op": -1}) + libipld.encode_dag_cbor(
        {"error": "FutureCursor", "message": "Cursor in the future."}
    )
    with pytest.raises(StreamError, match="FutureCursor"):
        decode_firehose(frame)


def test_firehose_events_without_posts_move_the_cursor():
    frame = libipld.encode_dag_cbor({"op": 1, "t": "#account"}) + libipld.encode_dag_cbor(
        {"seq": 42, "did": DID, "active": True, "time": "2026-12-01T10:00:00Z"}
    )
    assert decode_firehose(frame).cursor == 42


def test_stream_url_sets_the_cursor():
    assert stream_url("wss://j.example/subscribe?wantedCollections=a&cursor=1", 99) == (
        "wss://j.example/subscribe?wantedCollections=a&cursor=99"
    )
    assert stream_url("ws://h/x", None) == "ws://h/x"


class FakeJetstream:
    """Sends `events` after the requested cursor (inclusive, as a replay may be); the first
    connection also sends a malformed frame and drops after `drop_after` events."""

    def __init__(self, events, drop_after):
        self.events, self.drop_after = events, drop_after
        self.connections = []
        self.loop = asyncio.new_event_loop()
        self.port = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _serve(self, ready):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/subscribe", self.handler)
        runner = self.runner = web.AppRunner(app, handler_cancellation=True)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def handler(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        cursor = int(request.query.get("cursor", 0))
        self.connections.append(cursor)
        first = len(self.connections) == 1
        sent = 0
        for event in self.events:
            if event["time_us"] < cursor:
                continue
            if first and sent == 1:
                await ws.send_str("{not json")
            if first and sent == self.drop_after:
                await ws.close()  # the network drops us mid-stream
                return ws
            await ws.send_str(json.dumps(event))
            sent += 1
        await asyncio.sleep(30)
        return ws

    def stop(self):
        done = asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop)
        done.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def drive(consumer, condition, limit=60.0):
    """Run `consumer` on an event loop of its own thread (a browser test's loop may be running
    in this one) until `condition()` holds, then stop it."""
    errors = []

    def main():
        try:
            asyncio.run(run_until(consumer, condition, limit))
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(limit + 60)
    if errors:
        raise errors[0]


async def run_until(consumer, condition, limit=60.0):
    def check():
        try:
            return condition()
        finally:
            connections.close_all()  # this helper thread's own connection

    task = asyncio.create_task(consumer.run())
    waited = 0.0
    while waited < limit and not await asyncio.to_thread(check):
        await asyncio.sleep(0.1)
        waited += 0.1
    consumer.stop()
    await asyncio.wait_for(task, 30)


@pytest.mark.django_db(transaction=True)
def test_consumer_resumes_from_its_cursor_without_gap_or_double_count(owner):
    topic = services.topic_create(actor=owner, name="Shop")
    services.query_create(actor=owner, topic=topic, name="Us", text="chorus OR ชอรัส")
    base = 1_733_040_000_000_000  # time_us of the first event
    events = [jetstream_post(base + i, f"k{i}", f"chorus post {i}") for i in range(4)]
    events.insert(2, jetstream_post(base + 1, "th", "ร้านชอรัสเปิดแล้ว", langs=["th"]))
    server = FakeJetstream(events, drop_after=3)
    try:
        consumer = Consumer(
            name="test jetstream",
            kind=JETSTREAM,
            url=f"ws://127.0.0.1:{server.port}/subscribe?wantedCollections=app.bsky.feed.post",
            flush_seconds=0.1,
            first_backoff=0.05,
            max_backoff=0.2,
        )
        drive(consumer, lambda: Mention.objects.count() >= 5)
    finally:
        server.stop()
    assert Mention.objects.count() == 5
    assert len(server.connections) >= 2
    assert server.connections[1] == base + 1 - JETSTREAM_REWIND_US  # resumed, rewound
    source = Source.objects.get(name="test jetstream")
    assert source.cursor == base + 3 and source.reconnects >= 1 and source.malformed_frames == 1
    assert source.state == "stopped"
    assert Mention.objects.get(uri=f"at://{DID}/app.bsky.feed.post/th").language == "th"


@pytest.mark.django_db(transaction=True)
def test_a_source_that_is_down_shows_in_its_health_and_keeps_trying(owner):
    consumer = Consumer(
        name="down",
        kind=JETSTREAM,
        url="ws://127.0.0.1:9/subscribe",
        first_backoff=0.05,
        max_backoff=0.1,
    )
    drive(consumer, lambda: Source.objects.filter(name="down", reconnects__gte=2).exists())
    source = Source.objects.get(name="down")
    assert source.reconnects >= 2 and source.last_error


def test_a_batch_the_database_refused_waits_for_the_next_flush(monkeypatch):
    from django.db import DatabaseError

    calls = []

    def source_batch(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise DatabaseError("the database is down")
        return len(kwargs["posts"])

    monkeypatch.setattr(services, "source_batch", source_batch)
    consumer = Consumer(name="db", kind=JETSTREAM, url="ws://127.0.0.1:9/")
    consumer.source_id = 1
    consumer._take(json.dumps(jetstream_post(5, "a", "one")))
    consumer._take("{broken")

    async def flush_twice():
        with pytest.raises(DatabaseError):
            await consumer._flush()
        consumer._take(json.dumps(jetstream_post(6, "b", "two")))
        await consumer._flush()

    drive_coroutine = threading.Thread(target=lambda: asyncio.run(flush_twice()))
    drive_coroutine.start()
    drive_coroutine.join(30)
    assert [len(call["posts"]) for call in calls] == [1, 2]
    assert calls[1]["malformed"] == 1 and calls[1]["frames"] == 3 and calls[1]["cursor"] == 6
    assert consumer.stored == 2
