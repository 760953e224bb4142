"""Where a request comes from (address, browser), available to services without `request`.

`AuditContextMiddleware` puts the current request's context in a context variable for the
length of the request; `audit_record` reads it, so services stay free of HTTP objects.
Background tasks have no context: their entries carry no address.

The client address is REMOTE_ADDR, unless REMOTE_ADDR is one of CHORUS_TRUSTED_PROXIES
(addresses or networks such as 10.0.0.0/8): then X-Forwarded-For is read from the right,
skipping trusted proxies, and the first other address is the client. Without the setting the
header is ignored, since anyone can send it.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    ip_address: str = ""
    user_agent: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("chorus_request_context", default=None)


def current() -> RequestContext:
    return _current.get() or RequestContext()


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_ip(request) -> str:
    """The client's address, honouring X-Forwarded-For only from trusted proxies."""
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return ""
    networks = _networks(tuple(getattr(settings, "CHORUS_TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(remote, networks):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _parse(hop)
        if address is None:
            break
        if not _trusted(address, networks):
            return str(address)
        remote = address
    return str(remote)


def from_request(request) -> RequestContext:
    return RequestContext(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
    )


class AuditContextMiddleware:
    """Expose the request's context to services, and keep session ownership up to date."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(from_request(request))
        try:
            response = self.get_response(request)
            _track_session(request)
            return response
        finally:
            _current.reset(token)


SESSION_TRACKED_KEY = "chorus_tracked_session"


def _track_session(request) -> None:
    """Record the session under its user when its key changed (sign-in, password change)."""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated:
        return
    key = session.session_key
    if not key or session.get(SESSION_TRACKED_KEY) == key:
        return
    from chorus.governance.services import session_track

    session_track(user=user, session_key=key)
    session[SESSION_TRACKED_KEY] = key
