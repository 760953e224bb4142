"""Listening, end to end: time from a post appearing on a stream to its stored match.

    .venv/bin/python bench/listening_latency.py [--posts 400] [--rate 20] [--matchers 2]

A local Mastodon server (mastodon-mock, as the tests use) streams its public timeline over
the WebSocket; a MastodonConsumer reads it with the default batching (flush every second or
200 posts). Posts are made at --rate a second through the server's API, each matching a
listening query; the time from just before the post is made to the moment its mention is
stored (the insert done; in-process the batch's commit follows within milliseconds) is
measured:

* in-process: the reading process matches and stores (the default install);
* broker: CHORUS_LISTENING_BROKER on the Redis at 127.0.0.1:6379: the reader XADDs, and
  --matchers matcher threads of one consumer group XREADGROUP, store and XACK.

Goal: p99 <= 2 s. A fresh SQLite database is migrated (DATABASE_URL, e.g. PostgreSQL, is
used instead when set).
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def setup_django(data_dir: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{data_dir}/latency.sqlite3")
    os.environ.update(
        CHORUS_DATA_DIR=data_dir,
        CHORUS_LOG_LEVEL="WARNING",
        CHORUS_OUTBOUND_ALLOW="127.0.0.1",
        DJANGO_SETTINGS_MODULE="chorus.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def start_mastodon():
    from mastodon_mock.config import DatabaseConfig, MastodonMockConfig, SeedConfig, StreamingConfig
    from mastodon_mock.testing.server import MockServer

    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(),
        streaming=StreamingConfig(enabled=True, heartbeat_seconds=1.0),
    )
    return MockServer(config=config, host="127.0.0.1", startup_timeout=30).start()


class Stored:
    """Wraps services.ingest: when each post's mention was stored."""

    def __init__(self, services) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()
        self._ingest = services.ingest
        services.ingest = self

    def __call__(self, posts):
        stored = self._ingest(posts)
        now = time.monotonic()

        with self.lock:
            for item in posts:
                self.at.setdefault(item.post.text, now)
        return stored


def run(label, server, token, args, stored, *, matchers=0):
    import httpx
    from django.db import connections

    from chorus.listening import pipeline
    from chorus.listening.sources.mastodon import MastodonConsumer, MastodonStream

    consumer = MastodonConsumer(MastodonStream(server.base_url, "public"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(consumer.run(),))
    thread.start()
    workers = []
    for n in range(matchers):
        matcher = pipeline.Matcher(
            pipeline.Broker(os.environ["CHORUS_LISTENING_BROKER"]), name=f"m{n}", block_ms=200
        )

        def work(matcher=matcher):
            matcher.run()
            connections.close_all()

        workers.append((matcher, threading.Thread(target=work)))
        workers[-1][1].start()
    from chorus.listening.models import Source

    while not Source.objects.filter(name=consumer.name, state="connected").exists():
        time.sleep(0.1)
    sent: dict[str, float] = {}
    prefix = uuid.uuid4().hex[:6]
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        start = time.monotonic()
        for i in range(args.posts):
            due = start + i / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            text = f"chorus {prefix} {i}"
            sent[text] = time.monotonic()
            client.post("/api/v1/statuses", data={"status": text}).raise_for_status()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(text in stored.at for text in sent):
        time.sleep(0.1)
    loop.call_soon_threadsafe(consumer.stop)
    thread.join(30)
    for matcher, worker in workers:
        matcher.stop()
        worker.join(30)
    source = Source.objects.get(name=consumer.name)
    if source.reconnects:
        print(f"  ({label}: {source.reconnects} reconnections, last error: {source.last_error})")
    delays = sorted(stored.at[t] - sent[t] for t in sent if t in stored.at)
    missing = len(sent) - len(delays)

    def pct(q):
        return delays[min(len(delays) - 1, int(q * len(delays)))]

    print(
        f"{label:<32} {len(delays)} posts at {args.rate}/s: p50 {pct(0.5):.2f} s, "
        f"p95 {pct(0.95):.2f} s, p99 {pct(0.99):.2f} s, max {delays[-1]:.2f} s "
        f"(goal p99 <= 2 s); mean {statistics.mean(delays):.2f} s; not stored {missing}"
    )


def warm_up_post():
    import datetime as dt

    from chorus.listening.matcher import ListeningPost
    from chorus.listening.services import IncomingPost

    return IncomingPost(
        post=ListeningPost(text="chorus ร้านชอรัส", network="mastodon", lang="th"),
        uri="https://bench.example/warm-up",
        posted_at=dt.datetime.now(dt.UTC),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--matchers", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.conf import settings

        from chorus.accounts import services as accounts
        from chorus.accounts.models import Membership
        from chorus.listening import pipeline, services

        user = accounts.user_sign_up(
            email="bench@example.org", password="bench-password-1", workspace_name="Bench"
        )
        owner = Membership.objects.get(user=user)
        topic = services.topic_create(actor=owner, name="Us", kind="brand")
        services.query_create(actor=owner, topic=topic, name="Us", text="chorus")
        server = start_mastodon()
        try:
            import httpx

            token = httpx.post(
                server.base_url + "/api/v1/_mock/dev_user", json={"username": "bench"}
            ).json()["access_token"]
            # A process's first post loads the language detector and the word-segmentation
            # dictionaries (the consumer does it before it connects): measured apart.
            from chorus.text.language import detect_language

            t0 = time.monotonic()
            detect_language("chorus news today")
            services.ingest([warm_up_post()])
            print(
                "first post in a fresh process (language detector and dictionaries loaded): "
                f"{time.monotonic() - t0:.1f} s"
            )
            stored = Stored(services)
            run("in-process", server, token, args, stored)
            pipeline.STREAM = f"chorus:bench:{uuid.uuid4().hex}"
            settings.CHORUS_LISTENING_BROKER = os.environ["CHORUS_LISTENING_BROKER"] = args.redis
            try:
                run(
                    f"broker, {args.matchers} matchers (Redis)",
                    server,
                    token,
                    args,
                    stored,
                    matchers=args.matchers,
                )
            finally:
                pipeline.Broker(args.redis).redis.delete(pipeline.STREAM)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
