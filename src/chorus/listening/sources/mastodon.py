"""Mastodon's public streams, read into listening.

* The streaming API (https://docs.joinmastodon.org/methods/streaming/): the WebSocket
  ``/api/v1/streaming?stream=public`` (or ``public:remote``, or ``hashtag&tag=…``) sends one
  JSON message per event, ``{"stream": [...], "event": "update", "payload": "<Status JSON>"}``
  (the payload is a JSON string inside the JSON); servers without the WebSocket serve the same
  events as server-sent events on ``/api/v1/streaming/public``, ``/public/remote`` and
  ``/hashtag?tag=…`` (``event: update`` / ``data: <Status JSON>``), parsed by the inbox's
  :func:`chorus.networks.providers.mastodon_streaming.parse_events`. The streaming server may
  live on another host: the instance document names it
  (:func:`~chorus.networks.providers.mastodon_streaming.streaming_base`).
* The timelines (https://docs.joinmastodon.org/methods/timelines/): ``GET
  /api/v1/timelines/public`` (``remote=true`` for public:remote) and
  ``/api/v1/timelines/tag/:hashtag``, paged with ``max_id`` (older), ``since_id`` and
  ``min_id`` (the statuses immediately newer than it). After every reconnection the stream's
  timeline is read forward from the last status id with ``min_id``, so what came while the
  socket was down is not lost; a new query's hashtags are back-filled with ``max_id``.

The cursor is the highest status id seen (ids are this server's, which is why each server's
stream is its own Source). A status is stored under its ActivityPub ``uri``, so one post seen
on two servers is one mention.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import httpx

from chorus.core import egress
from chorus.networks.providers.mastodon import Mastodon
from chorus.networks.providers.mastodon_inbox import handle_of, parse_time, plain_text
from chorus.networks.providers.mastodon_streaming import (
    QUIET_SECONDS,
    Event,
    parse_events,
    streaming_base,
)
from chorus.text.language import detect_language

from .. import services
from ..matcher import ListeningPost
from ..services import IncomingPost
from .bluesky import Frame, MalformedFrame
from .consumer import MAX_FRAME_BYTES, Consumer, Disconnected, StreamUnavailable

log = logging.getLogger(__name__)

MASTODON = "mastodon"  # Source.kind, and the mentions' network
STREAMS = ("public", "public:remote", "hashtag")
# https://docs.joinmastodon.org/methods/streaming/#public (and #remote, #hashtag): SSE routes
_SSE_PATHS = {
    "public": "/api/v1/streaming/public",
    "public:remote": "/api/v1/streaming/public/remote",
    "hashtag": "/api/v1/streaming/hashtag",
}
WS_PATH = "/api/v1/streaming"  # https://docs.joinmastodon.org/methods/streaming/#websocket
PAGE_SIZE = 40  # the timelines' maximum limit
CATCH_UP_PAGES = 50  # 2,000 statuses after a reconnection; more is reported as a gap
_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)


@dataclass(frozen=True)
class MastodonStream:
    """One stream of one server: ``public``, ``public:remote`` or ``hashtag`` with its tag.
    ``token`` (a connected account's) is sent as a bearer header, never in the URL."""

    server: str
    stream: str = "public"
    tag: str = ""
    token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.stream not in STREAMS:
            raise ValueError(f"unknown Mastodon stream {self.stream!r}")
        if (self.stream == "hashtag") != bool(self.tag):
            raise ValueError("a hashtag stream names one tag, and only it")
        object.__setattr__(self, "server", Mastodon.normalize_server_url(self.server))
        object.__setattr__(self, "tag", self.tag.lstrip("#＃").strip())

    @property
    def name(self) -> str:
        return f"{MASTODON} {self.server} {self.stream}" + (f" #{self.tag}" if self.tag else "")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def query(self) -> dict[str, str]:
        return {"tag": self.tag} if self.tag else {}

    def websocket_url(self, base: str) -> str:
        scheme = "ws" if base.startswith("http:") else "wss"
        return f"{scheme}://{base.split('://', 1)[1]}{WS_PATH}"

    def sse_url(self, base: str) -> str:
        return base + _SSE_PATHS[self.stream]

    def timeline(self) -> tuple[str, dict[str, str]]:
        """The REST timeline holding what this stream sends (docs: methods/timelines)."""
        if self.stream == "hashtag":
            return f"{self.server}/api/v1/timelines/tag/{quote(self.tag, safe='')}", {}
        remote = {"remote": "true"} if self.stream == "public:remote" else {}
        return f"{self.server}/api/v1/timelines/public", remote


class _Links(HTMLParser):
    """The ``href`` of a status' links, leaving out mentions and hashtags (Mastodon marks
    those ``class="mention"`` / ``"mention hashtag"``): the visible text is shortened."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        href, classes = values.get("href") or "", (values.get("class") or "").split()
        if tag == "a" and href.startswith(("http://", "https://")) and "mention" not in classes:
            self.links.append(href)


def _status_id(status: dict[str, Any]) -> int | None:
    value = str(status.get("id") or "")
    return int(value) if value.isdigit() else None


def _names(items: Any, key: str) -> list[str]:
    """``tags[].name``, ``mentions[].acct``: the strings a list of entities carries."""
    items = items if isinstance(items, list) else []
    return [i[key] for i in items if isinstance(i, dict) and isinstance(i.get(key), str)]


def post_from_status(status: Any) -> IncomingPost | None:
    """A Status entity (https://docs.joinmastodon.org/entities/Status/) as a listening post;
    None for a boost (the boosted post is not new) or a status that is not public."""
    if not isinstance(status, dict) or not isinstance(status.get("account"), dict):
        raise MalformedFrame("not a Status")
    if status.get("reblog") or status.get("visibility", "public") not in ("public", "unlisted"):
        return None
    uri = status.get("uri") or status.get("url")
    if not isinstance(uri, str) or not uri:
        raise MalformedFrame("a Status without uri")
    content = status.get("content") if isinstance(status.get("content"), str) else ""
    text = plain_text(content)
    warning = status.get("spoiler_text")
    if isinstance(warning, str) and warning.strip():
        text = f"{warning.strip()}\n\n{text}"
    links = _Links()
    links.feed(content)
    card = status.get("card") if isinstance(status.get("card"), dict) else {}
    if isinstance(card.get("url"), str):
        links.links.append(card["url"])
    tags = _names(status.get("tags"), "name")
    mentions = _names(status.get("mentions"), "acct")
    language = status.get("language")
    if not isinstance(language, str) or not language:
        language = detect_language(text) if text.strip() else ""
    followers = status["account"].get("followers_count")
    return IncomingPost(
        post=ListeningPost(
            text=text,
            network=MASTODON,
            lang=language,
            author=handle_of(status["account"]),
            links=tuple(dict.fromkeys(links.links)),
            hashtags=tuple(dict.fromkeys(tags)),
            mentions=tuple(dict.fromkeys(mentions)),
            has_media=bool(status.get("media_attachments")),
        ),
        uri=uri,
        url=str(status.get("url") or uri),
        posted_at=parse_time(status.get("created_at")) or parse_time(str(time.time())),
        author_followers=followers if isinstance(followers, int) else None,
    )


def _frame(name: str, payload: str) -> Frame:
    """An ``update`` is a new status; every other event (``delete``, ``status.update``,
    ``announcement``…) leaves listening as it is."""
    if name != "update":
        return Frame()
    try:
        status = json.loads(payload)
    except ValueError as exc:
        raise MalformedFrame(f"an update whose payload is not JSON: {exc}") from exc
    post = post_from_status(status)
    return Frame(_status_id(status), [post] if post else [])


def decode_mastodon(message: str | bytes | Event, _handles: dict | None = None) -> Frame:
    """One WebSocket message, or one server-sent event; raises MalformedFrame."""
    if isinstance(message, Event):
        return _frame(message.name, message.data)
    try:
        envelope = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedFrame(f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise MalformedFrame("a message without event")
    payload = envelope.get("payload", "")
    if not isinstance(payload, str):  # a server that did not encode it twice
        payload = json.dumps(payload)
    return _frame(envelope["event"], payload)


class MastodonConsumer(Consumer):
    """A Mastodon stream: WebSocket first, server-sent events where the server has no
    WebSocket, the timeline read forward from the cursor after every (re)connection."""

    decoders = {MASTODON: decode_mastodon}
    connections = 2  # the stream, and the timeline read while it is open

    def __init__(self, stream: MastodonStream, **options: Any) -> None:
        super().__init__(name=stream.name, kind=MASTODON, url=stream.server, **options)
        self.stream = stream
        self._base: str | None = None
        self._websocket = True  # until the server shows it has none

    def _advance(self, cursor: int) -> None:
        self._cursor = max(cursor, self._cursor or 0)

    async def _get(self, session: aiohttp.ClientSession, url: str, **params: str) -> Any:
        egress.check_url(httpx.URL(url))  # IP literals; names go through the resolver
        async with session.get(
            url, params=params, headers=self.stream.headers, timeout=_HTTP_TIMEOUT
        ) as response:
            if response.status == 404:
                return None
            if response.status != 200:
                raise StreamUnavailable(f"{urlsplit(url).path} answered HTTP {response.status}")
            try:
                return await response.json(content_type=None)
            except ValueError as exc:
                raise StreamUnavailable(f"{urlsplit(url).path} did not answer JSON") from exc

    async def _streaming_base(self, session: aiohttp.ClientSession) -> str:
        if self._base is None:
            instance = await self._get(session, f"{self.stream.server}/api/v2/instance")
            if instance is None:
                instance = await self._get(session, f"{self.stream.server}/api/v1/instance")
            self._base = streaming_base(instance or {}, self.stream.server)
        return self._base

    async def _read(self, session: aiohttp.ClientSession) -> None:
        base = await self._streaming_base(session)
        if self._websocket:
            url = self.stream.websocket_url(base)
            egress.check_url(httpx.URL(base))
            try:
                async with session.ws_connect(
                    url,
                    params={"stream": self.stream.stream, **self.stream.query()},
                    headers=self.stream.headers,
                    heartbeat=30,
                    max_msg_size=MAX_FRAME_BYTES,
                ) as ws:
                    await self._opened(session)
                    await self._pump(_websocket_messages(ws))
                return
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == 429 or exc.status >= 500:
                    raise  # busy or failing, not lacking: try the WebSocket again later
                log.info("%s: no WebSocket (HTTP %s); using server-sent events", url, exc.status)
                self._websocket = False
        async with session.get(
            self.stream.sse_url(base),
            params=self.stream.query(),
            headers={**self.stream.headers, "Accept": "text/event-stream"},
            timeout=aiohttp.ClientTimeout(sock_connect=10, sock_read=QUIET_SECONDS),
        ) as response:
            kind = response.headers.get("Content-Type", "")
            if response.status != 200 or not kind.startswith("text/event-stream"):
                raise StreamUnavailable(
                    f"{urlsplit(base).netloc} offers no {self.stream.stream} stream "
                    f"(HTTP {response.status})"
                )
            await self._opened(session)
            await self._pump(_sse_events(response))

    async def _opened(self, session: aiohttp.ClientSession) -> None:
        """Connected: reset the backoff, then read what came since the cursor (events that
        arrive meanwhile wait in the socket; a status read twice is stored once)."""
        await self._connected()
        if self._cursor is None:
            return
        url, params = self.stream.timeline()
        for _page in range(CATCH_UP_PAGES):
            statuses = await self._get(
                session, url, **params, min_id=str(self._cursor), limit=str(PAGE_SIZE)
            )
            if not isinstance(statuses, list) or not statuses:
                return
            for status in sorted(statuses, key=lambda s: _status_id(s) or 0):
                self._take(Event("update", json.dumps(status)))
            await self._maybe_flush()
            if len(statuses) < PAGE_SIZE:
                return
        self._last_error = f"more than {CATCH_UP_PAGES * PAGE_SIZE} statuses missed"

    async def _pump(self, produce: Callable[[Callable[[Any], None]], Awaitable[None]]) -> None:
        """Take what ``produce`` puts until it ends (a drop: raises), flushing every
        ``flush_seconds``, until stopped. The queue keeps an event a timeout interrupts."""
        queue: asyncio.Queue = asyncio.Queue()
        reader = asyncio.ensure_future(produce(queue.put_nowait))
        stop_wait = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                get = asyncio.ensure_future(queue.get())
                done, _pending = await asyncio.wait(
                    {get, reader, stop_wait},
                    timeout=self.flush_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if get in done:
                    self._take(get.result())
                    await self._maybe_flush()
                    continue
                get.cancel()
                if reader in done:
                    while not queue.empty():
                        self._take(queue.get_nowait())
                    reader.result()  # raises what ended it
                    raise Disconnected("the server closed the stream")
                if stop_wait in done:
                    return
                await self._maybe_flush()
        finally:
            reader.cancel()
            stop_wait.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


def _websocket_messages(ws: aiohttp.ClientWebSocketResponse):
    async def produce(put: Callable[[Any], None]) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                put(message.data)
            elif message.type == aiohttp.WSMsgType.ERROR:
                raise aiohttp.ClientError(str(ws.exception() or "WebSocket error"))
        raise Disconnected(f"the server closed the stream ({ws.close_code})")

    return produce


def _sse_events(response: aiohttp.ClientResponse):
    async def produce(put: Callable[[Any], None]) -> None:
        lines: list[str] = []
        async for raw in response.content:  # lines; a quiet stream times out (sock_read)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            if not line:  # an event ends at a blank line
                for event in parse_events(lines):
                    put(event)
                lines = []
        raise Disconnected("the server closed the stream")

    return produce


def backfill_hashtag(stream: MastodonStream, *, pages: int = 5) -> int:
    """Read a hashtag's timeline back from its newest status, ``pages`` pages of 40 (older
    ones with ``max_id``), and store what matches; returns how many mentions were stored.
    Run when a query with hashtags is saved, so its topic does not start empty."""
    from chorus.networks import http as network_http

    url, params = stream.timeline()
    posts: list[IncomingPost] = []
    max_id = ""
    with network_http.client() as http:
        for _page in range(pages):
            query = {**params, "limit": str(PAGE_SIZE), **({"max_id": max_id} if max_id else {})}
            response = http.get(url, params=query, headers=stream.headers)
            if response.status_code != 200:
                log.info("backfill %s: HTTP %s", stream.name, response.status_code)
                break
            statuses = response.json()
            if not isinstance(statuses, list) or not statuses:
                break
            for status in statuses:
                with contextlib.suppress(MalformedFrame):
                    if post := post_from_status(status):
                        posts.append(post)
            ids = [i for i in map(_status_id, statuses) if i is not None]
            if len(statuses) < PAGE_SIZE or not ids:
                break
            max_id = str(min(ids))
    return services.ingest(posts)
