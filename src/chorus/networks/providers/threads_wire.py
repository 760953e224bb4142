"""What the Threads connector reads from settings and token answers, and how it compares
posts when reconciling (providers/threads.py)."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from .base import AuthExpired, PostDraft, Rejected, Transient
from .meta_graph import graph_error, json_object, raise_for_graph

GRAPH_URL = "https://graph.threads.net"
AUTH_URL = "https://threads.net"
LONG_LIVED_S = 60 * 86400
_SPACES = re.compile(r"\s+")


def app_options() -> dict[str, str]:
    """This installation's Threads app (settings.CHORUS_NETWORK_OPTIONS["threads"])."""
    from django.conf import settings

    return {k: v for k, v in settings.CHORUS_NETWORK_OPTIONS.get("threads", {}).items() if v}


def graph_url() -> str:
    """Threads itself, or a stand-in server (CHORUS_THREADS_GRAPH_URL, for tests)."""
    return app_options().get("graph_url", GRAPH_URL).rstrip("/")


def comparable(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def text_of(draft: PostDraft) -> str:
    """The post's text; with media the link goes in it (only text posts carry a link
    attachment)."""
    if draft.link and draft.media and draft.link not in draft.text:
        return f"{draft.text.rstrip()}\n\n{draft.link}".strip()
    return draft.text


def kind_of(draft: PostDraft) -> str:
    if len(draft.media) > 1:
        return "CAROUSEL_ALBUM"
    if draft.media:
        return "VIDEO" if draft.media[0].mime_type.startswith("video/") else "IMAGE"
    return "TEXT_POST"


def token_answer(response: httpx.Response, step: str) -> dict[str, Any]:
    """A token answer; a refused grant (used code, wrong secret, revoked token) is the
    sign-in failing: Rejected while connecting, AuthExpired when renewing."""
    if 400 <= response.status_code < 500 and response.status_code != 429:
        words = graph_error(response).get("message") or f"HTTP {response.status_code}"
        if step == "refresh":
            raise AuthExpired(f"Threads no longer accepts this connection ({words}); reconnect it")
        raise Rejected(f"Threads did not accept the sign-in: {words}")
    raise_for_graph(response, "Threads")
    data = json_object(response, "Threads")
    if not isinstance(data.get("access_token"), str) or not data["access_token"]:
        raise Transient("Threads sent no access token")
    return data


def secrets_of(tokens: dict[str, Any]) -> dict[str, str]:
    expires_in = tokens.get("expires_in")
    seconds = expires_in if isinstance(expires_in, int) and expires_in > 0 else LONG_LIVED_S
    expires_at = str(int(time.time()) + seconds)
    return {"access_token": str(tokens["access_token"]), "expires_at": expires_at}
