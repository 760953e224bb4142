"""Bluesky's wire: XRPC calls, their answers mapped onto the provider interface's typed
errors and rate budgets, and finding an account's PDS from its handle and DID."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .base import AuthExpired, RateBudget, RateLimited, Rejected, Transient
from .wire import error_words, is_auth_failure, lenient_json, seconds_to_wait, send

_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})
_DEFAULT_RETRY_AFTER = 300.0  # Bluesky's general limits use five-minute windows


def now() -> datetime:
    """The current UTC time; a function so tests can pin the clock."""
    return datetime.now(UTC)


def body_of(response: httpx.Response) -> dict[str, Any]:
    """A successful response's JSON object (empty bodies are fine: deleteRecord sends none)."""
    if not response.content.strip():
        return {}
    try:
        data = lenient_json(response)
    except ValueError as exc:
        raise Transient(
            f"{response.url.host} sent a malformed response (HTTP {response.status_code})"
        ) from exc
    if not isinstance(data, dict):
        raise Transient(f"{response.url.host} sent an unexpected response shape")
    return data


def xrpc_error(response: httpx.Response) -> tuple[str, str]:
    """The XRPC error name and message, e.g. ("InvalidRequest", "Record/text too long")."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return "", ""
    name, message = data.get("error"), data.get("message")
    return (
        name.strip() if isinstance(name, str) else "",
        message.strip() if isinstance(message, str) else "",
    )


def header_time(headers: httpx.Headers, name: str) -> datetime | None:
    """`ratelimit-reset` is Unix seconds."""
    try:
        return datetime.fromtimestamp(float(headers[name]), UTC)
    except (KeyError, ValueError, OverflowError):
        return None


def rate_budget(headers: httpx.Headers) -> RateBudget | None:
    try:
        limit = int(headers["ratelimit-limit"])
        remaining = int(headers["ratelimit-remaining"])
    except (KeyError, ValueError):
        return None
    return RateBudget(limit, remaining, header_time(headers, "ratelimit-reset"))


def retry_after(headers: httpx.Headers) -> float:
    """Seconds until the window resets: `ratelimit-reset`, else `retry-after`."""
    reset = header_time(headers, "ratelimit-reset")
    return seconds_to_wait(
        reset, headers.get("retry-after", ""), now=now(), default=_DEFAULT_RETRY_AFTER
    )


def raise_for_status(response: httpx.Response) -> None:
    """Map an XRPC answer to the typed errors of the provider interface."""
    code = response.status_code
    if 200 <= code < 300:
        return
    name, message = xrpc_error(response)
    said = message or name or error_words(response, ("message", "error")) or f"HTTP {code}"
    if code == 429:
        raise RateLimited(
            f"Bluesky rate limit reached ({said})", retry_after=retry_after(response.headers)
        )
    if name in _AUTH_ERRORS or is_auth_failure(code, said):
        raise AuthExpired(f"Bluesky no longer accepts this connection ({said}); reconnect it")
    if code == 408 or code >= 500:
        raise Transient(f"Bluesky server error (HTTP {code}): {said}")
    raise Rejected(f"Bluesky refused the request: {said}")


def xrpc_url(base: str, nsid: str) -> str:
    return f"{base.rstrip('/')}/xrpc/{nsid}"


def xrpc_call(
    http: httpx.Client,
    base: str,
    nsid: str,
    *,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    procedure: bool = False,
    token: str = "",
    extra_headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One XRPC call: a GET query, or a POST procedure (with a JSON body when given).

    Procedures that take no input (refreshSession) must be sent without any body at all.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(extra_headers or {})
    if body is not None:
        return send(http, "POST", xrpc_url(base, nsid), json=body, headers=headers)
    method = "POST" if procedure else "GET"
    return send(http, method, xrpc_url(base, nsid), params=params, headers=headers)


def resolve_handle(http: httpx.Client, service_url: str, handle: str) -> str:
    response = xrpc_call(
        http, service_url, "com.atproto.identity.resolveHandle", params={"handle": handle}
    )
    if response.status_code == 400 and xrpc_error(response)[0] in ("HandleNotFound", ""):
        raise Rejected(f"no Bluesky account has the handle @{handle}")
    raise_for_status(response)
    did = body_of(response).get("did")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise Transient(f"{urlsplit(service_url).netloc} sent no DID for @{handle}")
    return did


def pds_from_did(http: httpx.Client, did: str, plc_url: str) -> str:
    """The account's PDS endpoint from its DID document (did:plc or did:web)."""
    if did.startswith("did:plc:"):
        url = f"{plc_url.rstrip('/')}/{quote(did)}"
    elif did.startswith("did:web:"):
        url = f"https://{did.removeprefix('did:web:').replace('%3A', ':')}/.well-known/did.json"
    else:
        raise Rejected(f"Bluesky accounts with {did.split(':')[1]!r} identities are not supported")
    response = send(http, "GET", url, headers={"Accept": "application/json"})
    if response.status_code == 404:
        raise Rejected(f"the identity {did} is not registered (no DID document)")
    raise_for_status(response)
    services = body_of(response).get("service")
    for service in services if isinstance(services, list) else []:
        if (
            isinstance(service, dict)
            and str(service.get("id", "")).endswith("#atproto_pds")
            and isinstance(service.get("serviceEndpoint"), str)
        ):
            return service["serviceEndpoint"].rstrip("/")
    raise Rejected(f"the identity {did} names no Bluesky server (PDS)")
