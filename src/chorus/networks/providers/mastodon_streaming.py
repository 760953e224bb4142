"""Push for the Mastodon inbox: the streaming API's server-sent events (SSE) over HTTP.

docs.joinmastodon.org/methods/streaming/: `GET /api/v1/streaming/health` answers `OK`
when the streaming server runs; `GET /api/v1/streaming/user` sends the account's
`notification` events (a Notification), `delete` (a status id), `status.update` (an edited
Status) and `update` (home timeline statuses, which are not interactions and are skipped),
with comment lines as heartbeats. Direct messages arrive there as `mention` notifications
(the `direct` stream's `conversation` events would repeat them). The streaming server may
live on another host: the
instance document names it (`configuration.urls.streaming`, v2; `urls.streaming_api`, v1).

SSE rides on the guarded HTTP client like every other request. Servers that stream only
over WebSocket (GoToSocial, Akkoma and Pleroma at the time of writing) or not at all answer
the SSE route with 404, 400 or a page that is not an event stream: that is
`StreamingUnavailable`, and the caller keeps polling `fetch_interactions`. A stream that
ends or goes quiet raises `Transient`; reconnecting (and polling once to fill the gap) is
the caller's job, as every retry policy is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .base import AuthExpired, Interaction, RateLimited, Rejected, Transient
from .mastodon import Mastodon
from .mastodon_inbox import InboxMapper, deleted
from .mastodon_wire import retry_after as _retry_after
from .wire import error_words, is_auth_failure, send

STREAM_PATH = "/api/v1/streaming/user"
HEALTH_PATH = "/api/v1/streaming/health"
# Mastodon sends a heartbeat comment every 15 seconds (streaming/index.js): a stream silent
# for four of them is dead, not idle.
QUIET_SECONDS = 60.0


# Mastodon names an edit `status.update`; some servers of the API send `status_update`.
_EDIT_EVENTS = ("status.update", "status_update")


class StreamingUnavailable(Rejected):
    """This server offers no SSE stream for the account: poll instead."""


@dataclass(frozen=True)
class Event:
    name: str
    data: str


def parse_events(lines: Iterable[str]) -> Iterator[Event]:
    """Server-sent events from decoded lines (html.spec.whatwg.org, "event stream").

    Comment lines (heartbeats) are skipped; `data` lines are joined with newlines; an event
    is dispatched at a blank line and only when it carried data.
    """
    name, data = "", []
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield Event(name or "message", "\n".join(data))
            name, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


def streaming_base(instance: dict[str, Any], server_url: str) -> str:
    """The streaming server's https base URL from an instance document, else the server's."""
    config = instance.get("configuration") if isinstance(instance, dict) else None
    urls = config.get("urls") if isinstance(config, dict) else None
    named = urls.get("streaming") if isinstance(urls, dict) else None
    if not named:
        old = instance.get("urls") if isinstance(instance, dict) else None
        named = old.get("streaming_api") if isinstance(old, dict) else None
    if not isinstance(named, str) or not named.strip():
        return server_url
    parts = urlsplit(named.strip())
    if parts.scheme not in ("wss", "ws", "https", "http") or not parts.netloc:
        return server_url
    scheme = (
        "http" if parts.scheme in ("ws", "http") and server_url.startswith("http:") else "https"
    )
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _refusal(response: httpx.Response) -> None:
    """Map an answer to the stream request; returns when it is an event stream."""
    code = response.status_code
    kind = response.headers.get("content-type", "")
    if code == 200 and kind.startswith("text/event-stream"):
        return
    response.read()
    words = error_words(response, ("error_description", "error", "detail"))
    said = words or f"HTTP {code}"
    if is_auth_failure(code, words):
        raise AuthExpired(f"Mastodon no longer accepts this connection ({said}); reconnect it")
    if code == 429:
        raise RateLimited(
            f"Mastodon rate limit reached ({said})", retry_after=_retry_after(response.headers)
        )
    if code == 408 or code >= 500:
        raise Transient(f"Mastodon's streaming server failed (HTTP {code}): {said}")
    raise StreamingUnavailable(
        f"{response.url.host} offers no event stream ({said}): Chorus polls it instead"
    )


def stream(provider: Mastodon) -> Iterator[Interaction]:
    """Interactions as the server pushes them; see the module docstring."""
    instance = provider.instance_document()
    base = streaming_base(instance, provider.server_url)
    headers = {"Authorization": f"Bearer {provider.credentials.secrets['access_token']}"}
    health = send(provider.http, "GET", base + HEALTH_PATH, headers=headers)
    if health.status_code != 200:
        _refusal(health)
    timeout = httpx.Timeout(QUIET_SECONDS, connect=10.0)
    headers["Accept"] = "text/event-stream"
    try:
        with provider.http.stream(
            "GET", base + STREAM_PATH, headers=headers, timeout=timeout
        ) as response:
            _refusal(response)
            mapper = provider.inbox_mapper()  # one thread-root memo for the stream's life
            for event in parse_events(response.iter_lines()):
                item = _interaction(provider, mapper, event)
                if item is not None:
                    yield item
    except httpx.TimeoutException as exc:
        raise Transient(f"the stream from {urlsplit(base).netloc} went quiet") from exc
    except httpx.TransportError as exc:
        raise Transient(f"the stream from {urlsplit(base).netloc} broke off") from exc
    raise Transient(f"{urlsplit(base).netloc} closed the stream")


def _interaction(provider: Mastodon, mapper: InboxMapper, event: Event) -> Interaction | None:
    """One event as an Interaction, or None for events the inbox does not read."""
    if event.name == "delete":
        status_id = event.data.strip().strip('"')
        return deleted(status_id) if status_id else None
    if event.name not in ("notification", *_EDIT_EVENTS):
        return None
    try:
        payload = json.loads(event.data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if event.name == "notification":
        return mapper.from_notification(payload)
    if not payload.get("id") or not provider.concerns_us(payload):
        return None  # an edit on the home timeline, not in the inbox
    return mapper.from_status(payload)
