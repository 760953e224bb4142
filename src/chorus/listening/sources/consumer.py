"""Reading one stream for ever: connect, decode, store in batches, resume after a drop.

The cursor (the firehose's ``seq``, Jetstream's ``time_us``) is saved in the same transaction
as the posts decoded before it (:func:`services.source_batch`), and every (re)connection asks
for the events after the saved cursor, so a drop loses nothing and counts nothing twice
(stored posts are unique per workspace and URI). A frame that does not decode is counted as
malformed and skipped; a server that is down or refuses is retried with exponential backoff
(1 s doubling to 60 s, with jitter). State, reconnects, malformed frames and the last error
are on the Source row, shown on the listening page as the source's health. With an AppView
URL, the authors of stored Bluesky mentions get their handle and followers (reach) filled in.

The socket is aiohttp's WebSocket client over Chorus' guarded resolver (core/egress.py): only
public addresses, or the ones the operator allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import httpx
from django.db import DatabaseError, connections

from chorus.core import egress
from chorus.text.language import detect_language

from .. import pipeline, services
from .bluesky import Frame, MalformedFrame, StreamError, decode_firehose, decode_jetstream

log = logging.getLogger(__name__)

FIREHOSE = "bluesky-firehose"
JETSTREAM = "bluesky-jetstream"
DECODERS: dict[str, Callable[..., Frame]] = {
    FIREHOSE: decode_firehose,
    JETSTREAM: decode_jetstream,
}
FIREHOSE_PATH = "/xrpc/com.atproto.sync.subscribeRepos"
MAX_FRAME_BYTES = 16 * 1024 * 1024
# Jetstream's README asks reconnecting clients to rewind a few seconds for gapless playback;
# the replayed posts are stored once all the same.
JETSTREAM_REWIND_US = 5_000_000


class Disconnected(ConnectionError):
    """The server closed the stream."""


class StreamUnavailable(ConnectionError):
    """The server answered, but not with the stream (a refusal, a page that is not one)."""


def stream_url(url: str, cursor: int | None) -> str:
    """``url`` with ``cursor=`` set (Jetstream also gets ``wantedCollections``)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "cursor"]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def firehose_url(service: str) -> str:
    """``wss://bsky.network`` or a PDS URL → its subscribeRepos endpoint."""
    parts = urlsplit(service if "://" in service else f"wss://{service}")
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path.endswith(FIREHOSE_PATH) else FIREHOSE_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


class Consumer:
    """One stream, one Source row. ``run()`` returns when ``stop()`` is called."""

    decoders: dict[str, Callable[..., Frame]] = DECODERS
    connections = 1  # the stream (a source that also reads a REST API needs one more)

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        url: str,
        batch_size: int = 200,
        flush_seconds: float = 1.0,
        max_backoff: float = 60.0,
        first_backoff: float = 1.0,
        appview_url: str = "",
        enrich_seconds: float = 10.0,
    ) -> None:
        if kind not in self.decoders:
            raise ValueError(f"unknown stream kind {kind!r}")
        self.name, self.kind, self.url = name, kind, url
        self.batch_size, self.flush_seconds, self.max_backoff = (
            batch_size,
            flush_seconds,
            max_backoff,
        )
        self.first_backoff = first_backoff
        self.appview_url, self.enrich_seconds = appview_url, enrich_seconds
        self._last_enrich = 0.0
        self._backoff = first_backoff
        self._decode = self.decoders[kind]
        self._handles: dict[str, str] = {}
        self._stopping = asyncio.Event()
        self._batch: list = []
        self._frames = self._malformed = 0
        self._cursor: int | None = None
        self._last_error = ""
        self._last_flush = time.monotonic()
        self.source_id: int | None = None
        self.stored = 0
        # The database is used from one thread of our own, so its connection can be closed.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="listening-db")

    async def _db(self, function, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, **kwargs))

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        source = await self._db(
            services.source_register, name=self.name, kind=self.kind, url=self.url
        )
        self.source_id, self._cursor = source.pk, source.cursor
        # Posts without a language are detected; the detector's model takes seconds to load
        # the first time, which would otherwise hold up the first events.
        await self._db(detect_language, text="warm up")
        self._backoff = self.first_backoff
        connector = aiohttp.TCPConnector(resolver=egress.GuardedResolver(), limit=self.connections)
        async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
            while not self._stopping.is_set():
                try:
                    await self._read(session)
                    raise Disconnected("the server closed the stream")
                except asyncio.CancelledError:
                    raise
                except (
                    aiohttp.ClientError,
                    OSError,
                    StreamError,
                    StreamUnavailable,
                    TimeoutError,
                    DatabaseError,
                ) as exc:
                    if self._stopping.is_set():
                        break
                    with contextlib.suppress(DatabaseError):
                        await self._flush()  # if the database is down, the batch waits
                    message = _describe(exc)
                    log.warning(
                        "listening source %s: %s; retrying in %.1fs",
                        self.name,
                        message,
                        self._backoff,
                    )
                    with contextlib.suppress(DatabaseError):
                        await self._db(
                            services.source_retrying, source_id=self.source_id, error=message
                        )
                    await self._sleep(self._backoff * random.uniform(0.8, 1.2))
                    self._backoff = min(self._backoff * 2, self.max_backoff)
                else:  # pragma: no cover - _read only returns by raising or stopping
                    break
        with contextlib.suppress(DatabaseError):
            await self._flush()
            await self._db(services.source_stopped, source_id=self.source_id)
        await self._db(connections.close_all)
        self._executor.shutdown(wait=False)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _read(self, session: aiohttp.ClientSession) -> None:
        cursor = self._cursor
        if cursor is not None and self.kind == JETSTREAM:
            cursor = max(0, cursor - JETSTREAM_REWIND_US)
        url = stream_url(self.url, cursor)
        http_url = url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        egress.check_url(httpx.URL(http_url))  # IP literals; names go through the resolver
        async with session.ws_connect(
            url, heartbeat=30, max_msg_size=MAX_FRAME_BYTES, autoping=True
        ) as ws:
            await self._connected()
            stop_wait = asyncio.ensure_future(self._stopping.wait())
            try:
                while not self._stopping.is_set():
                    receive = asyncio.ensure_future(ws.receive(timeout=self.flush_seconds))
                    done, _pending = await asyncio.wait(
                        {receive, stop_wait}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if receive not in done:
                        receive.cancel()
                        return
                    try:
                        message = receive.result()
                    except TimeoutError:
                        await self._maybe_flush()
                        continue
                    if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                        self._take(message.data)
                        await self._maybe_flush()
                    elif message.type == aiohttp.WSMsgType.ERROR:
                        raise aiohttp.ClientError(str(ws.exception() or "WebSocket error"))
                    elif message.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED,
                    ):
                        raise Disconnected(f"the server closed the stream ({ws.close_code})")
            finally:
                stop_wait.cancel()

    async def _connected(self) -> None:
        await self._db(services.source_connected, source_id=self.source_id)
        self._backoff = self.first_backoff  # a good connection resets the backoff

    def _advance(self, cursor: int) -> None:
        self._cursor = cursor

    def _take(self, data) -> None:
        self._frames += 1
        try:
            frame = self._decode(data, self._handles)
        except MalformedFrame as exc:
            self._malformed += 1
            self._last_error = f"malformed frame: {exc}"[:2000]
            return
        self._batch.extend(frame.posts)
        if frame.cursor is not None:
            self._advance(frame.cursor)

    async def _maybe_flush(self) -> None:
        due = time.monotonic() - self._last_flush >= self.flush_seconds
        if len(self._batch) >= self.batch_size or (due and (self._frames or self._batch)):
            await self._flush()

    async def _flush(self) -> None:
        if self.source_id is None:
            return
        posts, self._batch = self._batch, []
        frames, malformed, error = self._frames, self._malformed, self._last_error
        self._frames = self._malformed = 0
        self._last_error = ""
        seconds, self._last_flush = time.monotonic() - self._last_flush, time.monotonic()
        if not (posts or frames):
            return
        try:
            self.stored += await self._db(
                pipeline.source_batch,
                source_id=self.source_id,
                posts=posts,
                cursor=self._cursor,
                frames=frames,
                malformed=malformed,
                error=error,
                seconds=seconds,
            )
        except DatabaseError:
            # Nothing was stored (one transaction): keep the batch for the next flush.
            self._batch = posts + self._batch
            self._frames += frames
            self._malformed += malformed
            raise
        if self.appview_url and time.monotonic() - self._last_enrich >= self.enrich_seconds:
            self._last_enrich = time.monotonic()
            await self._db(services.mentions_enrich, appview_url=self.appview_url)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, egress.AddressRefused):
        return egress.REFUSED
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"the server refused the stream (HTTP {exc.status})"
    text = str(exc) or exc.__class__.__name__
    return text[:500]
