"""The one place HTTP clients for networks are built: timeouts, a clear User-Agent, and the
outbound guard (`chorus.core.egress`): only public addresses, pinned, no redirects."""

from __future__ import annotations

import httpx

from chorus import __version__
from chorus.core.egress import GuardedTransport

USER_AGENT = f"Chorus/{__version__} (self-hosted social media management)"


def client(timeout: httpx.Timeout | None = None) -> httpx.Client:
    """A client for addresses users chose (servers, PDSes, and anything later); a caller on
    a page's path (link previews) passes a shorter `timeout`."""
    return httpx.Client(
        timeout=timeout or httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=GuardedTransport(),
        trust_env=False,
    )
