"""`chorus run` starts the sandbox network with the demo, and stops it with everything else."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx

START_TIMEOUT = 240.0


def free_ports(count: int) -> list[int]:
    """`count` consecutive free loopback ports (web, then sandbox)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as taken:
                    taken.bind(("127.0.0.1", port))
        except OSError:
            continue
        return list(range(first, first + count))


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def wait_for(lines: queue.Queue, text: str, seen: list[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no {text!r} within {START_TIMEOUT:.0f}s:\n{''.join(seen[-40:])}")


def test_run_starts_the_sandbox_with_the_demo_and_stops_it(tmp_path):
    web, sandbox = free_ports(2)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CHORUS_QUEUE_URL", "CHORUS_SANDBOX", "CHORUS_SANDBOX_PORT"}
    }
    env.update(CHORUS_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "chorus.cli", "run", "--port", str(web)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        announced = wait_for(lines, "sandbox network at", seen)
        assert f"http://127.0.0.1:{sandbox}" in announced
        wait_for(lines, "demo workspace filled", seen)
        wait_for(lines, f"open http://127.0.0.1:{web}/", seen)
        audience = httpx.get(f"http://127.0.0.1:{sandbox}/_emulator/audience", timeout=10).json()
        assert sorted(a["network"] for a in audience["accounts"]) == [
            "bluesky",
            "mastodon",
            "mastodon",
        ]
        instance = httpx.get(f"http://127.0.0.1:{sandbox}/api/v2/instance", timeout=10)
        assert instance.json()["version"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # what Ctrl-C does to the whole group
        code = process.wait(timeout=60)
    assert code == 0, "".join(seen[-40:])
    try:
        httpx.get(f"http://127.0.0.1:{sandbox}/_emulator/health", timeout=2)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the sandbox still answers after chorus run stopped")
    assert (tmp_path / "sandbox.pickle").stat().st_size > 0  # kept for the next run


def test_run_without_the_demo_starts_no_sandbox_unless_asked(monkeypatch):
    from chorus.cli import _sandbox_wanted

    monkeypatch.delenv("CHORUS_SANDBOX", raising=False)
    assert _sandbox_wanted(no_demo=False) is True
    assert _sandbox_wanted(no_demo=True) is False
    monkeypatch.setenv("CHORUS_SANDBOX", "true")
    assert _sandbox_wanted(no_demo=True) is True
    monkeypatch.setenv("CHORUS_SANDBOX", "false")
    assert _sandbox_wanted(no_demo=False) is False
