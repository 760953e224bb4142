"""Where a source's decoded posts go: one process, or many through Redis Streams.

By default the process that reads a stream also matches and stores its posts
(:func:`services.source_batch`: posts and cursor in one transaction). When one process is
not enough, ``CHORUS_LISTENING_BROKER=redis://…`` splits the work: the reading process adds
each batch to a Redis stream (``XADD``, https://redis.io/docs/latest/commands/xadd/) and
then moves its cursor, and any number of matcher processes (``chorus manage listen
--match``), one consumer group between them, read entries (``XREADGROUP``), match and store
them with the same :func:`services.ingest`, and acknowledge them (``XACK``) once stored. The
entries a matcher read but never acknowledged (it died) are taken over by the others after
``claim_idle`` seconds (``XAUTOCLAIM``, https://redis.io/docs/latest/commands/xautoclaim/).
Every failure replays rather than loses: a post added twice, or stored by a dead matcher and
claimed again, is stored once (mentions are unique per workspace, network and URI).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time

import redis
from django.conf import settings
from django.db import DatabaseError, connections

from . import services
from .matcher import ListeningPost
from .services import IncomingPost

log = logging.getLogger(__name__)

STREAM = "chorus:listening:posts"
GROUP = "matchers"
# Entries kept in the stream (acknowledged or not); about 1 KB each. Matchers that are down
# for longer than this many posts lose the oldest ones.
MAX_ENTRIES = 1_000_000


def source_batch(**batch) -> int:
    """A source's batch, stored here or handed to the broker; see the module docstring.
    Returns how many mentions were stored here (0 through the broker)."""
    if not settings.CHORUS_LISTENING_BROKER:
        return services.source_batch(**batch)
    Broker(settings.CHORUS_LISTENING_BROKER).publish(batch["posts"])  # before the cursor
    return services.source_batch(**batch, store=False)


def encode(item: IncomingPost) -> str:
    post = item.post
    return json.dumps(
        {
            "text": post.text,
            "network": post.network,
            "lang": post.lang,
            "author": post.author,
            "links": post.links,
            "hashtags": post.hashtags,
            "mentions": post.mentions,
            "has_media": post.has_media,
            "uri": item.uri,
            "url": item.url,
            "posted_at": item.posted_at.isoformat(),
            "followers": item.author_followers,
        },
        ensure_ascii=False,
    )


def decode(data: bytes | str) -> IncomingPost:
    """Raises ValueError (KeyError, TypeError) for an entry that is not a post."""
    fields = json.loads(data)
    return IncomingPost(
        post=ListeningPost(
            text=fields["text"],
            network=fields["network"],
            lang=fields["lang"],
            author=fields["author"],
            links=tuple(fields["links"]),
            hashtags=tuple(fields["hashtags"]),
            mentions=tuple(fields["mentions"]),
            has_media=bool(fields["has_media"]),
        ),
        uri=fields["uri"],
        url=fields["url"],
        posted_at=dt.datetime.fromisoformat(fields["posted_at"]),
        author_followers=fields["followers"],
    )


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


class Broker:
    """A Redis stream and its consumer group."""

    def __init__(self, url: str, *, stream: str = "", group: str = GROUP) -> None:
        with _clients_lock:
            if url not in _clients:
                _clients[url] = redis.Redis.from_url(url, socket_timeout=30)
        self.redis, self.stream, self.group = _clients[url], stream or STREAM, group

    def publish(self, posts: list[IncomingPost]) -> None:
        if not posts:
            return
        pipe = self.redis.pipeline(transaction=False)
        for item in posts:
            pipe.xadd(self.stream, {"post": encode(item)}, maxlen=MAX_ENTRIES, approximate=True)
        pipe.execute()

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


class Matcher:
    """One matcher process of the group: ``step()`` handles one batch; ``run()`` loops."""

    def __init__(
        self,
        broker: Broker,
        *,
        name: str = "",
        count: int = 200,
        block_ms: int = 1000,
        claim_idle: float = 60.0,
    ) -> None:
        self.broker = broker
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.count, self.block_ms, self.claim_idle = count, block_ms, claim_idle
        self.stored = self.malformed = 0
        self._retry_own = False  # entries we read but could not store wait for us
        self._last_claim = 0.0
        self._stop = threading.Event()
        broker.ensure_group()

    def stop(self) -> None:
        self._stop.set()

    def _entries(self) -> list[tuple[bytes, dict]]:
        r, stream, group = self.broker.redis, self.broker.stream, self.broker.group
        if self._retry_own:
            (_name, own), *_ = r.xreadgroup(group, self.name, {stream: "0"}, count=self.count)
            if own:
                return own
            self._retry_own = False
        if time.monotonic() - self._last_claim >= self.claim_idle / 2:
            self._last_claim = time.monotonic()
            _next, claimed, _deleted = r.xautoclaim(
                stream, group, self.name, int(self.claim_idle * 1000), count=self.count
            )
            claimed = [(entry_id, fields) for entry_id, fields in claimed if fields]
            if claimed:
                log.info("listening matcher %s took over %d entries", self.name, len(claimed))
                return claimed
        answer = r.xreadgroup(
            group, self.name, {stream: ">"}, count=self.count, block=self.block_ms
        )
        return answer[0][1] if answer else []

    def step(self) -> int:
        """Read, match, store, acknowledge one batch; returns how many entries it handled."""
        entries = self._entries()
        if not entries:
            return 0
        posts = []
        for _entry_id, fields in entries:
            try:
                posts.append(decode(fields[b"post"]))
            except (KeyError, TypeError, ValueError):
                self.malformed += 1  # acknowledged with the rest: it will never decode
        try:
            self.stored += services.ingest(posts)
        except DatabaseError:
            self._retry_own = True  # not acknowledged: read again (or claimed by another)
            raise
        self.broker.redis.xack(
            self.broker.stream, self.broker.group, *[entry_id for entry_id, _ in entries]
        )
        return len(entries)

    def run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self.step()
                backoff = 1.0
            except (DatabaseError, redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("listening matcher %s: %s; retrying in %.0fs", self.name, exc, backoff)
                connections.close_all()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)
