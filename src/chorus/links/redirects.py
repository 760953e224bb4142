"""The redirect itself, shared by the view and the middleware that answers it early.

`ShortLinkMiddleware` sits right after SecurityMiddleware and answers `/l/<code>` for a
known, enabled link before sessions, authentication, locale and CSP run: a redirect needs
none of them, and skipping them is most of the redirect's speed. Anything else (unknown or
disabled code, too many requests) goes on to the view, which renders a page that explains.
"""

from __future__ import annotations

import secrets

from django.http import HttpResponse
from django.utils import timezone

from chorus.links import clicks

UNKNOWN, DISABLED, TOO_MANY = "unknown", "disabled", "too_many"


def _referrer_host(referrer: str) -> str:
    if "://" not in referrer:
        return ""
    host = referrer.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return host.rsplit("@", 1)[-1].split(":", 1)[0].lower()[:253]


def _with_click(url: str, token: str) -> str:
    """`url` with chorus_click=token (a URL-safe token: nothing to encode)."""
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}chorus_click={token}{hash_mark}{fragment}"


def answer(request, code: str) -> HttpResponse | str:
    """The redirect response, or why there is none (UNKNOWN, DISABLED, TOO_MANY)."""
    meta = request.META
    address = meta.get("REMOTE_ADDR", "")
    if not clicks.limiter.allow(address):
        return TOO_MANY
    destination = clicks.links.get(code) if code.isascii() and code.isalnum() else None
    if destination is None:
        return UNKNOWN
    if destination.disabled:
        return DISABLED
    location = destination.target
    user_agent = meta.get("HTTP_USER_AGENT", "")
    if request.method == "GET" and not clicks.is_bot(user_agent, meta):
        token = secrets.token_urlsafe(12)
        clicks.buffer.add(
            clicks.PendingClick(
                link_id=destination.link_id,
                token=token,
                at=timezone.now(),
                referrer=_referrer_host(meta.get("HTTP_REFERER", "")),
                device=clicks.device_class(user_agent),
                ip=address if destination.store_ip and address else None,
            )
        )
        location = _with_click(location, token)
    # Targets are only links Chorus made from http(s) URLs in posts: no open redirect.
    response = HttpResponse(status=302)
    response["Location"] = location
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


class ShortLinkMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/l/") and request.method in ("GET", "HEAD"):
            result = answer(request, path[3:])
            if not isinstance(result, str):
                return result
            request.short_link_refusal = result  # the view explains it, without counting twice
        return self.get_response(request)
