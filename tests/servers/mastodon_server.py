"""A real, stateful Mastodon API server for tests: `mastodon-mock` on 127.0.0.1.

The server runs in a thread of the test process (mastodon-mock's own `MockServer`
picks a free port and waits until it accepts requests). It is shared by the whole
session, so every test creates its own users instead of resetting shared state.
Rate-limit headers are switched on with a budget no test can exhaust, so every
response carries `X-RateLimit-*` like a real server's.

mastodon-mock serves the streaming API (docs.joinmastodon.org/methods/streaming/: the
WebSocket /api/v1/streaming?stream=public|public:remote|hashtag and the SSE routes
/api/v1/streaming/public, /public/remote, /hashtag) and the timelines
(docs.joinmastodon.org/methods/timelines/: public with `remote`, tag/:hashtag, paged with
max_id/since_id/min_id). What a test needs besides is here: accounts of another server (the
`public:remote` stream carries only those), an event the server sends as given (a malformed
one), the streaming connections cut as a network drop would, and the WebSocket refused (a
server that streams only over SSE).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

_usernames = itertools.count(1)


class StreamCutter:
    """ASGI wrapper around the app: its streaming connections can be cut (the handler is
    cancelled and the server closes the socket, as when the network drops), and its
    WebSocket refused."""

    def __init__(self, app) -> None:
        self.app = app
        self.refuse_websocket = False
        self._streams: dict[asyncio.Task, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if not path.startswith("/api/v1/streaming") or path.endswith("/health"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket" and self.refuse_websocket:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # answered as HTTP 403
            return
        task = asyncio.ensure_future(self.app(scope, receive, send))
        with self._lock:
            self._streams[task] = asyncio.get_running_loop()
        try:
            await task
        except asyncio.CancelledError:
            raise ConnectionAbortedError("stream cut by the test") from None
        finally:
            with self._lock:
                self._streams.pop(task, None)

    def cut(self) -> int:
        """Drop every open stream; returns how many there were."""
        with self._lock:
            streams = list(self._streams.items())
        for task, loop in streams:
            loop.call_soon_threadsafe(task.cancel)
        return len(streams)


@dataclass
class MastodonTestServer:
    """The running server plus the mock-only control plane the tests need."""

    base_url: str
    control: httpx.Client  # unauthenticated client for /api/v1/_mock/* and /oauth/*
    cutter: StreamCutter | None = field(default=None, repr=False)

    @property
    def app(self):
        return self.cutter.app

    def new_remote_user(self, domain: str = "remote.example") -> tuple[str, str]:
        """An account of another server, as federation would have made it, with a token so
        a test can post as it; returns (acct, access token)."""
        import secrets

        from mastodon_mock.db.models import Account, OAuthToken, utcnow

        username = f"far{next(_usernames)}"
        with self.app.state.session_factory() as db:
            account = Account(
                username=username,
                domain=domain,
                display_name=username,
                created_at=utcnow(),
                fields=[],
            )
            db.add(account)
            db.flush()
            token = secrets.token_urlsafe(32)
            db.add(OAuthToken(access_token=token, account_id=account.id, scopes=["read", "write"]))
            db.commit()
        return f"{username}@{domain}", token

    def send_event(self, channel: str, name: str, payload: Any) -> None:
        """Send an event on a stream exactly as given (the server's own events are Status
        JSON; a test sends a malformed one)."""
        from mastodon_mock.streaming import Event, get_bus

        get_bus(self.app).publish(Event(name=name, payload=payload, channels=frozenset({channel})))

    def streams(self) -> int:
        """How many streaming connections are open."""
        from mastodon_mock.streaming import get_bus

        return len(get_bus(self.app)._subscribers)

    def cut_streams(self) -> int:
        return self.cutter.cut()

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


def _resolving_search(app) -> None:
    """Mastodon's `/api/v2/search?resolve=true` finds a status by its ActivityPub URI or web
    address (docs.joinmastodon.org/methods/search/); mastodon-mock searches text only, so
    this route, put in front of the mock's, answers such a search and leaves the rest."""
    from mastodon_mock.db.models import Status
    from mastodon_mock.deps import Config, CurrentAccount, DbSession
    from mastodon_mock.routers.search import search_v2
    from mastodon_mock.serializers.statuses import serialize_status_list
    from sqlalchemy import select

    def search(
        db: DbSession,
        config: Config,
        viewer: CurrentAccount,
        q: str,
        type: str | None = None,  # noqa: A002 (the API's parameter name)
        limit: int = 20,
        resolve: bool = False,
        offset: int = 0,
    ) -> dict[str, Any]:
        if not (resolve and "://" in q):
            return search_v2(db, config, viewer, q, type, limit, resolve, offset)
        newest = list(db.scalars(select(Status).order_by(Status.id.desc()).limit(1000)))
        statuses = serialize_status_list(db, newest, config, viewer, filter_context="public")
        found = [status for status in statuses if q in (status["uri"], status["url"])]
        return {"accounts": [], "statuses": found[:1], "hashtags": []}

    search.__annotations__ = {  # this module's annotations are strings FastAPI cannot see
        "db": DbSession,
        "config": Config,
        "viewer": CurrentAccount,
        "q": str,
        "type": str | None,
        "limit": int,
        "resolve": bool,
        "offset": int,
        "return": dict[str, Any],
    }
    app.add_api_route("/api/v2/search", search, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())


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
    cutters: list[StreamCutter] = []

    from mastodon_mock.app import create_app as create

    def create_app(config):
        app = create(config)
        _resolving_search(app)
        cutters.append(StreamCutter(app))
        return cutters[-1]

    try:
        with mock.patch("mastodon_mock.app.create_app", create_app):
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
            yield MastodonTestServer(server.base_url, control, cutters[0])
    finally:
        server.stop()
