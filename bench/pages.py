"""Every page of the navigation and every list endpoint of the API at an agency's volume.

Seeds two workspaces in a fresh database: a small agency (12,000 posts, 5 accounts) and an
agency (50 accounts, 50,000 posts over nine months, 20 campaigns, 50 posts waiting for
approval, a day with 300 posts; `--scale 5` multiplies posts) with what its accounts hear and
measure (`chorus.testing.load_activity`: 50,000 inbox interactions, 10,000 tracked posts with
their readings, 2,000 short links with 100,000 clicks, 20,000 listening mentions, goals), then
asks each page and endpoint `--repeat` times in-process through Django's test client, signed
in as each workspace's owner, and prints p50/p95 server time (wall clock, and the median CPU time of
the Django process, which includes SQLite's work but not a PostgreSQL server's: on a shared
machine the wall clock also counts waiting for a core), response size and query count, with
the query count of the same request in the small agency beside it: a count that grows with
the data is an N+1. `--only TEXT` measures the rows whose label contains TEXT.

    python bench/pages.py
    python bench/pages.py --scale 5
    python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/chorus_pages_bench

Goal (issue 11): p95 <= 200 ms for every row at 50,000 posts, and the same query count at
both sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch import fresh_database, setup_django  # noqa: E402

DEFAULT_SQLITE = f"sqlite:///{ROOT / 'var' / 'bench' / 'pages.sqlite3'}"
GOAL_MS = 200.0
SMALL_POSTS = 12_000  # enough for page 200 of the API's posts
# Beside the agency's posts: what its accounts hear and measure (scaled down for the small one).
ACTIVITY = {
    "interactions": 50_000,
    "tracked_per_account": 200,
    "links": 2_000,
    "clicks": 100_000,
    "mentions": 20_000,
}


def requests_to_measure(agency) -> list[tuple[str, str]]:
    """(label, path) for each page of the navigation and each list endpoint of the API."""
    from django.urls import reverse

    busy = agency.busy_day.isoformat()
    account = agency.account_ids[0]
    return [
        ("Overview", "/"),
        ("Compose", reverse("post_new")),
        ("Calendar month", "/calendar/"),
        ("Calendar month, busy day", f"/calendar/?view=month&date={busy}"),
        ("Calendar week, busy day", f"/calendar/?view=week&date={busy}"),
        ("Calendar day, busy day", f"/calendar/?view=day&date={busy}"),
        ("Calendar list", "/calendar/?view=list"),
        ("Calendar list, page 40", "/calendar/?view=list&page=40"),
        ("Calendar list, past the end", "/calendar/?view=list&page=99999"),
        ("Calendar list, failed filter", "/calendar/?view=list&status=failed"),
        ("Campaigns", reverse("campaigns")),
        ("Queue", reverse("queue")),
        ("Bulk import", reverse("bulk_import")),
        ("On-time record", reverse("on_time")),
        ("Approvals", reverse("approvals")),
        ("Social accounts", reverse("social_accounts")),
        ("Members & teams", reverse("members")),
        ("Policies", reverse("policies")),
        ("Audit log", reverse("audit_log")),
        ("Workspace", reverse("workspace_settings")),
        ("API posts", "/api/v1/posts"),
        ("API posts, page_size=200", "/api/v1/posts?page_size=200"),
        ("API posts, page 200", "/api/v1/posts?page=200"),
        ("API posts, account filter", f"/api/v1/posts?account={account}"),
        ("API posts, status filter", "/api/v1/posts?status=failed"),
        ("API posts, past the end", "/api/v1/posts?page=99999"),
        ("API campaigns", "/api/v1/campaigns"),
        ("API on-time", "/api/v1/on-time"),
        ("API on-time by network", "/api/v1/on-time?by=network"),
        ("API approvals", "/api/v1/approvals"),
        ("API approval workflows", "/api/v1/approval-workflows"),
        ("API social accounts", "/api/v1/social-accounts"),
        ("API account slots", f"/api/v1/social-accounts/{account}/slots"),
        ("API networks", "/api/v1/networks"),
        ("API members", "/api/v1/members"),
        ("API invitations", "/api/v1/invitations"),
        ("API teams", "/api/v1/teams"),
        ("API tokens", "/api/v1/tokens"),
        ("API policies", "/api/v1/policies"),
        ("API audit", "/api/v1/audit"),
        ("Inbox", reverse("inbox")),
        ("Inbox, mine", reverse("inbox") + "?view=mine"),
        ("Inbox, search", reverse("inbox") + "?q=promotion"),
        ("Links", reverse("links")),
        ("Conversions", reverse("conversions")),
        ("Goals", reverse("goals")),
        ("Analytics", reverse("analytics")),
        ("Analytics, best time", reverse("analytics_best_time")),
        ("Analytics reports", reverse("analytics_reports")),
        ("Listening", reverse("listening")),
        ("Listening alerts", reverse("listening_alerts")),
        ("Listening boards", reverse("listening_boards")),
        ("API inbox conversations", "/api/v1/inbox/conversations"),
        ("API inbox figures", "/api/v1/inbox/figures"),
        ("API links", "/api/v1/links"),
        ("API conversions", "/api/v1/conversions"),
        ("API goals", "/api/v1/goals"),
        ("API analytics figures", "/api/v1/analytics/figures"),
        ("API analytics days", "/api/v1/analytics/days"),
        ("API analytics best times", "/api/v1/analytics/best-times"),
        ("API analytics reports", "/api/v1/analytics/reports"),
        ("API listening topics", "/api/v1/listening/topics"),
        ("API listening sources", "/api/v1/listening/sources"),
        ("API listening alerts", "/api/v1/listening/alerts"),
        ("API listening boards", "/api/v1/listening/boards"),
    ]


def nav_paths() -> set[str]:
    """The navigation's pages, to check that the list above misses none."""
    from django.urls import reverse

    from chorus.web.context_processors import NAVIGATION

    return {reverse(name) for name, _label, _capability in NAVIGATION}


def client_for(membership):
    from django.test import Client

    from chorus.accounts import services

    _token, raw = services.api_token_create(
        membership=membership, name="bench", scopes=_all_scopes()
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.force_login(membership.user)
    return client


def _all_scopes() -> list[str]:
    from chorus.accounts.scopes import Scope

    return list(Scope.values)


def measure(client, path: str, repeat: int) -> dict:
    from django.db import connection

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    client.get(path)  # warm: caches, and the token's once-a-while "last used" write
    with connection.execute_wrapper(count):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}\n{response.content[:500]!r}")
    timings, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    timings.sort()
    return {
        "cpu": statistics.median(cpu) if cpu else 0.0,
        "p50": statistics.median(timings) if timings else 0.0,
        "p95": timings[min(len(timings) - 1, max(0, round(0.95 * len(timings)) - 1))]
        if timings
        else 0.0,
        "bytes": len(response.content),
        "queries": len(executed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the 50,000 posts")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per row")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the workspaces a previous run seeded"
    )
    parser.add_argument(
        "--only", default="", help="measure only rows whose label contains this (case-insensitive)"
    )
    args = parser.parse_args()

    where = args.database_url if args.reuse else fresh_database(args.database_url)
    setup_django(args.database_url, tempfile.mkdtemp(prefix="chorus-pages-"))
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]

    from chorus.testing.load import agency_of, seed_agency
    from chorus.testing.load_activity import seed_activity

    posts = round(50_000 * args.scale)
    started = time.perf_counter()
    if args.reuse:
        small, agency = agency_of("small"), agency_of("agency")
    else:
        # A smaller agency with rows in every view (an empty page skips its prefetches, so
        # a near-empty workspace would differ in queries without any N+1).
        small = seed_agency(
            posts=SMALL_POSTS,
            accounts=5,
            campaigns=3,
            pending=5,
            busy_day_posts=30,
            label="small",
        )
        agency = seed_agency(posts=posts, label="agency")
        for workspace, scale in ((small, SMALL_POSTS / posts), (agency, 1.0)):
            seed_activity(workspace, **{k: round(v * scale) for k, v in ACTIVITY.items()})
    seeded = time.perf_counter() - started
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"database     {where}")
    print(f"seeded       {agency.posts:,} + {small.posts:,} posts (small agency), {seeded:.0f} s")

    rows = requests_to_measure(agency)
    missing = nav_paths() - {path.split("?")[0] for _label, path in rows}
    if missing:
        raise SystemExit(f"pages of the navigation not measured: {sorted(missing)}")
    rows = [(label, path) for label, path in rows if args.only.lower() in label.lower()]
    small_client, big_client = client_for(small.owner), client_for(agency.owner)
    print()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        f"| page or endpoint | p50 ms | p95 ms | CPU ms (app) | KB | queries at {small.posts:,} "
        f"posts | queries at {agency.posts:,} posts |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst, grew = 0.0, []
    for label, path in rows:
        few = measure(
            small_client,
            path.replace(str(agency.busy_day), str(small.busy_day))
            .replace(f"/{agency.account_ids[0]}/", f"/{small.account_ids[0]}/")
            .replace(f"account={agency.account_ids[0]}", f"account={small.account_ids[0]}"),
            1,
        )
        many = measure(big_client, path, args.repeat)
        worst = max(worst, many["p95"])
        if many["queries"] != few["queries"]:
            grew.append(label)
        print(
            f"| {label} | {many['p50']:.1f} | {many['p95']:.1f} | {many['cpu']:.1f} "
            f"| {many['bytes'] / 1024:.0f} "
            f"| {few['queries']} | {many['queries']} |"
        )
    print()
    print(
        f"worst p95    {worst:.1f} ms (goal <= {GOAL_MS:.0f} ms): "
        f"{'met' if worst <= GOAL_MS else 'NOT met'}"
    )
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"query counts that differ between the sizes: {', '.join(grew) or 'none'}")


if __name__ == "__main__":
    main()
