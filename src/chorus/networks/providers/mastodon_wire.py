"""Mastodon's wire: its answers mapped onto the provider interface's typed errors and
rate budgets, the instance probe, and how a status is compared with the draft that made it
(`find_published`'s reconciliation, see `mastodon`)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

from .base import (
    AuthExpired,
    PostDraft,
    PublishedPost,
    RateBudget,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from .mastodon_inbox import parse_time, plain_text
from .wire import error_words, is_auth_failure, lenient_json, seconds_to_wait, send

_DEFAULT_RETRY_AFTER = 300.0  # Mastodon's general rate-limit window is five minutes
_REMOTE_MENTION = re.compile(r"(@\w+)@[\w.-]*\w")
_SPACES = re.compile(r"\s+")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def now() -> datetime:
    """The current UTC time; a function so tests can pin the clock."""
    return datetime.now(UTC)


# --------------------------------------------------------------------------- HTTP plumbing


def json_of(response: httpx.Response) -> Any:
    try:
        return lenient_json(response)
    except ValueError as exc:
        raise Transient(
            f"{response.url.host} sent a malformed response (HTTP {response.status_code})"
        ) from exc


def json_object(response: httpx.Response) -> dict[str, Any]:
    data = json_of(response)
    if not isinstance(data, dict):
        raise Transient(f"{response.url.host} sent an unexpected response shape")
    return data


def error_text(response: httpx.Response) -> str:
    """The server's own explanation (OAuth's `error_description`, `error`, or a plain-text
    body as some servers of this API send), else the status and host."""
    words = error_words(response, ("error_description", "error"))
    return words or f"HTTP {response.status_code} from {response.url.host}"


def rate_budget(headers: httpx.Headers) -> RateBudget | None:
    try:
        limit = int(headers["X-RateLimit-Limit"])
        remaining = int(headers["X-RateLimit-Remaining"])
    except (KeyError, ValueError):
        return None
    return RateBudget(limit, remaining, parse_time(headers.get("X-RateLimit-Reset")))


def retry_after(headers: httpx.Headers) -> float:
    """Seconds until the window resets: X-RateLimit-Reset, else Retry-After."""
    reset = parse_time(headers.get("X-RateLimit-Reset"))
    return seconds_to_wait(
        reset, headers.get("Retry-After", ""), now=now(), default=_DEFAULT_RETRY_AFTER
    )


def raise_for_status(response: httpx.Response) -> None:
    """Map an HTTP answer to the typed errors of the provider interface."""
    code = response.status_code
    if 200 <= code < 300:
        return
    text = error_text(response)
    if is_auth_failure(code, text):
        raise AuthExpired(f"Mastodon no longer accepts this connection ({text}); reconnect it")
    if code == 429:
        raise RateLimited(
            f"Mastodon rate limit reached ({text})", retry_after=retry_after(response.headers)
        )
    if code == 408 or code >= 500:
        raise Transient(f"Mastodon server error (HTTP {code}): {text}")
    raise Rejected(text)


def probe_instance(server_url: str, http: httpx.Client) -> dict[str, Any]:
    """The server's instance document; Rejected when the URL is not a Mastodon API."""
    reasons = []
    for path, keys in (("/api/v2/instance", ("domain", "version")), ("/api/v1/instance", ("uri",))):
        response = send(http, "GET", server_url + path, headers={"Accept": "application/json"})
        if response.status_code == 429 or response.status_code >= 500:
            raise_for_status(response)
        if response.status_code != 200:
            reasons.append(f"{path} answered HTTP {response.status_code}")
            continue
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and all(isinstance(data.get(k), str) for k in keys):
            return data
        reasons.append(f"{path} is not a Mastodon instance document")
    raise Rejected(f"{server_url} does not look like a Mastodon server: {'; '.join(reasons)}")


# --------------------------------------------------------------------------- mapping


def numeric(value: Any) -> int:
    """An id's numeric value for ordering (0 for ids that are not numbers)."""
    text = str(value or "")
    return int(text) if text.isdigit() else 0


def max_id(ids: Iterable[str]) -> str | None:
    """Mastodon ids are numeric strings of varying length: compare them as numbers."""
    numeric = [i for i in ids if i.isdigit()]
    return max(numeric, key=int) if numeric else None


def status_text(draft: PostDraft) -> str:
    """What `publish` sends as the status: the text, with the link appended if absent."""
    text = draft.text
    if draft.link and draft.link not in text:
        text = f"{text.rstrip()}\n\n{draft.link}" if text.strip() else draft.link
    return text


def published_post(status: dict[str, Any]) -> PublishedPost:
    return PublishedPost(
        ref=RemoteRef(
            remote_id=str(status["id"]), url=str(status.get("url") or status.get("uri") or "")
        ),
        published_at=parse_time(status.get("created_at")),
    )


def comparable(text: str) -> str:
    """Text as a status shows it, whatever the server's rendering: remote mentions without
    their domain (servers render `@bob@example.social` as `@bob`), whitespace collapsed."""
    text = _REMOTE_MENTION.sub(r"\1", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


def is_copy(status: dict[str, Any], draft: PostDraft, earliest: datetime) -> bool:
    """Whether `status` is the one `draft` made (see the module docstring)."""
    created = parse_time(status.get("created_at"))
    if created is None or created < earliest:
        return False
    parent = draft.reply_to.remote_id if draft.reply_to else ""
    if str(status.get("in_reply_to_id") or "") != parent:
        return False
    if str(status.get("spoiler_text") or "") != draft.content_warning:
        return False
    if len(status.get("media_attachments") or []) != len(draft.media):
        return False
    poll = status.get("poll") if isinstance(status.get("poll"), dict) else None
    if (poll is None) != (draft.poll is None):
        return False
    if poll is not None and draft.poll is not None:
        titles = [
            str(o.get("title") or "") if isinstance(o, dict) else str(o)
            for o in poll.get("options") or []
        ]
        if titles != list(draft.poll.options):
            return False
    plain = status.get("text")
    shown = plain if isinstance(plain, str) and plain else plain_text(status.get("content"))
    return comparable(shown) == comparable(status_text(draft))
