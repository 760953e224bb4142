"""A real, stateful Mastodon API server for tests: `mastodon-mock` on 127.0.0.1.

The server runs in a thread of the test process (mastodon-mock's own `MockServer`
picks a free port and waits until it accepts requests). It is shared by the whole
session, so every test creates its own users instead of resetting shared state.
Rate-limit headers are switched on with a budget no test can exhaust, so every
response carries `X-RateLimit-*` like a real server's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

_usernames = itertools.count(1)


@dataclass
class MastodonTestServer:
    """The running server plus the mock-only control plane the tests need."""

    base_url: str
    control: httpx.Client  # unauthenticated client for /api/v1/_mock/* and /oauth/*

    def new_user(self, prefix: str = "user") -> tuple[str, str]:
        """Create a local account; returns (username, access token)."""
        username = f"{prefix}{next(_usernames)}"
        response = self.control.post("/api/v1/_mock/dev_user", json={"username": username})
        response.raise_for_status()
        return username, response.json()["access_token"]

    def client(self, token: str) -> httpx.Client:
        """A client acting as another user (to mention, like, boost... our account)."""
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def approve(self, authorization_url: str, username: str) -> tuple[str, str]:
        """Play the user on the consent page; returns the (code, state) redirected back."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        page = self.control.get("/oauth/authorize", params=query)
        page.raise_for_status()
        response = self.control.post(
            "/oauth/authorize",
            data={
                "username": username,
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "scope": query["scope"],
                "state": query["state"],
            },
        )
        assert response.status_code == 302, response.text
        back = parse_qs(urlsplit(response.headers["Location"]).query)
        return back["code"][0], back["state"][0]

    def revoke(self, token: str) -> None:
        self.control.post("/oauth/revoke", data={"token": token}).raise_for_status()

    @contextmanager
    def fault(self, **rule: Any) -> Iterator[str]:
        """Inject a fault rule (see mastodon-mock's fault_injection spec) while inside."""
        response = self.control.post("/api/v1/_mock/faults", json=rule)
        response.raise_for_status()
        rule_id = response.json()["id"]
        try:
            yield rule_id
        finally:
            self.control.delete(f"/api/v1/_mock/faults/{rule_id}")


@pytest.fixture(scope="session")
def mastodon_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonTestServer]:
    try:
        from mastodon_mock.config import (
            DatabaseConfig,
            FaultConfig,
            MastodonMockConfig,
            RateLimitConfig,
            SeedConfig,
            StreamingConfig,
        )
        from mastodon_mock.testing.server import MockServer
    except ImportError as exc:
        pytest.fail(
            f"cannot start the Mastodon test server: {exc}. "
            "Install it with `pip install 'mastodon-mock>=0.6.1,<0.7'`.",
            pytrace=False,
        )
    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(),
        media_storage_path=str(tmp_path_factory.mktemp("mastodon-media")),
        ratelimit=RateLimitConfig(enabled=True, limit=1_000_000, window_seconds=3600),
        faults=FaultConfig(enabled=True),
        # Server-sent events on /api/v1/streaming/* as Mastodon serves them
        # (docs.joinmastodon.org/methods/streaming/); heartbeats every second so a stream
        # a test abandons ends quickly.
        streaming=StreamingConfig(enabled=True, heartbeat_seconds=1.0),
    )
    server = MockServer(config=config, host="127.0.0.1", startup_timeout=30)
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"mastodon-mock did not start on 127.0.0.1: {exc!r}", pytrace=False)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as control:
            probe = control.get("/api/v2/instance")
            if probe.status_code != 200:
                pytest.fail(
                    f"mastodon-mock started but /api/v2/instance answered {probe.status_code}",
                    pytrace=False,
                )
            yield MastodonTestServer(server.base_url, control)
    finally:
        server.stop()
