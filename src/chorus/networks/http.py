"""The one place HTTP clients for networks are built: timeouts and a clear User-Agent."""

from __future__ import annotations

import httpx

from chorus import __version__

USER_AGENT = f"Chorus/{__version__} (self-hosted social media management)"


def client() -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )
