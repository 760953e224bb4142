"""X API v2 wire details shared by the X connector: refusals, rate-limit headers, posts.

Refusals come as problem details (docs.x.com/x-api/fundamentals/response-codes-and-errors):
`{"title", "detail", "type", "status"}`, sometimes with `errors: [{"message"}]`. The rate
limit of each endpoint comes in `x-rate-limit-limit`, `-remaining` and `-reset` (epoch
seconds; docs.x.com/x-api/fundamentals/rate-limits); the daily cap on posts of one user in
`x-user-limit-24hour-limit`, `-remaining` and `-reset`.
"""

from __future__ import annotations

import html
import unicodedata
from datetime import UTC, datetime
from typing import Any

import httpx

from chorus.text._urls import x_urls

from .base import (
    AuthExpired,
    Interaction,
    ProviderError,
    RateBudget,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from .wire import lenient_json

GUIDE = "docs/networks/x.md"


def problem_words(response: httpx.Response) -> str:
    """X's own explanation of a refusal: `detail`, else the first `errors[].message`, else
    `title`; "" when the body says nothing we can show."""
    try:
        data = lenient_json(response)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("detail", "error_description"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    for error in data.get("errors") or []:
        if isinstance(error, dict) and str(error.get("message") or "").strip():
            return str(error["message"]).strip()
    for key in ("title", "error"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    return ""


def problem_type(response: httpx.Response) -> str:
    try:
        data = lenient_json(response)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return " ".join(str(data.get(key) or "") for key in ("type", "reason", "title")).lower()


def _epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value).strip()), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def rate_budget(response: httpx.Response) -> RateBudget | None:
    """The endpoint's window from `x-rate-limit-*`, or None when X sent none."""
    headers = response.headers
    try:
        limit = int(headers["x-rate-limit-limit"])
        remaining = int(headers["x-rate-limit-remaining"])
    except (KeyError, ValueError):
        return None
    return RateBudget(limit, remaining, _epoch(headers.get("x-rate-limit-reset")))


def _wait_until(reset: datetime | None, *, now: datetime, default: float = 900.0) -> float:
    return max(1.0, (reset - now).total_seconds()) if reset else default


def raise_for(response: httpx.Response, *, now: datetime | None = None) -> None:
    """Map an answer of X to the provider's typed errors; 2xx passes."""
    code = response.status_code
    if 200 <= code < 300:
        return
    now = now or datetime.now(UTC)
    words = problem_words(response)
    kind = problem_type(response)
    said = f": {words}" if words else ""
    if code == 429:
        daily = response.headers.get("x-user-limit-24hour-remaining")
        if daily is not None and daily.strip() == "0":
            reset = _epoch(response.headers.get("x-user-limit-24hour-reset"))
            raise RateLimited(
                "X's daily limit of posts for this account is spent; the post is held and "
                "sent again once the limit resets.",
                retry_after=_wait_until(reset, now=now, default=3600.0),
            )
        reset = _epoch(response.headers.get("x-rate-limit-reset"))
        raise RateLimited(
            f"X asks Chorus to slow down{said}", retry_after=_wait_until(reset, now=now)
        )
    if code == 401:
        raise AuthExpired(
            f"X no longer accepts this account's sign-in{said}. Reconnect it to go on."
        )
    if code == 403 and ("client-not-enrolled" in kind or "client-forbidden" in kind):
        raise Rejected(
            f"This installation's X app may not use this part of the API{said}. Its access "
            f"tier decides what works: see {GUIDE}."
        )
    if code == 403 and "duplicate" in words.lower():
        raise Rejected(f"X refuses this post as a duplicate of a recent one{said}")
    if code >= 500:
        raise Transient(f"X had a problem (HTTP {code}){said}; Chorus will try again.")
    raise Rejected(f"X refused the request (HTTP {code}){said}")


def body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object X answered with; a 2xx answer that is not one is a passing fault."""
    try:
        data = lenient_json(response)
    except ValueError as exc:
        raise Transient("X answered with something that is not JSON") from exc
    if not isinstance(data, dict):
        raise Transient("X answered with something unexpected")
    return data


def parse_time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)


def comparable(text: str) -> str:
    """A post's text as X stores it, made comparable with what was sent: X escapes `&<>`
    and rewrites every link to t.co, so links compare as one placeholder."""
    plain = unicodedata.normalize("NFC", html.unescape(text))
    return " ".join(replace_links(plain, lambda _link: "<link>").split())


def replace_links(text: str, replacement) -> str:
    """`text` with each link X recognises (bare domains too) replaced by `replacement(link)`."""
    pieces, cursor = [], 0
    for start, end in x_urls(text):
        pieces += [text[cursor:start], replacement(text[start:end])]
        cursor = end
    return "".join(pieces) + text[cursor:]


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username or 'i/web'}/status/{post_id}"


def interaction(post: dict[str, Any], users: dict[str, dict[str, Any]], own_id: str) -> Interaction:
    """A post that mentions us as an inbox item: a reply to one of ours, a quote of one of
    ours (`referenced_tweets`), or a plain mention."""
    author = users.get(str(post.get("author_id") or ""), {})
    refs = {r.get("type"): str(r.get("id")) for r in post.get("referenced_tweets") or []}
    to_us = str(post.get("in_reply_to_user_id") or "") == own_id
    if "quoted" in refs:
        kind, subject = "quote", RemoteRef(refs["quoted"])
    elif "replied_to" in refs and to_us:
        kind, subject = "reply", RemoteRef(refs["replied_to"])
    else:
        kind, subject = "mention", None
    username = str(author.get("username") or "")
    return Interaction(
        kind=kind,
        remote_id=str(post["id"]),
        author_handle=username,
        author_name=str(author.get("name") or ""),
        author_avatar_url=str(author.get("profile_image_url") or ""),
        created_at=parse_time(post.get("created_at")),
        text=html.unescape(str(post.get("text") or "")),
        url=post_url(username, str(post["id"])),
        subject=subject,
        conversation_id=str(post.get("conversation_id") or ""),
        in_reply_to=refs.get("replied_to", ""),
    )


def users_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    included = data.get("includes") or {}
    return {str(u.get("id")): u for u in included.get("users") or [] if isinstance(u, dict)}


__all__ = [
    "ProviderError",
    "body",
    "comparable",
    "interaction",
    "parse_time",
    "post_url",
    "problem_words",
    "raise_for",
    "rate_budget",
    "users_of",
]
