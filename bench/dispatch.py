"""The publishing dispatcher under load, against the network emulator, with its baseline.

Two scenarios from the publishing issue:

    steady  1,000 posts due per minute for 10 minutes across 1,000 accounts:
            lateness p50/p90/p99/max (goal: p99 <= 1 s)
    burst   100,000 posts due in the same instant across 20,000 accounts, emulator latency
            100 ms: time until the last is out, publishes/s, and the ratio to a bare loop
            (one HTTP POST plus one committed row per post, same total concurrency) run in
            the same benchmark against the same emulator (goal: <= 100 s, ratio >= 0.5)

Chorus runs for real: a fresh database is migrated, accounts and posts are seeded, and
`chorus dispatcher` processes publish through the real Mastodon provider. Lateness is
measured from each post's scheduled time to the emulator's receipt of it (the network's
confirmed time); exactly-once is checked from the emulator's log of idempotency keys.

    python bench/dispatch.py burst --posts 100000 --accounts 20000
    python bench/dispatch.py steady --per-minute 1000 --minutes 10 --accounts 1000
    python bench/dispatch.py burst --database-url postgres://postgres@127.0.0.1:5432/chorus_bench_dispatch
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_loop  # noqa: E402

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


def setup_django(url: str, data_dir: str) -> None:
    os.environ.update(DATABASE_URL=url, CHORUS_DATA_DIR=data_dir, CHORUS_LOG_LEVEL="WARNING")
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


def report(label: str, events: list[dict], due_by_key: dict[str, float], started: float) -> float:
    """Print lateness and throughput from the emulator's receipts; returns publishes/s."""
    lateness = [e["received_at"] - due_by_key[e["key"]] for e in events if e["key"] in due_by_key]
    keys = [e["key"] for e in events]
    last = max((e["received_at"] for e in events), default=started)
    elapsed = max(last - started, 1e-9)
    print(
        f"{label}: {len(events):,} received, {len(set(keys)):,} distinct keys "
        f"({len(keys) - len(set(keys))} duplicates), {len(due_by_key) - len(set(keys)):,} missing"
    )
    print(
        f"  until the last was out   {elapsed:.1f} s   publishes/s {len(set(keys)) / elapsed:,.1f}"
    )
    print(f"  lateness s               {bare_loop.percentiles(lateness)}")
    return len(set(keys)) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("burst", "steady"))
    parser.add_argument("--posts", type=int, default=100_000, help="burst: posts due at once")
    parser.add_argument("--per-minute", type=int, default=1_000, help="steady: posts per minute")
    parser.add_argument("--minutes", type=float, default=10.0, help="steady: how long")
    parser.add_argument("--accounts", type=int, help="default: 20,000 burst, 1,000 steady")
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

    database = fresh_database(url)
    setup_django(url, tempfile.mkdtemp(prefix="chorus-bench-"))
    from chorus.publishing.models import Variant
    from chorus.testing import load

    with EmulatorServer(process=True, latency=args.latency_ms, rate_limit=None) as emulator:
        seed_started = time.perf_counter()
        ids = load.seed_accounts(count=accounts, provider="mastodon", server_url=emulator.base_url)
        if args.scenario == "burst":
            far = datetime(2100, 1, 1, tzinfo=UTC)
            load.seed_posts(account_ids=ids, due=(far for _ in range(total)))
        print(
            f"seeded {accounts:,} accounts and {total if args.scenario == 'burst' else 0:,} "
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
        due_by_key = {
            f"{key}-0": when.timestamp()
            for key, when in Variant.objects.values_list("idempotency_key", "scheduled_at")
        }
        print(
            f"dispatcher: {args.scenario}, {total:,} posts over {accounts:,} accounts, "
            f"{args.dispatchers} process(es) x {args.concurrency} concurrency, "
            f"emulator latency {args.latency_ms:g} ms, {database}; published {published:,}"
        )
        rate = report("  chorus", events, due_by_key, t0.timestamp())
        if args.scenario == "burst" and not args.no_baseline:
            emulator.reset()
            base_url = url if url.startswith("postgres") else bare_loop.DEFAULT_SQLITE
            bare_loop.prepare_database(base_url)
            run = bare_loop.Run(total, accounts, deadline=time.monotonic() + args.timeout)
            connections = 1 if base_url.startswith("sqlite:") else 32
            concurrency = args.dispatchers * args.concurrency
            bare_loop.run_threads(run, emulator.base_url, base_url, concurrency, connections)
            bare_events = emulator.events()
            bare_due = {e["key"]: run.started for e in bare_events}
            bare_rate = report(
                f"  bare loop ({concurrency} threads)", bare_events, bare_due, run.started
            )
            print(f"  ratio chorus / bare loop  {rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
