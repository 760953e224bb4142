"""LinkedIn REST wire details shared by the LinkedIn connector: headers, refusals, URNs.

Every versioned call carries `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version:
2.0.0` (learn.microsoft.com/linkedin/marketing/versioning). URNs in a path or a query are
URL-encoded whole; lists in a query are Rest.li 2.0 `List(...)` of encoded URNs
(learn.microsoft.com/linkedin/shared/api-guide/concepts/protocol-version). A created
entity's id comes in the `x-restli-id` response header.

Refusals (learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling) are
`{"status", "serviceErrorCode", "code", "message"}`: 401 (`REVOKED_ACCESS_TOKEN`,
`EXPIRED_ACCESS_TOKEN`, `INVALID_ACCESS_TOKEN`) → AuthExpired; 403 → AuthExpired when the
token lacks the permission the call needs (the member must reconnect and grant it), else
Rejected with LinkedIn's message; 429 → RateLimited: LinkedIn limits calls per application
and per member per day, reset at midnight UTC
(learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits), so without a
`Retry-After` a daily limit waits until then; 5xx → Transient; 400 and 422 → Rejected with
the `message` (and the first input error).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from .base import AuthExpired, RateLimited, Rejected, Transient
from .wire import lenient_json, seconds_to_wait

GUIDE = "docs/networks/linkedin.md"
RESTLI = "2.0.0"
_SHORT_WAIT_S = 60.0


def encode(urn: str) -> str:
    """A URN as one path segment or query value (`:`, `(`, `,` encoded)."""
    return quote(urn, safe="")


def urn_list(urns: list[str]) -> str:
    """Rest.li 2.0 `List(urn1,urn2)` with each URN encoded, for a query string."""
    return "List(" + ",".join(encode(urn) for urn in urns) + ")"


def urn_id(urn: str) -> str:
    """The last part of `urn:li:kind:id`."""
    return urn.rsplit(":", 1)[-1]


def post_url(urn: str) -> str:
    """The public address of a post (share or ugcPost URN)."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


def _data(response: httpx.Response) -> dict[str, Any]:
    try:
        data = lenient_json(response)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def message_of(response: httpx.Response) -> str:
    """LinkedIn's own words: `message` (and the first input error), or the OAuth
    `error_description`; "" when the body says nothing we can show."""
    data = _data(response)
    words = str(data.get("message") or data.get("error_description") or "").strip()
    details = data.get("errorDetails") or {}
    for problem in details.get("inputErrors") or [] if isinstance(details, dict) else []:
        description = str((problem or {}).get("description") or "").strip()
        if description and description not in words:
            words = f"{words} ({description})" if words else description
            break
    return words


def _until_midnight(now: datetime) -> float:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (tomorrow - now).total_seconds())


def raise_for(
    response: httpx.Response, *, scope: str = "", granted: str = "", now: datetime | None = None
) -> None:
    """Map a refusal to the provider's typed errors; 2xx passes. `scope` is the permission
    the call needs and `granted` the token's scopes, to tell a missing grant from a refusal."""
    code = response.status_code
    if 200 <= code < 300:
        return
    now = now or datetime.now(UTC)
    words = message_of(response)
    said = f": {words}" if words else ""
    if code == 429:
        daily = "day" in words.lower()
        default = _until_midnight(now) if daily else _SHORT_WAIT_S
        wait = seconds_to_wait(
            None, response.headers.get("retry-after", ""), now=now, default=default
        )
        what = "its daily limit for this account is spent" if daily else "it asks to slow down"
        raise RateLimited(
            f"LinkedIn holds this request: {what}{said}. Chorus tries again later.",
            retry_after=wait,
        )
    if code == 401:
        raise AuthExpired(
            f"LinkedIn no longer accepts this account's sign-in{said}. Reconnect it to go on."
        )
    if code == 403 and scope and scope not in granted.split():
        raise AuthExpired(
            f"This LinkedIn sign-in lacks the {scope} permission{said}. Reconnect the account "
            f"and allow it; if LinkedIn does not offer it, the app needs that product ({GUIDE})."
        )
    if code >= 500:
        raise Transient(f"LinkedIn had a problem (HTTP {code}){said}; Chorus will try again.")
    raise Rejected(f"LinkedIn refused the request (HTTP {code}){said}")


def body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object LinkedIn answered with; a 2xx answer that is not one is a passing
    fault (an empty body is an empty object)."""
    if not response.content:
        return {}
    try:
        data = lenient_json(response)
    except ValueError as exc:
        raise Transient("LinkedIn answered with something that is not JSON") from exc
    if not isinstance(data, dict):
        raise Transient("LinkedIn answered with something unexpected")
    return data


def created_id(response: httpx.Response) -> str:
    """The URN of what a create made: `x-restli-id` (else an `id` in the body)."""
    urn = response.headers.get("x-restli-id") or str(body(response).get("id") or "")
    if not urn:
        raise Transient("LinkedIn did not say what it created")
    return urn


def parse_ms(value: Any) -> datetime:
    """LinkedIn's epoch milliseconds as a time (now when missing)."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)
