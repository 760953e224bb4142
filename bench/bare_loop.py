"""Baseline of the top-of-the-hour burst: one HTTP POST plus one committed row per post.

N posts, all due at the same instant, spread over M accounts, published by `--concurrency`
workers (threads or asyncio tasks) against the network emulator (its own process, 100 ms
latency by default). Each post is one `POST /api/v1/statuses` with an idempotency key and,
once it is accepted, one INSERT committed on its own into a scratch table (SQLite in WAL
mode, or PostgreSQL). Nothing else: no queue, no retries, no state machine. The publishing
dispatcher is compared to these figures at the same concurrency.

    python bench/bare_loop.py --posts 10000
    python bench/bare_loop.py --posts 100000 --database-url postgres://postgres@127.0.0.1:5432/chorus_bench
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import queue
import sqlite3
import ssl
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from chorus.testing.emulator import EmulatorServer  # noqa: E402

TABLE = "bench_bare_loop"
DEFAULT_SQLITE = f"sqlite:///{ROOT / 'var' / 'bench' / 'bare_loop.sqlite3'}"


@dataclass
class Run:
    """What the workers share: the work, the clock and the measurements."""

    posts: int
    accounts: int
    deadline: float
    started: float = 0.0  # wall clock (time.time()) when the burst was due
    next_post: Iterator[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)  # pick-up -> committed
    committed_at: list[float] = field(default_factory=list)  # wall clock
    failures: list[str] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            number = next(self.next_post)
        if number >= self.posts or time.monotonic() > self.deadline:
            return None
        return number

    def request(self, number: int) -> tuple[dict[str, str], dict[str, str]]:
        """The POST's headers and JSON body for post `number`."""
        headers = {
            "Authorization": f"Bearer bench-account-{number % self.accounts}",
            "Idempotency-Key": f"bare-loop-{number}",
        }
        return headers, {"status": f"Burst post {number}", "visibility": "public"}

    def done(self, response: httpx.Response, number: int) -> tuple | None:
        """The row to insert, or None (and a recorded failure) when the POST failed."""
        if response.status_code != 200:
            self.failures.append(f"post {number}: HTTP {response.status_code}")
            return None
        remote_id = str(response.json()["id"])
        return number, f"bench-account-{number % self.accounts}", remote_id, time.time()

    def record(self, picked: float) -> None:
        self.latencies.append(time.perf_counter() - picked)
        self.committed_at.append(time.time())


# --------------------------------------------------------------------------- databases


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))


def prepare_database(url: str) -> str:
    """Create the scratch table (and the PostgreSQL database); returns a label for output."""
    if url.startswith("sqlite:"):
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            conn.execute(
                f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, post_no INTEGER NOT NULL UNIQUE,"
                " account TEXT NOT NULL, remote_id TEXT NOT NULL, published_at REAL NOT NULL)"
            )
        return f"sqlite {path} (WAL, synchronous=NORMAL)"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "chorus_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"CREATE TABLE {TABLE} (id BIGSERIAL PRIMARY KEY, post_no INTEGER NOT NULL UNIQUE,"
            " account TEXT NOT NULL, remote_id TEXT NOT NULL, published_at DOUBLE PRECISION"
            " NOT NULL)"
        )
    return f"postgresql {parts.hostname}:{parts.port or 5432}/{name}"


INSERT_SQLITE = f"INSERT INTO {TABLE} (post_no, account, remote_id, published_at) VALUES (?,?,?,?)"
INSERT_PG = f"INSERT INTO {TABLE} (post_no, account, remote_id, published_at) VALUES (%s,%s,%s,%s)"


def sqlite_connection(url: str) -> sqlite3.Connection:
    """Tuned like Chorus' own SQLite connections (chorus.config)."""
    conn = sqlite3.connect(_sqlite_path(url), check_same_thread=False, timeout=20)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def count_rows(url: str) -> int:
    if url.startswith("sqlite:"):
        with sqlite3.connect(_sqlite_path(url)) as conn:
            return conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]


# --------------------------------------------------------------------------- threads


def run_threads(run: Run, base_url: str, url: str, concurrency: int, connections: int) -> None:
    """Each thread has its own HTTP client; database connections come from a shared pool."""
    pool: queue.Queue[Any] = queue.Queue()
    for _ in range(connections):
        pool.put(sqlite_connection(url) if url.startswith("sqlite:") else psycopg.connect(url))
    sql = INSERT_SQLITE if url.startswith("sqlite:") else INSERT_PG

    @contextmanager
    def connection() -> Iterator[Any]:
        conn = pool.get()
        try:
            yield conn
        finally:
            pool.put(conn)

    def worker(http: httpx.Client) -> None:
        with http:
            while (number := run.take()) is not None:
                picked = time.perf_counter()
                headers, body = run.request(number)
                try:
                    response = http.post("/api/v1/statuses", json=body, headers=headers)
                except httpx.HTTPError as exc:
                    run.failures.append(f"post {number}: {type(exc).__name__}")
                    continue
                row = run.done(response, number)
                if row is None:
                    continue
                with connection() as conn:
                    conn.execute(sql, row)
                    conn.commit()
                run.record(picked)

    tls = ssl.create_default_context()  # built once: each httpx client would load certifi again
    clients = [httpx.Client(base_url=base_url, timeout=30, verify=tls) for _ in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    run.started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, run.deadline - time.monotonic() + 60))
    while not pool.empty():
        pool.get().close()


# --------------------------------------------------------------------------- asyncio


def run_asyncio(run: Run, base_url: str, url: str, concurrency: int, connections: int) -> None:
    """Tasks with one HTTP client each; SQLite commits inline, PostgreSQL through a pool."""

    async def main() -> None:
        pool: asyncio.Queue[Any] = asyncio.Queue()
        if url.startswith("sqlite:"):
            conn = sqlite_connection(url)

            async def insert(row: tuple) -> None:
                conn.execute(INSERT_SQLITE, row)
                conn.commit()

            close: Callable[[], Any] = conn.close
        else:
            for _ in range(connections):
                pool.put_nowait(await psycopg.AsyncConnection.connect(url))

            async def insert(row: tuple) -> None:
                pg = await pool.get()
                try:
                    await pg.execute(INSERT_PG, row)
                    await pg.commit()
                finally:
                    pool.put_nowait(pg)

            async def close() -> None:
                while not pool.empty():
                    await pool.get_nowait().close()

        async def worker(http: httpx.AsyncClient) -> None:
            async with http:
                while (number := run.take()) is not None:
                    picked = time.perf_counter()
                    headers, body = run.request(number)
                    try:
                        response = await http.post("/api/v1/statuses", json=body, headers=headers)
                    except httpx.HTTPError as exc:
                        run.failures.append(f"post {number}: {type(exc).__name__}")
                        continue
                    row = run.done(response, number)
                    if row is not None:
                        await insert(row)
                        run.record(picked)

        tls = ssl.create_default_context()
        clients = [
            httpx.AsyncClient(base_url=base_url, timeout=30, verify=tls) for _ in range(concurrency)
        ]
        run.started = time.time()
        budget = max(1.0, run.deadline - time.monotonic() + 60)
        await asyncio.wait_for(asyncio.gather(*(worker(c) for c in clients)), budget)
        result = close()
        if asyncio.iscoroutine(result):
            await result

    asyncio.run(main())


# --------------------------------------------------------------------------- report


def percentiles(values: list[float], scale: float = 1.0) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
    p = {q: (cuts[q - 1] if cuts else ordered[0]) * scale for q in (50, 90, 99)}
    return f"p50 {p[50]:.1f}  p90 {p[90]:.1f}  p99 {p[99]:.1f}  max {ordered[-1] * scale:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--mode", choices=("threads", "asyncio"), default="threads")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--database-url", default=DEFAULT_SQLITE, help="sqlite:///… or postgres://…"
    )
    parser.add_argument(
        "--db-connections",
        type=int,
        help="pool size (default: 1 for SQLite, which has one writer; min(concurrency, 32))",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="stop taking posts after")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgres://", 1)
    connections = args.db_connections or (
        1 if url.startswith("sqlite:") else min(args.concurrency, 32)
    )

    database = prepare_database(url)
    run = Run(args.posts, args.accounts, deadline=time.monotonic() + args.timeout)
    runner = run_threads if args.mode == "threads" else run_asyncio
    with EmulatorServer(process=True, latency=args.latency_ms) as emulator:
        started = time.perf_counter()
        runner(run, emulator.base_url, url, args.concurrency, connections)
        elapsed = time.perf_counter() - started
        events = emulator.events()
        stats = emulator.stats()

    published = len(run.latencies)
    keys = {event["key"] for event in events}
    confirmed = [event["received_at"] - run.started for event in events]
    committed = [at - run.started for at in run.committed_at]
    print(
        f"bare loop: {args.posts:,} posts over {args.accounts:,} accounts, {args.mode} "
        f"concurrency {args.concurrency}, {database}, {connections} db connection(s), "
        f"emulator latency {args.latency_ms:g} ms"
    )
    print(f"total seconds      {elapsed:.2f}")
    print(f"publishes/s        {published / elapsed:,.1f}")
    print(f"published          {published:,} committed rows {count_rows(url):,}")
    print(f"failed             {len(run.failures):,} {'; '.join(run.failures[:3])}")
    print(f"per-post latency   ms  {percentiles(run.latencies, 1000)}  (pick-up to commit)")
    print(f"lateness committed s   {percentiles(committed)}  (due to commit)")
    print(f"lateness confirmed s   {percentiles(confirmed)}  (due to emulator received_at)")
    print(
        f"emulator           {stats['posts_created']:,} posts, {len(keys):,} distinct keys, "
        f"{stats['requests']:,} requests, max in flight {stats['max_in_flight']}"
    )


if __name__ == "__main__":
    main()
