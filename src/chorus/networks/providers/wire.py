"""HTTP plumbing every provider shares: one request with typed faults, Retry-After parsing,
and reading a refusal in whatever dialect the server speaks.

Servers that implement a network's API differ in how they refuse. A revoked token on
Mastodon itself answers 401 `{"error": "The access token is invalid"}`; other servers of
the same API answer 400 with a plain-text body `Invalid Bearer token`, or 422, or 403.
`error_words` keeps the server's own words whatever the shape (a JSON field, a JSON string,
a short plain-text body; never an HTML page), and `is_auth_failure` recognises a token
failure by status and words, so every provider maps them to `AuthExpired` the same way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from chorus.networks.providers.base import Transient

_PLAIN_TEXT_MAX = 300  # characters of a plain-text error body kept in a message
# A 403 names the sign-in in more ways ("outside the authorized scopes", "Your login is
# currently disabled", "Your account is suspended"); a 400 or 422 must name the token.
_TOKEN_WORDS = re.compile(r"\b(?:bearer|token|access[ _-]?token|invalid[ _-]token)\b", re.I)
_FORBIDDEN_WORDS = re.compile(r"\b(?:token|bearer|scopes?|login|account is)\b", re.I)


def send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; network faults become Transient (messages never carry headers)."""
    host = urlsplit(url).netloc
    try:
        return http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise Transient(f"{host} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise Transient(f"could not reach {host} ({type(exc).__name__})") from exc


def lenient_json(response: httpx.Response) -> Any:
    """The body as JSON, with bytes that are not UTF-8 read as U+FFFD instead of failing the
    whole page (one app's broken text must not stop an inbox); ValueError if not JSON."""
    try:
        return response.json()
    except UnicodeDecodeError:
        return json.loads(response.content.decode("utf-8", "replace"))


def seconds_to_wait(
    reset: datetime | None, retry_after: str, *, now: datetime, default: float
) -> float:
    """How long to wait: until the rate-limit window resets, else Retry-After (seconds or an
    HTTP date), else `default`; never less than one second."""
    if reset is not None:
        return max(1.0, (reset - now).total_seconds())
    value = retry_after.strip()
    if value:
        try:
            return max(1.0, float(value))
        except ValueError:
            try:
                return max(1.0, (parsedate_to_datetime(value) - now).total_seconds())
            except (TypeError, ValueError):
                pass
    return default


def error_words(response: httpx.Response, keys: tuple[str, ...] = ("error",)) -> str:
    """The server's own explanation of a refusal, or "" when it gave none we can show.

    Looks at the JSON object's `keys` in order, then a bare JSON string, then a short
    plain-text body (its first line). HTML error pages are left out: they are pages for
    people, usually a proxy's, and say nothing the status does not.
    """
    text = response.text.strip() if response.content else ""
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""
    if isinstance(data, str):
        return data.strip()[:_PLAIN_TEXT_MAX]
    if (
        data is not None
        or text.startswith("<")
        or "html" in response.headers.get("content-type", "")
    ):
        return ""
    return text.splitlines()[0].strip()[:_PLAIN_TEXT_MAX]


def is_auth_failure(status: int, words: str) -> bool:
    """Whether a refusal means the token is expired, revoked or not allowed, in any dialect:
    401; a 403 that names the token, its scopes or the login; a 400 or 422 that names the
    token (servers that answer `400 Invalid Bearer token`)."""
    if status == 401:
        return True
    if status == 403:
        return bool(_FORBIDDEN_WORDS.search(words))
    if status in (400, 422):
        return bool(_TOKEN_WORDS.search(words))
    return False
