"""The publishing dispatcher under load, against the network emulator, with its baseline.

Two scenarios from the publishing issue:

    steady  1,000 posts due per minute for 10 minutes across 1,000 accounts:
            lateness p50/p90/p99/max (goal: p99 <= 1 s)
    burst   100,000 posts due in the same instant across 20,000 accounts, emulator latency
            100 ms: time until the last is out, publishes/s, and the ratio to a bare loop
            (one HTTP POST plus one committed row per post, same total concurrency) run in
            the same benchmark against the same emulator (goal: <= 100 s, ratio >= 0.5)

Chorus runs for real: a fresh database is migrated, accounts and posts are seeded, and
`chorus dispatcher` processes publish through the real providers to a mix of every network
the emulator speaks (chorus.testing.networks; `--networks mastodon` for one), accounts
split evenly between them. Lateness is measured from each post's scheduled time to the
emulator's receipt of it (the network's confirmed time); exactly-once is checked per
network from the emulator's log of created posts. Instagram fetches each photo from the
site address, so the benchmark serves Chorus's media links on a loopback port.

    python bench/dispatch.py burst --posts 2100 --accounts 140 --no-baseline
    python bench/dispatch.py burst --posts 100000 --accounts 20000
    python bench/dispatch.py steady --per-minute 1000 --minutes 10 --accounts 1000
    python bench/dispatch.py burst --database-url postgres://postgres@127.0.0.1:5432/chorus_bench_dispatch
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_loop  # noqa: E402

from chorus.testing import networks  # noqa: E402
from chorus.testing.emulator import EmulatorServer  # noqa: E402

DEFAULT_SQLITE = f"sqlite:///{ROOT / 'var' / 'bench' / 'dispatch.sqlite3'}"


def fresh_database(url: str) -> str:
    """An empty database at `url` (the SQLite file or PostgreSQL database is recreated)."""
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite {path}"
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql {parts.hostname}:{parts.port or 5432}/{name}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def media_site(port: int) -> Iterator[None]:
    """Chorus's own pages on a loopback port, where Instagram fetches the media links."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    server = make_server(
        "127.0.0.1", port, get_wsgi_application(), server_class=Threaded, handler_class=Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()


def setup_django(url: str, data_dir: str, site_port: int | None = None) -> None:
    """Django on `url`, migrated; `site_port`: where networks fetch Chorus' media from."""
    os.environ.update(DATABASE_URL=url, CHORUS_DATA_DIR=data_dir, CHORUS_LOG_LEVEL="WARNING")
    if site_port:
        os.environ["CHORUS_SITE_URL"] = f"http://127.0.0.1:{site_port}"
    os.environ["CHORUS_OUTBOUND_ALLOW"] = "127.0.0.1"  # the emulator, on loopback
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def start_dispatchers(count: int, concurrency: int) -> list[subprocess.Popen]:
    env = {**os.environ, "CHORUS_DISPATCH_CONCURRENCY": str(concurrency), "CHORUS_SKIP_CHECKS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "chorus.cli", "dispatcher"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for proc in procs:
        line = proc.stdout.readline()
        if "dispatcher started" not in line:
            raise SystemExit(f"a dispatcher did not start: {line!r}")
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def arm(at: datetime) -> None:
    """Make every seeded variant due at `at`, in one statement (the burst)."""
    from chorus.publishing.models import Post, Variant

    Variant.objects.update(scheduled_at=at, due_at=at)
    Post.objects.update(scheduled_at=at)


def wait_until_done(emulator: EmulatorServer, total: int, deadline: float) -> int:
    """Wait until the emulator has every post, then until Chorus has recorded them all.

    Progress is read from the emulator while posts go out: counting rows in the database
    every second would compete with the dispatchers for it.
    """
    from chorus.publishing.models import Variant, VariantStatus

    while time.monotonic() < deadline and emulator.stats()["posts_created"] < total:
        time.sleep(1.0)
    published = 0
    while time.monotonic() < deadline:
        published = Variant.objects.filter(status=VariantStatus.PUBLISHED).count()
        if published >= total:
            break
        time.sleep(1.0)
    return published


def report(
    label: str, received: list[tuple[object, float]], due: dict[object, float], started: float
) -> float:
    """Print lateness and throughput from the emulator's receipts (post, received at) of
    posts due at `due[post]`; returns publishes/s."""
    lateness = [at - due[post] for post, at in received if post in due]
    keys = [post for post, _ in received]
    last = max((at for _, at in received), default=started)
    elapsed = max(last - started, 1e-9)
    print(
        f"{label}: {len(keys):,} received, {len(set(keys)):,} distinct "
        f"({len(keys) - len(set(keys))} duplicates), {len(set(due) - set(keys)):,} missing"
    )
    print(
        f"  until the last was out   {elapsed:.1f} s   publishes/s {len(set(keys)) / elapsed:,.1f}"
    )
    print(f"  lateness s               {bare_loop.percentiles(lateness)}")
    return len(set(keys)) / elapsed


def report_networks(events: list[dict], started: float) -> float:
    """Per network, then in all, from the log; returns the total publishes/s."""
    from chorus.testing import load

    tallies = load.received(events)
    everything: list[tuple[object, float]] = []
    all_due: dict[object, float] = {}
    for provider, posts in load.expected().items():
        due = {n: when.timestamp() for n, when in posts.items()}
        receipts = (tallies.get(provider) or networks.Tally()).receipts()
        report(f"  {provider}", receipts, due, started)
        everything += [((provider, n), at) for n, at in receipts]
        all_due |= {(provider, n): at for n, at in due.items()}
    return report("  all networks", everything, all_due, started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("burst", "steady"))
    parser.add_argument("--posts", type=int, default=100_000, help="burst: posts due at once")
    parser.add_argument("--per-minute", type=int, default=1_000, help="steady: posts per minute")
    parser.add_argument("--minutes", type=float, default=10.0, help="steady: how long")
    parser.add_argument("--accounts", type=int, help="default: 20,000 burst, 1,000 steady")
    parser.add_argument(
        "--networks",
        default=",".join(networks.NETWORKS),
        help="comma-separated (default: every network the emulator speaks)",
    )
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--dispatchers", type=int, help="processes (default: 1 on SQLite, its single writer; 2)"
    )
    parser.add_argument("--concurrency", type=int, help="per dispatcher (default: 200 in all)")
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgres://", 1)
    args.dispatchers = args.dispatchers or (1 if url.startswith("sqlite:") else 2)
    args.concurrency = args.concurrency or 200 // args.dispatchers
    accounts = args.accounts or (20_000 if args.scenario == "burst" else 1_000)
    total = args.posts if args.scenario == "burst" else int(args.per_minute * args.minutes)

    chosen = [name.strip() for name in args.networks.split(",") if name.strip()]
    database = fresh_database(url)
    site_port = free_port()
    setup_django(url, tempfile.mkdtemp(prefix="chorus-bench-"), site_port)
    from chorus.testing import load

    with (
        EmulatorServer(process=True, latency=args.latency_ms, rate_limit=None) as emulator,
        media_site(site_port),
    ):
        os.environ.update(networks.environment(emulator.base_url, chosen))
        seed_started = time.perf_counter()
        by_network = load.seed_mix(
            per_network=max(1, accounts // len(chosen)),
            providers=chosen,
            server_url=emulator.base_url,
        )
        ids = [pk for group in zip(*by_network.values(), strict=True) for pk in group]
        if args.scenario == "burst":
            far = datetime(2100, 1, 1, tzinfo=UTC)
            load.seed_posts(account_ids=ids, due=(far for _ in range(total)))
        print(
            f"seeded {len(ids):,} accounts and {total if args.scenario == 'burst' else 0:,} "
            f"posts in {time.perf_counter() - seed_started:.1f} s ({database})"
        )
        procs = start_dispatchers(args.dispatchers, args.concurrency)
        try:
            if args.scenario == "burst":
                t0 = datetime.now(UTC) + timedelta(seconds=5)
                arm(t0)
            else:  # posts are written ahead of their time, as people schedule them
                t0 = datetime.now(UTC) + timedelta(seconds=30)
                gap = 60.0 / args.per_minute
                load.seed_posts(
                    account_ids=ids, due=(t0 + timedelta(seconds=i * gap) for i in range(total))
                )
            published = wait_until_done(emulator, total, time.monotonic() + args.timeout + 30)
        finally:
            stop(procs)
        events = emulator.events()
        print(
            f"dispatcher: {args.scenario}, {total:,} posts over {len(ids):,} accounts on "
            f"{', '.join(chosen)}, {args.dispatchers} process(es) x {args.concurrency} "
            f"concurrency, emulator latency {args.latency_ms:g} ms, {database}; "
            f"published {published:,}"
        )
        rate = report_networks(events, t0.timestamp())
        if args.scenario == "burst" and not args.no_baseline:
            emulator.reset()
            base_url = url if url.startswith("postgres") else bare_loop.DEFAULT_SQLITE
            bare_loop.prepare_database(base_url)
            run = bare_loop.Run(total, accounts, deadline=time.monotonic() + args.timeout)
            connections = 1 if base_url.startswith("sqlite:") else 32
            concurrency = args.dispatchers * args.concurrency
            bare_loop.run_threads(run, emulator.base_url, base_url, concurrency, connections)
            bare = [(e["key"], e["received_at"]) for e in emulator.events()]
            bare_due = {key: run.started for key, _ in bare}
            bare_rate = report(f"  bare loop ({concurrency} threads)", bare, bare_due, run.started)
            print(f"  ratio chorus / bare loop  {rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
