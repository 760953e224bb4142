"""A local stand-in for Mastodon, Bluesky and Telegram Bot API servers, for benchmarks and
reliability tests (the Bot API lives in `emulator_telegram`, routed from `/bot<token>/...`).

The real providers publish against it unchanged: it speaks the part of the Mastodon REST API
and of the AT Protocol (XRPC, plus a PLC-like `GET /{did}`) that publishing uses, on one
loopback port. Any token or handle is accepted and its account created on first use, so
twenty thousand accounts cost nothing. Each request waits out a configurable latency with
`asyncio.sleep` (half before it is handled, half after), so one process serves thousands of
slow requests a second.

What it mimics, because the dispatcher's correctness depends on it:

- Mastodon's `Idempotency-Key` (per token): the same key answers the same status; with
  `honour_idempotency_key` off it is ignored, as some servers of the Mastodon API do, and
  `GET /api/v1/accounts/:id/statuses` (newest first, `limit`, `max_id`) lets the client
  find what it already posted.
- A Bluesky `createRecord` with an `rkey` that already exists fails with HTTP 500
  `InternalServerError`, as the reference PDS does (its repository refuses the key).
- Rate limits per account (`X-RateLimit-*` / `RateLimit-*`, 429 with `Retry-After`),
  revoked tokens (Mastodon: 401; Bluesky: 400 `ExpiredToken`, then a failing refresh, as a
  PDS answers once an app password is revoked), expiring Bluesky access tokens.

Fault scripts are a list of steps. A request takes the first step whose `route` (a route name
such as `mastodon.statuses.create` or `com.atproto.repo.createRecord`, a group `publish`,
`mastodon`, `bluesky`, or `*`) and optional `account` match it; a step lasts `times` requests,
or stays while configured when it has a `probability`. A step answers `status` (with
`retry_after`, `error`, or a plain-text body `text`), after waiting `delay_s`; with
`after_commit` the request is carried out first and its answer then replaced, which is how
a lost response looks to the client.

Mastodon's routes live in `emulator_mastodon`, the AT Protocol's in `emulator_bluesky` (both
mixins of `Emulator`), requests and answers in `emulator_http`. Bluesky direct messages
(`chat.bsky.convo.*`, reached through the PDS's `atproto-proxy` header) live in
`emulator_chat`; TikTok's API, under `/tiktok/`, in `emulator_tiktok`.

Every created post goes to the event log (account, idempotency key or rkey, id, `received_at`
from `time.time()`), so a benchmark measures lateness from the server's own clock and a test
checks that each key was published exactly once. Control endpoints live under `/_emulator/`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import uvicorn

from chorus.networks.providers.base import Credentials
from chorus.testing import emulator_telegram, emulator_x
from chorus.testing.emulator_answers import PlainText
from chorus.testing.emulator_bluesky import (
    BlueskyRoutes,
    _claims,
    did_for_handle,
    mint_bluesky_session,
)
from chorus.testing.emulator_chat import ChatService
from chorus.testing.emulator_http import Reply, _iso, _Reply, _Request
from chorus.testing.emulator_mastodon import MastodonRoutes

# Access tokens: a full session, or an app password's without DM access (which the PDS
# accepts everywhere except the chat proxy)
PUBLISH_ROUTES = frozenset(
    {"mastodon.statuses.create", "com.atproto.repo.createRecord"}
    | {f"telegram.{method}" for method in emulator_telegram.PUBLISH_METHODS}
    | emulator_x.PUBLISH_ROUTES
)
_XRPC_NAMES = {
    400: "InvalidRequest",
    401: "AuthenticationRequired",
    403: "Forbidden",
    404: "XRPCNotSupported",
    413: "PayloadTooLarge",
    429: "RateLimitExceeded",
    500: "InternalServerError",
    501: "MethodNotImplemented",
    502: "UpstreamFailure",
    503: "NotEnoughResources",
    504: "UpstreamTimeout",
}


# --------------------------------------------------------------------------- configuration


@dataclass
class FaultStep:
    """One step of a fault script (see the module docstring)."""

    route: str = "*"
    status: int = 0  # 0 answers normally, after delay_s
    times: int = 1
    probability: float | None = None
    retry_after: float | None = None
    delay_s: float = 0.0
    after_commit: bool = False
    account: str = ""  # a Mastodon token, a Bluesky handle or DID
    error: str = ""  # Mastodon error text or XRPC error name, instead of the usual one
    text: str = ""  # a plain-text body instead, as some servers of these APIs answer

    def matches(self, route: str, account: str) -> bool:
        if self.account and account not in (self.account, did_for_handle(self.account)):
            return False
        if self.route in ("*", route):
            return True
        if self.route == "publish":
            return route in PUBLISH_ROUTES
        group = route.split(".")[0] if route.startswith(("mastodon.", "telegram.", "x.")) else ""
        return self.route == (group or "bluesky")


def _latency_sampler(spec: Any) -> Callable[[], float]:
    """Seconds per request from a spec: milliseconds, or a distribution in milliseconds."""
    if isinstance(spec, int | float):
        fixed = max(0.0, float(spec)) / 1000
        return lambda: fixed
    kind = spec.get("dist") if isinstance(spec, dict) else None
    if kind == "uniform":
        low, high = float(spec["low_ms"]), float(spec["high_ms"])
        return lambda: random.uniform(low, high) / 1000
    if kind == "normal":
        mean, sd = float(spec["mean_ms"]), float(spec["sd_ms"])
        return lambda: max(0.0, random.gauss(mean, sd)) / 1000
    if kind == "lognormal":
        median, sigma = float(spec["median_ms"]), float(spec["sigma"])
        return lambda: median * math.exp(sigma * random.gauss(0.0, 1.0)) / 1000
    raise ValueError(
        f"latency is milliseconds or {{'dist': 'uniform'|'normal'|'lognormal', ...}}, not {spec!r}"
    )


@dataclass
class Settings:
    """What `configure` changes; `rate_limit` None turns limits and their headers off."""

    latency: Any = 0.0
    rate_limit: dict[str, Any] | None = field(
        default_factory=lambda: {"limit": 300, "window_s": 300.0, "scope": "all"}
    )
    faults: list[FaultStep] = field(default_factory=list)
    down: bool = False
    access_ttl_s: float = 7200.0
    media_processing_checks: int = 0
    honour_idempotency_key: bool = True  # False: a server that ignores Idempotency-Key


def _is_mastodon(request: _Request) -> bool:
    return request.path.startswith("/api/")


# --------------------------------------------------------------------------- the server


class Emulator(MastodonRoutes, BlueskyRoutes):
    """The ASGI app: all state lives here, touched only from the event loop."""

    def __init__(self) -> None:
        from chorus.testing.emulator_meta import MetaGraph  # Meta's Graph API, beside this

        self.meta = MetaGraph(self)
        self.settings = Settings()
        self._latency = _latency_sampler(0.0)
        self._mastodon = {
            ("GET", "/api/v2/instance"): ("mastodon.instance", self._m_instance),
            ("GET", "/api/v1/instance"): ("mastodon.instance", self._m_instance),
            ("GET", "/api/v1/accounts/verify_credentials"): (
                "mastodon.verify_credentials",
                self._m_verify,
            ),
            ("POST", "/api/v1/statuses"): ("mastodon.statuses.create", self._m_post_status),
            ("GET", "/api/v1/statuses"): ("mastodon.statuses.get", self._m_statuses),
            ("POST", "/api/v2/media"): ("mastodon.media.create", self._m_upload),
        }
        self._mastodon_items = {
            "/api/v1/statuses/": {
                "GET": ("mastodon.statuses.get", self._m_status),
                "DELETE": ("mastodon.statuses.delete", self._m_delete),
            },
            "/api/v1/media/": {"GET": ("mastodon.media.get", self._m_media)},
        }
        self._xrpc = {
            ("POST", "com.atproto.server.createSession"): self._b_create_session,
            ("POST", "com.atproto.server.refreshSession"): self._b_refresh_session,
            ("GET", "com.atproto.server.getSession"): self._b_get_session,
            ("GET", "com.atproto.identity.resolveHandle"): self._b_resolve_handle,
            ("GET", "app.bsky.actor.getProfile"): self._b_profile,
            ("POST", "com.atproto.repo.createRecord"): self._b_create_record,
            ("GET", "com.atproto.repo.getRecord"): self._b_get_record,
            ("POST", "com.atproto.repo.deleteRecord"): self._b_delete_record,
            ("POST", "com.atproto.repo.uploadBlob"): self._b_upload_blob,
            ("GET", "_health"): lambda request, _: (200, {"version": "emulator"}, []),
        }
        self.chat = ChatService(self)
        self._xrpc.update(self.chat.routes())
        self.reset()

    # ----------------------------------------------------------------- state and control

    def reset(self) -> None:
        """Forget accounts, posts, events, counters and faults; keep latency and limits."""
        self.settings.faults = []
        self.settings.down = False
        self.meta.reset()
        self.started_at = time.time()
        self.counters: Counter[str] = Counter()
        self.in_flight = self.max_in_flight = 0
        self.events: list[dict[str, Any]] = []
        self.revoked: set[str] = set()
        self.windows: dict[str, list[float]] = {}
        self.m_accounts: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.status_owner: dict[str, str] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.handles: dict[str, str] = {}  # did -> handle
        self.b_accounts: set[str] = set()  # DIDs that signed in or presented a token
        self.b_posts: Counter[str] = Counter()  # did -> records created
        self.records: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._ids = itertools.count(int(time.time() * 1000) << 16)
        self._tid_last = 0
        self.telegram = emulator_telegram.TelegramBotApi(self)
        self.x = emulator_x.XApi(self)
        from chorus.testing.emulator_threads import ThreadsApi  # beside emulator_meta

        self.threads = ThreadsApi(self)
        from chorus.testing.emulator_tiktok import TikTokApi  # under /tiktok/, like Threads

        self.tiktok = TikTokApi(self)
        from chorus.testing.emulator_linkedin import LinkedInApi  # beside emulator_threads

        self.linkedin = LinkedInApi(self)
        self.chat.reset()

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply the given settings, all or none (a bad one raises ValueError or TypeError)."""
        unknown = set(changes) - set(Settings.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        changes = dict(changes)
        sampler = _latency_sampler(changes["latency"]) if "latency" in changes else None
        if changes.get("rate_limit") is not None:
            limit = {"window_s": 300.0, "scope": "all", **changes["rate_limit"]}
            if limit["scope"] not in ("all", "publish") or int(limit["limit"]) < 0:
                raise ValueError("rate_limit is {'limit': N, 'window_s': S, 'scope': all|publish}")
            changes["rate_limit"] = limit
        if "faults" in changes:
            changes["faults"] = [FaultStep(**step) for step in changes["faults"]]
        if sampler is not None:
            self._latency = sampler
        if "rate_limit" in changes:
            self.windows.clear()
        for key, value in changes.items():
            setattr(self.settings, key, value)
        return asdict(self.settings)

    def revoke(self, account: str) -> None:
        """Revoke a Mastodon token, or a Bluesky account's sessions (by handle or DID)."""
        self.revoked.add(account)
        if not account.startswith("did:"):
            self.revoked.add(did_for_handle(account))

    def stats(self) -> dict[str, Any]:
        prefixed = {"route:": {}, "status:": {}}
        plain = {}
        for name, count in self.counters.items():
            for prefix, bucket in prefixed.items():
                if name.startswith(prefix):
                    bucket[name[len(prefix) :]] = count
                    break
            else:
                plain[name] = count
        counts = ("requests", "posts_created", "posts_deleted", "idempotent_replays")
        more = ("duplicate_rkeys", "rate_limited", "faults_injected", "auth_rejected")
        return {
            **{name: plain.get(name, 0) for name in counts + more},
            "events": len(self.events),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "accounts": {"mastodon": len(self.m_accounts), "bluesky": len(self.b_accounts)},
            "faults_pending": len(self.settings.faults),
            "uptime_s": round(time.time() - self.started_at, 3),
            "routes": prefixed["route:"],
            "statuses": prefixed["status:"],
        }

    def _control(self, request: _Request) -> Reply:
        name = request.path.removeprefix("/_emulator/")
        post = request.method == "POST"
        try:
            if name == "health":
                return 200, {"ok": True}, []
            if name.startswith("meta/"):
                return self.meta.control(request, name[5:])
            if name == "stats":
                return 200, self.stats(), []
            if name == "events":
                since = int(request.arg("since") or 0)
                limit = int(request.arg("limit") or 10000)
                page = self.events[since : since + limit]
                return 200, {"events": page, "next": since + len(page)}, []
            if post and name == "configure":
                return 200, self.configure(request.json()), []
            if post and name == "reset":
                self.reset()
                return 200, {"ok": True}, []
            if post and name.startswith("linkedin/"):
                return self.linkedin.control(name.removeprefix("linkedin/"), request.json())
            if post and name.startswith("threads/"):
                return self.threads.control(name.removeprefix("threads/"), request.json())
            if post and name.startswith("tiktok/"):
                return self.tiktok.control(name.removeprefix("tiktok/"), request.json())
            if post and name.startswith("x/"):
                return self.x.control(name.removeprefix("x/"), request.json())
            if post and name.startswith("telegram/"):
                return self.telegram.control(name.removeprefix("telegram/"), request.json())
            if post and name == "revoke":
                self.revoke(str(request.json()["account"]))
                return 200, {"ok": True}, []
        except (TypeError, ValueError, KeyError) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}, []
        except _Reply as early:
            return early.reply
        return 404, {"error": f"no control endpoint {request.method} {request.path}"}, []

    # ----------------------------------------------------------------- ASGI

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = _Request(
            method=scope["method"],
            path=scope["path"],
            query=parse_qs(scope["query_string"].decode("latin-1")),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"".join(chunks),
        )
        if request.path.startswith("/_emulator/"):
            status, payload, headers = self._control(request)
        else:
            status, payload, headers = await self._api(request)
            self.counters[f"status:{status}"] += 1
        if isinstance(payload, PlainText):
            data = payload.encode()
            kind = payload.content_type
        else:
            data = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
            kind = b"application/json; charset=utf-8"
        raw = [
            (b"content-type", kind),
            (b"content-length", str(len(data)).encode()),
        ]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers + request.out_headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})

    async def _api(self, request: _Request) -> Reply:
        self.counters["requests"] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            latency = self._latency()
            if latency:
                await asyncio.sleep(latency / 2)
            reply = await self._handle(request)
            if latency:
                await asyncio.sleep(latency / 2)
            return reply
        finally:
            self.in_flight -= 1

    async def _handle(self, request: _Request) -> Reply:
        if self.settings.down:
            return self._error(request, 500, "")
        if self.meta.owns(request):
            return await self.meta.handle(request)
        if self.threads.owns(request):
            return await self.threads.handle(request)
        if self.tiktok.owns(request):
            return await self.tiktok.handle(request)
        if self.linkedin.owns(request):
            return await self.linkedin.handle(request)
        handler, arg = self._resolve(request)
        if handler is None:
            if request.path.startswith("/xrpc/"):
                return 501, {"error": "MethodNotImplemented", "message": "Method Not Found"}, []
            return 404, {"error": "Record not found"}, []
        self.counters[f"route:{request.route}"] += 1
        step = self._take_fault(request)
        if step is not None and not step.after_commit:
            if step.delay_s:
                await asyncio.sleep(step.delay_s)
            if step.status:
                return self._fault(request, step)
        try:
            reply = handler(request, arg)
        except _Reply as early:
            reply = early.reply
        if step is not None and step.after_commit:
            if step.delay_s:
                await asyncio.sleep(step.delay_s)
            if step.status:
                return self._fault(request, step)
        return reply

    def _resolve(self, request: _Request) -> tuple[Callable[[_Request, str], Reply] | None, str]:
        method, path = request.method, request.path
        if path.startswith("/xrpc/"):
            request.route = path[6:]
            return self._xrpc.get((method, request.route)), ""
        if path.startswith(("/2/", "/i/oauth2/")):  # the X API v2 and its consent page
            return self.x.resolve(request)
        if path.startswith("/bot"):  # the Telegram Bot API: /bot<token>/<method>
            return self.telegram.resolve(request)
        if path.startswith("/did:") and method == "GET":
            request.route = "plc.did"
            return self._did_document, unquote(path[1:])
        if method == "GET" and path.startswith("/api/v1/accounts/") and path.endswith("/statuses"):
            request.route = "mastodon.accounts.statuses"
            return self._m_account_statuses, path[len("/api/v1/accounts/") : -len("/statuses")]
        exact = self._mastodon.get((method, path))
        if exact is not None:
            request.route = exact[0]
            return exact[1], ""
        for prefix, methods in self._mastodon_items.items():
            if path.startswith(prefix) and method in methods and "/" not in path[len(prefix) :]:
                request.route, handler = methods[method]
                return handler, path[len(prefix) :]
        return None, ""

    def _account_of(self, request: _Request) -> str:
        if request.route.startswith("telegram."):
            return request.path[4:].partition("/")[0]
        if request.route.startswith("x."):
            return self.x.account_of(request)
        token = request.bearer
        claims = _claims(token) if token.count(".") == 2 else None
        return claims["sub"] if claims else token

    def _take_fault(self, request: _Request) -> FaultStep | None:
        faults = self.settings.faults
        if not faults:
            return None
        account = self._account_of(request)
        for index, step in enumerate(faults):
            if not step.matches(request.route, account):
                continue
            if step.probability is not None:
                return step if random.random() < step.probability else None
            step.times -= 1
            if step.times <= 0:
                del faults[index]
            return step
        return None

    def _error(self, request: _Request, status: int, error: str) -> Reply:
        """An error in the network's own shape: Mastodon `{error}`, XRPC `{error, message}`,
        the Bot API's `{ok: false, error_code, description}`."""
        if request.route.startswith("telegram."):
            return emulator_telegram.error(status, error)
        if request.route.startswith("x."):
            return emulator_x.error(status, error)
        if _is_mastodon(request):
            default = "Too many requests" if status == 429 else HTTPStatus(status).phrase
            return status, {"error": error or default}, []
        name = error or _XRPC_NAMES.get(status, "InternalServerError")
        return status, {"error": name, "message": HTTPStatus(status).phrase}, []

    def _fault(self, request: _Request, step: FaultStep) -> Reply:
        self.counters["faults_injected"] += 1
        if request.route.startswith("telegram."):
            request.out_headers.clear()
            return emulator_telegram.fault_reply(step)
        if request.route.startswith("x."):
            request.out_headers.clear()
            limit = int((self.settings.rate_limit or {}).get("limit", 0))
            return emulator_x.fault_reply(step, limit)
        status, payload, headers = self._error(request, step.status, step.error)
        if step.text:
            payload = PlainText(step.text)
        request.out_headers.clear()
        if step.retry_after is not None:
            headers = [("Retry-After", str(math.ceil(step.retry_after)))]
            if step.status == 429:
                limit = int((self.settings.rate_limit or {}).get("limit", 0))
                reset = time.time() + step.retry_after
                headers += self._rate_headers(request, limit, 0, reset)
        return status, payload, headers

    # ----------------------------------------------------------------- rate limits

    def _rate_headers(
        self, request: _Request, limit: int, remaining: int, reset: float
    ) -> list[tuple[str, str]]:
        if request.route.startswith("x."):
            return emulator_x.rate_headers(limit, remaining, reset)
        if _is_mastodon(request):
            return [
                ("X-RateLimit-Limit", str(limit)),
                ("X-RateLimit-Remaining", str(remaining)),
                ("X-RateLimit-Reset", _iso(reset)),
            ]
        window = (self.settings.rate_limit or {}).get("window_s", 300)
        return [
            ("RateLimit-Limit", str(limit)),
            ("RateLimit-Remaining", str(remaining)),
            ("RateLimit-Reset", str(math.ceil(reset))),
            ("RateLimit-Policy", f"{limit};w={int(window)}"),
        ]

    def _consume(self, request: _Request, account: str) -> None:
        """Count one request against the account's window; 429 once it is spent."""
        rule = self.settings.rate_limit
        if rule is None or (rule["scope"] == "publish" and request.route not in PUBLISH_ROUTES):
            return
        limit, now = int(rule["limit"]), time.time()
        window = self.windows.get(account)
        if window is None or now >= window[0]:
            window = self.windows[account] = [now + float(rule["window_s"]), 0]
        if window[1] >= limit:
            self.counters["rate_limited"] += 1
            headers = self._rate_headers(request, limit, 0, window[0])
            headers.append(("Retry-After", str(math.ceil(window[0] - now))))
            raise _Reply(*self._error(request, 429, "")[:2], headers)
        window[1] += 1
        request.out_headers += self._rate_headers(request, limit, limit - int(window[1]), window[0])

    # ----------------------------------------------------------------- events

    def _published(
        self, network: str, account: str, key: str, remote_id: str, at: float, text: str
    ) -> None:
        self.counters["posts_created"] += 1
        self.events.append(
            {
                "seq": len(self.events) + 1,
                "network": network,
                "account": account,
                "key": key,
                "id": remote_id,
                "received_at": at,
                "text": text[:100],
            }
        )


# --------------------------------------------------------------------------- running it


def _listen(port: int) -> socket.socket:
    """A listening loopback socket: clients may connect before the event loop accepts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    return sock


def _uvicorn(app: Emulator) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
        backlog=4096,
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)


class EmulatorServer:
    """The emulator on 127.0.0.1, in a thread or in its own process, plus its control client.

    `process=True` runs `python -m chorus.testing.emulator`, which benchmarks want: its event
    loop then never competes with the code under test for the GIL. Keyword arguments are
    `configure` settings applied at start, e.g. `EmulatorServer(latency=100)`.
    """

    module = "chorus.testing.emulator"  # what `process=True` runs with `python -m`

    def __init__(self, *, process: bool = False, port: int = 0, **settings: Any):
        self.process = process
        self.port = port
        self.settings = settings
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._control: httpx.Client | None = None

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.process:
            self._spawn()
        else:
            self._run_thread()
        self._control = httpx.Client(base_url=self.base_url, timeout=60.0)
        if self.settings:
            self.configure(**self.settings)

    def _run_thread(self) -> None:
        sock = _listen(self.port)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = _uvicorn(self._app())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)

    def _app(self) -> Emulator:
        """The app a thread serves (a subclass may serve a richer one)."""
        return Emulator()

    def _process_args(self) -> list[str]:
        """Extra command-line arguments for `process=True`."""
        return []

    def _spawn(self) -> None:
        src = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-m", self.module, "--port", str(self.port)]
        self._child = subprocess.Popen(
            [*command, *self._process_args(), "--parent-pid", str(os.getpid())],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self._child.stdout is not None
        ready, _, _ = select.select([self._child.stdout], [], [], 30)
        line = self._child.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise RuntimeError("the emulator process did not start")
        self.base_url = json.loads(line)["base_url"]

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(15)
            self._server = None
        if self._child is not None:
            self._child.terminate()
            try:
                self._child.wait(15)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
            if self._child.stdout is not None:
                self._child.stdout.close()
            self._child = None

    # ----------------------------------------------------------------- control

    def _call(self, method: str, name: str, **kwargs: Any) -> Any:
        if self._control is None:
            raise RuntimeError("the emulator is not running")
        response = self._control.request(method, f"/_emulator/{name}", **kwargs)
        if response.status_code != 200:
            raise ValueError(f"emulator {name}: {response.json().get('error')}")
        return response.json()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change latency, rate_limit, faults, down, access_ttl_s, media_processing_checks."""
        return self._call("POST", "configure", json=settings)

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        """Every published post from the `since`-th on, oldest first."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"since": since + len(found), "limit": 50_000}
            page = self._call("GET", "events", params=params)["events"]
            if not page:
                return found
            found += page

    def reset(self) -> None:
        self._call("POST", "reset")

    def revoke(self, account: str) -> None:
        """Revoke a Mastodon token or a Bluesky handle's (or DID's) sessions."""
        self._call("POST", "revoke", json={"account": account})

    def mastodon_credentials(self, token: str) -> Credentials:
        return Credentials(identity={"server_url": self.base_url}, secrets={"access_token": token})

    def bluesky_credentials(
        self, handle: str, *, ttl_s: float = 7200.0, dm_access: bool = True
    ) -> Credentials:
        """A signed-in Bluesky account without a sign-in request."""
        session = mint_bluesky_session(handle, ttl_s=ttl_s, dm_access=dm_access)
        return Credentials(
            identity={
                "did": session["did"],
                "handle": handle,
                "pds_url": self.base_url,
                "plc_url": self.base_url,
            },
            secrets={"accessJwt": session["accessJwt"], "refreshJwt": session["refreshJwt"]},
        )


def _exit_with_parent(parent: int, server: uvicorn.Server) -> None:
    """A benchmark killed hard must not leave its emulator running."""
    while not server.should_exit:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            server.should_exit = True
            return
        except PermissionError:
            pass
        time.sleep(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m chorus.testing.emulator",
        description="Mastodon and Bluesky emulator on 127.0.0.1; prints {base_url} when ready.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, help="added to every API request")
    parser.add_argument("--rate-limit", metavar="N/SECONDS", help="per account, or 'off'")
    parser.add_argument("--config", type=json.loads, default={}, help="configure settings, JSON")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    settings = dict(args.config)
    if args.latency_ms is not None:
        settings["latency"] = args.latency_ms
    if args.rate_limit == "off":
        settings["rate_limit"] = None
    elif args.rate_limit:
        limit, window = args.rate_limit.split("/")
        settings["rate_limit"] = {"limit": int(limit), "window_s": float(window)}
    app = Emulator()
    app.configure(settings)
    sock = _listen(args.port)
    server = _uvicorn(app)
    if args.parent_pid:
        watch = threading.Thread(target=_exit_with_parent, args=(args.parent_pid, server))
        watch.daemon = True
        watch.start()
    port = sock.getsockname()[1]
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}", "pid": os.getpid()}), flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
