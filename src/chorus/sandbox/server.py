"""Running the sandbox: `python -m chorus.sandbox --port 8001 --state data/sandbox.pickle`.

It listens on 127.0.0.1 only and prints `{"base_url": ..., "pid": ...}` once it accepts
connections. `SandboxServer` runs it in a thread (tests) or as a child process (`chorus run`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

from chorus.sandbox.app import Sandbox, serve
from chorus.testing.emulator import EmulatorServer, _exit_with_parent, _listen, _uvicorn

DEFAULT_PACE_S = 20.0


class SandboxServer(EmulatorServer):
    """The sandbox on 127.0.0.1, with the emulator's control client (`configure`, `stats`...).

    `pace_s=0` keeps the audience quiet until `act` is called (what tests want);
    `state` is the file the sandbox keeps its accounts and posts in between runs.
    """

    module = "chorus.sandbox"

    def __init__(
        self,
        *,
        process: bool = False,
        port: int = 0,
        pace_s: float = DEFAULT_PACE_S,
        state: Path | None = None,
        seed: int | None = None,
        **settings: Any,
    ):
        super().__init__(process=process, port=port, **settings)
        self.pace_s = pace_s
        self.state = state
        self.seed = seed
        self.app: Sandbox | None = None

    def _app(self) -> Sandbox:
        self.app = Sandbox(base_url=self.base_url, pace_s=self.pace_s, seed=self.seed)
        if self.state is not None:
            self.app.load(self.state)
        return self.app

    def _process_args(self) -> list[str]:
        args = ["--pace", str(self.pace_s)]
        if self.state is not None:
            args += ["--state", str(self.state)]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        return args

    def stop(self) -> None:
        super().stop()
        if self.app is not None and self.state is not None:
            self.app.save(self.state)

    @property
    def child(self):
        """The sandbox's process (`process=True`), for a supervisor to watch."""
        return self._child

    def act(self, times: int = 1, *, account: str = "", kinds: list[str] | None = None) -> list:
        """Make the audience do `times` things now (to one account, of some kinds)."""
        body: dict[str, Any] = {"act": times, "account": account}
        if kinds:
            body["kinds"] = kinds
        return self._call("POST", "audience", json=body)["done"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m chorus.sandbox",
        description="Practice Bluesky and Mastodon servers on 127.0.0.1, with an audience.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--pace", type=float, default=DEFAULT_PACE_S, help="seconds; 0 = quiet")
    parser.add_argument("--state", type=Path, help="file that keeps accounts and posts")
    parser.add_argument("--seed", type=int, help="make the audience repeatable")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    sock = _listen(args.port)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = Sandbox(base_url=base_url, pace_s=args.pace, seed=args.seed)
    if args.state is not None:
        app.load(args.state)
    server = _uvicorn(app)
    if args.parent_pid:
        watch = threading.Thread(target=_exit_with_parent, args=(args.parent_pid, server))
        watch.daemon = True
        watch.start()
    # uvicorn re-raises the signal that stopped it once it has shut down; with these
    # handlers that ends `serve` normally, so the state is saved before the process exits.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda signum, frame: None)
    print(json.dumps({"base_url": base_url, "pid": os.getpid()}), flush=True)
    asyncio.run(serve(app, server, sock, args.state))
