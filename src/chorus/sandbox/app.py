"""The sandbox app: the emulator's publishing routes, plus sign-in, reads and an audience.

`Sandbox` extends `chorus.testing.emulator.Emulator` (whose settings, fault scripts and
control endpoints stay as they are) with one mixin per network. Its audience acts on the
accounts that signed in: every `pace_s` seconds each account gets zero to two interactions,
aimed mostly at its newest posts. `POST /_emulator/audience` makes the audience act at
once (`{"act": N, "account": "...", "kinds": [...]}`) or changes its pace
(`{"pace_s": S}`; 0 stops it). The state is kept in a file between runs, so accounts
connected in one run still exist in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import random
import re
import time
from pathlib import Path
from typing import Any

from chorus.sandbox.bluesky import BlueskySandbox
from chorus.sandbox.mastodon import MastodonSandbox
from chorus.sandbox.telegram import TelegramSandbox
from chorus.sandbox.voices import PERSONAS
from chorus.testing.emulator import Emulator, _Request

log = logging.getLogger(__name__)

KINDS = {  # how often each kind of interaction happens, relative to the others
    "like": 30,
    "repost": 12,
    "reply": 18,
    "mention": 8,
    "quote": 8,
    "follow": 10,
    "direct_message": 10,
}
_CONTEXT = re.compile(r"/api/v1/statuses/([0-9]+)/context")
_SAVED = (  # emulator and sandbox state written to the state file
    "m_accounts",
    "statuses",
    "status_owner",
    "idempotency",
    "media",
    "handles",
    "b_accounts",
    "b_posts",
    "records",
    "revoked",
    "m_users",
    "m_personas",
    "m_apps",
    "m_notifications",
    "m_conversations",
    "m_followers",
    "b_names",
    "b_notifications",
    "b_counts",
    "b_followers",
    "b_follows",
)


class Sandbox(MastodonSandbox, BlueskySandbox, TelegramSandbox, Emulator):
    def __init__(self, *, base_url: str = "", pace_s: float = 20.0, seed: int | None = None):
        self.base_url = base_url
        self.pace_s = float(pace_s)
        self.rng = random.Random(seed)
        super().__init__()
        self._mastodon_routes()
        self._bluesky_routes()

    def reset(self) -> None:
        super().reset()
        self._reset_mastodon()
        self._reset_bluesky()

    # ----------------------------------------------------------------- HTTP

    def _resolve(self, request: _Request):
        handler, arg = super()._resolve(request)
        if handler is None and request.method == "GET":
            match = _CONTEXT.fullmatch(request.path)
            if match:
                request.route = "mastodon.statuses.context"
                return self._m_context, match.group(1)
        return handler, arg

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/oauth/authorize":
            await self._authorize(scope, receive, send)
            return
        if not self.base_url and scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode("latin-1")
            self.base_url = f"http://{host}"
        await super().__call__(scope, receive, send)

    async def _authorize(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The consent page is HTML (and a redirect), unlike every other route."""
        from urllib.parse import parse_qs

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = _Request(
            method=scope["method"],
            path=scope["path"],
            query=parse_qs(scope["query_string"].decode("latin-1")),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
        )
        status, page, headers = self.authorize_page(request)
        data = page.encode("utf-8")
        raw = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(data)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})

    def _control(self, request: _Request):
        if request.path != "/_emulator/audience":
            return super()._control(request)
        if request.method != "POST":
            return 200, {"pace_s": self.pace_s, "accounts": self.audience_accounts()}, []
        try:
            body = request.json()
            if "pace_s" in body:
                self.pace_s = max(0.0, float(body["pace_s"]))
            done = self.act(
                int(body.get("act", 0)),
                account=str(body.get("account") or ""),
                kinds=list(body.get("kinds") or KINDS),
            )
        except (TypeError, ValueError) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}, []
        return 200, {"pace_s": self.pace_s, "done": done}, []

    # ----------------------------------------------------------------- the audience

    def audience_accounts(self) -> list[dict[str, str]]:
        """The accounts that signed in here: the audience talks to them."""
        found = {
            account["id"]: {"network": "mastodon", "account": account["username"]}
            for account in self.m_accounts.values()
        }
        for did in self.b_accounts:
            found[did] = {"network": "bluesky", "account": self.handles.get(did, did)}
        return list(found.values()) + self.telegram_targets()

    def act(self, times: int, *, account: str = "", kinds: list[str] | None = None) -> list[dict]:
        """Make the audience do `times` things, to `account` (a user name, handle or DID) or
        to any signed-in account; returns what was done."""
        kinds = [k for k in (kinds or list(KINDS)) if k in KINDS]
        if not kinds:
            raise ValueError(f"kinds are some of {', '.join(KINDS)}")
        targets = [
            t
            for t in self.audience_accounts()
            if not account or account in (t["account"], self._did_of_known(t))
        ]
        done: list[dict] = []
        for _ in range(times * 10):
            if len(done) >= times or not targets:
                break
            target = self.rng.choice(targets)
            kind = self.rng.choices(kinds, weights=[KINDS[k] for k in kinds])[0]
            persona = self.rng.choice(PERSONAS)
            if self._act_on(target, kind, persona):
                done.append({**target, "kind": kind, "by": persona.username})
        return done

    def _did_of_known(self, target: dict[str, str]) -> str:
        if target["network"] != "bluesky":
            return ""
        return next((d for d, h in self.handles.items() if h == target["account"]), "")

    def _act_on(self, target: dict[str, str], kind: str, persona) -> bool:
        if target["network"] == "telegram":
            return self.telegram_act(target["account"], kind, persona, self.rng)
        if target["network"] == "mastodon":
            me = next(
                (a for a in self.m_accounts.values() if a["username"] == target["account"]), None
            )
            return me is not None and self.mastodon_act(me, kind, persona, self.rng)
        did = self._did_of_known(target) or self._did_of(target["account"])
        return self.bluesky_act(did, kind, persona, self.rng)

    def tick(self) -> int:
        """One beat of the audience: zero to two interactions per signed-in account."""
        count = 0
        for target in self.audience_accounts():
            for _ in range(self.rng.choices((0, 1, 2), weights=(40, 45, 15))[0]):
                for _attempt in range(5):  # e.g. no post to like yet: do something else
                    kind = self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
                    if self._act_on(target, kind, self.rng.choice(PERSONAS)):
                        count += 1
                        break
        return count

    async def run_audience(self, state_path: Path | None = None) -> None:
        """Act every `pace_s` seconds and keep the state file fresh, until cancelled."""
        last_saved = time.monotonic()
        while True:
            await asyncio.sleep(self.pace_s or 5.0)
            if self.pace_s:
                self.tick()
            if state_path is not None and time.monotonic() - last_saved > 30:
                self.save(state_path)
                last_saved = time.monotonic()

    # ----------------------------------------------------------------- keeping state

    def save(self, path: Path) -> None:
        """Write the state atomically (a crash mid-write keeps the previous file)."""
        state = {name: getattr(self, name) for name in _SAVED}
        state["telegram"] = self.telegram.snapshot()
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(pickle.dumps(state))
        temporary.chmod(0o600)
        temporary.replace(path)

    def load(self, path: Path) -> None:
        """Read a state file this sandbox wrote; a missing or unreadable one starts afresh."""
        if not path.exists():
            return
        try:
            # Only ever a file this sandbox wrote, owner-only, in Chorus's own data directory.
            state = pickle.loads(path.read_bytes())  # noqa: S301
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
            log.warning("sandbox: ignoring unreadable state %s (%s)", path, exc)
            return
        for name in _SAVED:
            if name in state:
                setattr(self, name, state[name])
        self.telegram.restore(state.get("telegram") or {})


async def serve(app: Sandbox, server, sock, state_path: Path | None) -> None:
    audience = asyncio.get_running_loop().create_task(app.run_audience(state_path))
    try:
        await server.serve(sockets=[sock])
    finally:
        audience.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await audience
        if state_path is not None:
            app.save(state_path)
