"""The inbox at volume: how fast polled messages are stored, and how fast the list opens.

1. Ingest: pages of 500 interactions (replies, mentions, DMs, likes, reposts, follows in
   English, Thai, Khmer, Armenian and Swahili, about five messages per conversation) go
   through `chorus.inbox.ingest.store_page`, the poller's own write path (contacts,
   conversations, language and sentiment, routing rules, cursor, one transaction per page);
   a fifth of every page is items already stored (a poll that overlapped the previous one).
   Prints stored messages per second, duplicates removed. Goal: >= 5,000/s.
2. The list: `--conversations` more conversations are seeded directly (bulk inserts), then
   the inbox page and the API list are asked `--repeat` times each with the usual filters
   through Django's test client, signed in; prints p50/p95 server time.

    python bench/inbox.py
    python bench/inbox.py --conversations 1000000
    python bench/inbox.py --database-url postgres://postgres@127.0.0.1:5432/chorus_inbox_bench
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch import fresh_database, setup_django  # noqa: E402

DEFAULT_SQLITE = f"sqlite:///{ROOT / 'var' / 'bench' / 'inbox.sqlite3'}"
GOAL_RATE = 5000
TEXTS = [
    "My order arrived broken, can you help?",
    "Love the new roast, thank you!",
    "กาแฟอร่อยมากครับ ขอบคุณ",
    "ส่งของช้ามาก ผิดหวัง",
    "ខ្ញុំចូលចិត្តកាហ្វេនេះណាស់",
    "Շնորհակալություն, սուրճը հիանալի է",
    "Kahawa hii ni nzuri sana, asante",
    "When do you open the new shop?",
]


def seed_workspace(accounts: int):
    from chorus.accounts import services
    from chorus.accounts.models import Membership
    from chorus.inbox import services as inbox_services
    from chorus.networks.models import SocialAccount

    user = services.user_sign_up(
        email="bench@example.org", password="a-Long-bench-passphrase-42", workspace_name="Bench"
    )
    owner = Membership.objects.get(user=user)
    made = []
    for i in range(accounts):
        account = SocialAccount(
            workspace=owner.workspace,
            provider="mastodon",
            remote_id=f"brand{i}",
            handle=f"brand{i}@mastodon.example",
            identity={"server_url": "https://mastodon.example", "account_id": str(i)},
        )
        account.save()
        made.append(account)
    inbox_services.rule_save(
        actor=owner,
        data={"name": "Refunds", "keywords": ["refund", "คืนเงิน"], "add_tags": ["refund"]},
    )
    return owner, made


def interactions(count: int, start: int, rng: random.Random):
    from django.utils import timezone

    from chorus.networks.providers.base import Interaction, RemoteRef

    now = timezone.now()
    kinds = ["reply"] * 5 + ["mention"] * 2 + ["direct_message", "like", "repost", "follow"]
    items = []
    for n in range(start, start + count):
        kind = rng.choice(kinds)
        person = n // 5  # about five items per person, so per conversation
        items.append(
            Interaction(
                kind=kind,
                remote_id=f"{kind}-{n}",
                author_handle=f"fan{person}@example.org",
                created_at=now - timedelta(seconds=(start + count - n)),
                author_name=f"Fan {person}",
                text="" if kind in ("like", "repost", "follow") else rng.choice(TEXTS),
                subject=RemoteRef(f"post-{person % 200}") if kind != "follow" else None,
                conversation_id=f"dm-{person}" if kind == "direct_message" else "",
            )
        )
    return items


def bench_ingest(accounts, total: int, page_size: int = 500) -> tuple[float, int, int]:
    from django.utils import timezone

    from chorus.inbox import ingest
    from chorus.inbox.models import Activity, Message
    from chorus.networks.providers.base import InteractionPage

    rng = random.Random(7)
    seen: dict = {account.pk: [] for account in accounts}
    stored = offered = 0
    started, cpu = time.perf_counter(), time.process_time()
    produced = 0
    while produced < total:
        account = accounts[(produced // page_size) % len(accounts)]
        fresh = interactions(page_size * 4 // 5, produced, rng)
        produced += len(fresh)
        earlier = seen[account.pk]
        repeats = rng.sample(earlier, min(len(earlier), page_size - len(fresh)))
        page = InteractionPage(items=tuple(fresh + repeats), cursor=str(produced))
        result = ingest.store_page(account, page, now=timezone.now())
        stored += result.messages + result.activities
        offered += len(page.items)
        seen[account.pk] = fresh[-200:] + earlier[:800]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = Message.objects.count() + Activity.objects.count()
    return elapsed, cpu, stored, rows


def _pick(expr: str, values: list) -> tuple[str, list]:
    """SQL choosing values[expr % len(values)] (a CASE: both databases, no arrays)."""
    whens = " ".join("WHEN %s THEN %s" for _ in values)
    params = [p for i, value in enumerate(values) for p in (i, value)]
    return f"CASE ({expr}) %% {len(values)} {whens} END", params


def seed_conversations(owner, accounts, count: int, messages_per: int) -> None:
    """`count` conversations of `messages_per` messages each, written by the database itself
    (PostgreSQL's generate_series, a recursive CTE on SQLite): no row crosses the wire, so a
    million conversations and five million messages take minutes, not hours. Each
    conversation's search text holds one of the sample sentences and a word of its own
    ("order<n>"), so a search for a common word and for a rare one can both be measured."""
    from django.db import connection, transaction

    from chorus.inbox.analysis import search_form
    from chorus.inbox.models import Conversation, Message, Tag

    postgres = connection.vendor == "postgresql"
    if postgres:
        numbers = "SELECT n FROM generate_series(0, %s - 1) AS n"
        when = "now() - n * interval '7 seconds'"
    else:
        numbers = (
            "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < %s - 1)"
            " SELECT n FROM seq"
        )
        when = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || (n * 7) || ' seconds')"
    ids = [a.pk for a in accounts]
    account, p1 = _pick("n", ids)
    status, p2 = _pick("(n %% 10007) * 7919", ["open"] * 2 + ["pending"] + ["closed"] * 7)
    kind, p3 = _pick("n", ["direct", "thread", "thread", "thread", "thread"])
    language, p4 = _pick("n", ["en", "th", "km", "hy", "sw"])
    preview, p5 = _pick("n", TEXTS)
    folded, p6 = _pick("n", [search_form(text) for text in TEXTS])
    concat = "||"
    conversation = Conversation._meta.db_table
    sql = (
        f"INSERT INTO {conversation} (workspace_id, account_id, key, kind, status, assignee_id,"
        " priority, language, sentiment, spam, preview, search_text, message_count,"
        " created_at, last_message_at, target_stage)"
        f" SELECT %s, {account}, 'seed:' {concat} n, {kind}, {status},"
        f" CASE WHEN n %% 9 = 0 THEN %s END, 1, {language}, 'unknown', %s, {preview},"
        f" {folded} {concat} ' order' {concat} n, %s, {when}, {when}, 0"
        f" FROM ({numbers}) AS numbers"
    )
    params = [owner.workspace_id, *p1, *p2, *p3, owner.pk, *p4, False, *p5, *p6, messages_per]
    params.append(count)
    message = Message._meta.db_table
    text, p7 = _pick("c.id + k", TEXTS)
    later = (
        "c.created_at + k * interval '1 second'"
        if postgres
        else "strftime('%%Y-%%m-%%d %%H:%%M:%%f', c.created_at, '+' || k || ' seconds')"
    )
    per = (
        "generate_series(1, %s) AS k"
        if postgres
        else "(WITH RECURSIVE ks(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ks WHERE k < %s)"
        " SELECT k FROM ks) AS ks"
    )
    messages = (
        f"INSERT INTO {message} (conversation_id, account_id, remote_id, direction, kind, text,"
        " url, subject_remote_id, remote_conversation_id, created_at)"
        f" SELECT c.id, c.account_id, c.key {concat} ':' {concat} k, 'in', 'reply', {text},"
        f" '', '', '', {later} FROM {conversation} c CROSS JOIN {per}"
        " WHERE c.key LIKE 'seed:%%'"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(messages, [*p7, messages_per])
        cursor.execute(
            f"INSERT INTO {Tag._meta.db_table} (conversation_id, name)"  # noqa: S608
            f" SELECT id, 'vip' FROM {conversation} WHERE key LIKE 'seed:%' AND id % 50 = 0"
        )
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would gather them
        cursor.execute("ANALYZE")


def measure(client, path: str, repeat: int) -> tuple[float, float, float]:
    """p50 and p95 wall-clock ms, and the median CPU ms of this process."""
    times, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--messages", type=int, default=100_000, help="interactions to ingest")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages-per", type=int, default=5, help="per seeded conversation")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the pages on the last run's data only"
    )
    args = parser.parse_args()

    where = args.database_url if args.reuse else fresh_database(args.database_url)
    setup_django(args.database_url, tempfile.mkdtemp(prefix="chorus-inbox-bench-"))

    from chorus.inbox.models import Conversation, Message

    if args.reuse:
        from chorus.accounts.models import Membership
        from chorus.networks.models import SocialAccount

        owner = Membership.objects.get(user__email="bench@example.org")
        accounts = list(SocialAccount.objects.filter(workspace=owner.workspace).order_by("pk"))
        print(f"database: {where} (reused: {Conversation.objects.count():,} conversations)")
        measure_pages(owner, accounts, args.repeat)
        return
    owner, accounts = seed_workspace(args.accounts)
    print(f"database: {where}")
    from chorus.inbox import analysis
    from chorus.text import find_terms, sentiment_of

    # models a long-running worker has loaded once (language model, Thai dictionary, VADER)
    sentiment_of("warm", analysis.language_of("warm up the models"))
    find_terms("กาแฟอร่อย", ["กาแฟ"])
    elapsed, cpu, stored, rows = bench_ingest(accounts, args.messages)
    print(
        f"ingest: {stored:,} new items stored of {args.messages * 5 // 4:,} offered "
        f"(a fifth repeated; rows in the tables: {rows:,})\n"
        f"  wall clock {elapsed:.1f} s = {stored / elapsed:,.0f} items/s; "
        f"CPU of this process {cpu:.1f} s = {stored / cpu:,.0f} items/s "
        f"(goal >= {GOAL_RATE:,}/s; on a shared machine the wall clock also counts waiting "
        "for a core, and on PostgreSQL the CPU figure leaves out the server's work)"
    )
    started = time.perf_counter()
    seed_conversations(owner, accounts, args.conversations, args.messages_per)
    total = Conversation.objects.count()
    print(
        f"seeded {args.conversations:,} conversations and"
        f" {args.conversations * args.messages_per:,} messages in"
        f" {time.perf_counter() - started:.0f} s (conversations in all: {total:,};"
        f" messages in all: {Message.objects.count():,})"
    )
    measure_pages(owner, accounts, args.repeat)


def measure_pages(owner, accounts, repeat: int) -> None:
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    client = Client()
    client.force_login(owner.user)
    account = accounts[3].pk
    paths = [
        ("Inbox, open, all", "/inbox/"),
        ("Inbox, mine", "/inbox/?view=mine"),
        ("Inbox, unassigned", "/inbox/?view=unassigned"),
        ("Inbox, closed, one account", f"/inbox/?status=closed&account={account}"),
        ("Inbox, tag vip, any status", "/inbox/?status=any&tag=vip"),
        ("Inbox, language th", "/inbox/?language=th"),
        ("Inbox list fragment (live update)", "/inbox/list/"),
        ("Inbox, search Thai, common (1 in 8)", "/inbox/?q=อร่อย&status=any"),
        ("Inbox, search Khmer, open", "/inbox/?q=កាហ្វេ"),
        ("Inbox, search a rare word", "/inbox/?q=order123457&status=any"),
        ("Inbox, search nothing matches", "/inbox/?q=ไม่มีคำนี้&status=any"),
        ("API list, open", "/api/v1/inbox/conversations"),
        ("API list, mine", "/api/v1/inbox/conversations?view=mine"),
    ]
    client.get("/inbox/")  # warm caches (translations, templates)
    print(f"{'request':40} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8}")
    for label, path in paths:
        p50, p95, cpu = measure(client, path, repeat)
        print(f"{label:40} {p50:8.1f} {p95:8.1f} {cpu:8.1f}")


if __name__ == "__main__":
    main()
