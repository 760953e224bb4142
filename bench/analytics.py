"""Analytics at volume: dashboard query times on seeded rollups, and collection throughput.

1. Dashboards: a fresh database gets one workspace with `--accounts` accounts and
   `--posts` tracked posts per account over `--days` days, each with its past readings
   (up to seven snapshots) and daily gains (up to five rollup rows), plus one follower row
   per account per day, generated inside the database (analytics_volume.py); then each
   analytics page and API call is asked `--repeat` times in-process (Django's test client,
   signed in as the owner) and p50/p95 wall time and query counts are printed. The issue's
   volume, 1,000,000 posts and about 10,000,000 metric rows: `--accounts 50 --posts 20000`.
2. Collection: `--collect-accounts` Mastodon accounts on the network emulator (its own
   process, `--latency-ms` per request), `--collect-posts` posts each published there, all
   due: the time `collection.collect_posts` takes, posts read per second and requests per
   second, against a bare loop making the same batched requests with httpx in the same run.

    python bench/analytics.py
    python bench/analytics.py --accounts 50 --posts 20000 --no-collection
    python bench/analytics.py --reuse --no-collection     # measure again, same rows
    python bench/analytics.py --database-url postgres://postgres@127.0.0.1:5432/chorus_analytics_bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_volume import seed_volume  # noqa: E402
from dispatch import fresh_database, setup_django  # noqa: E402

DEFAULT_SQLITE = f"sqlite:///{ROOT / 'var' / 'bench' / 'analytics.sqlite3'}"


def seed_dashboards(args):
    from django.utils import timezone

    from chorus.accounts.models import Membership
    from chorus.analytics.models import (
        AccountDaily,
        AccountDayTotal,
        AccountHourPosts,
        PostDaily,
        PostSnapshot,
        TrackedPost,
    )
    from chorus.networks.models import SocialAccount
    from chorus.testing import load

    ids = load.seed_accounts(
        count=args.accounts, provider="mastodon", server_url="https://bench.example"
    )
    accounts = list(SocialAccount.objects.filter(pk__in=ids))
    started = time.monotonic()
    seed_volume(ids, posts=args.posts, days=args.days, now=timezone.now())
    rows = {
        "tracked posts": TrackedPost.objects.count(),
        "post-day rollups": PostDaily.objects.count(),
        "snapshots": PostSnapshot.objects.count(),
        "account-day rows": AccountDaily.objects.count(),
        "account-day totals (rollup)": AccountDayTotal.objects.count(),
        "account-hour rows (rollup)": AccountHourPosts.objects.count(),
    }
    print(
        f"seeded in {time.monotonic() - started:.1f} s: "
        + ", ".join(f"{n:,} {label}" for label, n in rows.items())
    )
    owner = Membership.objects.get(workspace=accounts[0].workspace)
    return owner, accounts


def seeded(args):
    """The accounts an earlier run seeded (`--reuse`), their rollups rebuilt and timed."""
    from django.db import connection

    from chorus.accounts.models import Membership
    from chorus.analytics import rollups
    from chorus.networks.models import SocialAccount

    first = SocialAccount.objects.order_by("pk").first()  # the seeding made the first
    accounts = (
        list(SocialAccount.objects.filter(workspace_id=first.workspace_id).order_by("pk"))
        if first
        else []
    )
    if not accounts:
        raise SystemExit("--reuse: nothing seeded in this database yet")
    started = time.monotonic()
    if connection.vendor == "postgresql":
        # Emptied files, so the rebuilt rows lie in time order as collection writes them
        # (a DELETE would leave them scattered over the dead rows' free space).
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE analytics_accountdaytotal, analytics_accounthourposts")
    days, hours = rollups.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"reusing {len(accounts)} seeded accounts; rollups rebuilt in "
        f"{time.monotonic() - started:.1f} s ({days:,} account-days, {hours:,} account-hours)"
    )
    return Membership.objects.get(workspace=accounts[0].workspace), accounts


def measure(client, path: str, repeat: int) -> dict:
    from django.db import connection

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    client.get(path)  # warm
    with connection.execute_wrapper(count):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"p50": statistics.median(times), "p95": p95, "queries": len(executed)}


def dashboards(args, owner, accounts) -> None:
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from chorus.accounts import services

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]

    _token, raw = services.api_token_create(
        membership=owner, name="bench", scopes=["analytics:read"]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.force_login(owner.user)
    today = timezone.now().date()
    year = f"start={(today - timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    account = accounts[0].pk
    paths = [
        ("Dashboard, 28 days, all accounts", "/analytics/"),
        ("Dashboard, 365 days, all accounts", f"/analytics/?{year}"),
        ("Dashboard, 28 days, one account", f"/analytics/?account={account}"),
        ("Dashboard, 28 days, network", "/analytics/?network=mastodon"),
        ("Best times, one account", f"/analytics/best-time/?account={account}"),
        ("CSV report, 365 days", f"/analytics/report.csv?{year}"),
        ("API figures, 28 days", "/api/v1/analytics/figures"),
        ("API days, 365 days", f"/api/v1/analytics/days?{year}"),
    ]
    print(f"\n{'request':<38} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, path in paths:
        row = measure(client, path, args.repeat)
        print(f"{label:<38} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['queries']:>8}")


def collection_throughput(args) -> None:
    import httpx
    from django.utils import timezone

    from chorus.analytics import collection
    from chorus.analytics.models import TrackedPost
    from chorus.networks.models import AccountStatus, SocialAccount
    from chorus.networks.providers import get_provider
    from chorus.networks.providers.base import Credentials, PostDraft
    from chorus.testing import load
    from chorus.testing.emulator import EmulatorServer

    # Posts are made with no latency and no limit; the reading then runs at `--latency-ms`
    # under Mastodon's documented per-account limit, 300 requests per 5 minutes
    # (docs.joinmastodon.org/api/rate-limits), whose headers feed Chorus' budgets.
    with EmulatorServer(process=True, latency=0, rate_limit=None) as emulator:
        ids = load.seed_accounts(
            count=args.collect_accounts,
            provider="mastodon",
            server_url=emulator.base_url,
            label="collect",
        )
        accounts = list(SocialAccount.objects.filter(pk__in=ids))
        # Only the emulator's accounts are collected here (the seeded ones live nowhere).
        SocialAccount.objects.exclude(pk__in=ids).update(status=AccountStatus.DISCONNECTED)
        provider_class = get_provider("mastodon")

        clients = threading.local()  # one client a thread: making one costs a TLS context

        def publish(job):
            account, n = job
            if not hasattr(clients, "http"):
                clients.http = httpx.Client(timeout=30)
            provider = provider_class(
                Credentials(identity=dict(account.identity), secrets=account.secrets),
                http=clients.http,
            )
            return account.pk, provider.publish(PostDraft(f"Post {n} สวัสดี", f"k-{n}")).ref

        jobs = [(a, f"{a.pk}-{n}") for a in accounts for n in range(args.collect_posts)]
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            published = list(pool.map(publish, jobs))
        made_s = time.monotonic() - started
        print(f"\n{len(published):,} posts made on the emulator in {made_s:.0f} s")
        now = timezone.now()
        TrackedPost.objects.bulk_create(
            [
                TrackedPost(
                    account_id=account_id,
                    remote_id=ref.remote_id,
                    url=ref.url,
                    published_at=now - timedelta(hours=2),
                    next_collect_at=now,
                )
                for account_id, ref in published
            ],
            batch_size=2000,
        )
        emulator.configure(
            latency=args.latency_ms, rate_limit={"limit": 300, "window_s": 300.0, "scope": "all"}
        )
        before = emulator.stats()
        start = time.monotonic()
        outcome, runs = collection.Outcome(), 0
        # As the periodic task does: run after run, each reading up to POSTS_PER_RUN posts of
        # every account, until nothing due is left (or the budgets defer the rest).
        while TrackedPost.objects.filter(next_collect_at__lte=now).exists():
            this_run = collection.collect_posts(now=now)
            outcome.add(this_run)
            runs += 1
            if not this_run.read:
                break
        elapsed = time.monotonic() - start
        after = emulator.stats()
        requests = after["requests"] - before["requests"]
        limited = after["rate_limited"] - before["rate_limited"]
        total = len(published)
        print(
            f"collection: {args.collect_accounts} accounts x {args.collect_posts} posts, "
            f"emulator latency {args.latency_ms} ms, limit 300 requests / 5 min per account"
        )
        print(
            f"  read {outcome.read:,}/{total:,} posts in {runs} runs, {elapsed:.1f} s: "
            f"{outcome.read / elapsed:,.0f} posts/s, {requests:,} requests "
            f"({requests / args.collect_accounts:,.0f} per account, {requests / elapsed:,.1f}/s); "
            f"{limited} answered 429, {outcome.failed} failed, {outcome.deferred} deferred"
        )
        # Baseline: the same batched reads with httpx alone, one after another.
        by_account: dict[int, list[str]] = {}
        for account_id, ref in published:
            by_account.setdefault(account_id, []).append(ref.remote_id)
        tokens = {a.pk: a.secrets["access_token"] for a in accounts}
        emulator.configure(rate_limit=None)  # its own windows are spent by now
        start = time.monotonic()
        with httpx.Client(base_url=emulator.base_url, timeout=30) as http:
            for account_id, remote_ids in by_account.items():
                for i in range(0, len(remote_ids), 20):
                    http.get(
                        "/api/v1/statuses",
                        params=[("id[]", r) for r in remote_ids[i : i + 20]],
                        headers={"Authorization": f"Bearer {tokens[account_id]}"},
                    ).raise_for_status()
        bare = time.monotonic() - start
        print(
            f"  bare httpx loop, same requests: {bare:.1f} s; "
            f"Chorus / bare throughput ratio {bare / elapsed:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--posts", type=int, default=2500, help="tracked posts per account")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--collect-accounts", type=int, default=10)
    parser.add_argument("--collect-posts", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--no-collection", action="store_true", help="dashboards only")
    parser.add_argument("--no-dashboards", action="store_true", help="collection only")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database an earlier run seeded (its rollups rebuilt), no seeding",
    )
    args = parser.parse_args()
    database = args.database_url if args.reuse else fresh_database(args.database_url)
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(args.database_url, data_dir)
        print(f"analytics benchmark on {database}")
        if not args.no_dashboards:
            owner, accounts = seeded(args) if args.reuse else seed_dashboards(args)
            dashboards(args, owner, accounts)
        if not args.no_collection:
            collection_throughput(args)


if __name__ == "__main__":
    main()
