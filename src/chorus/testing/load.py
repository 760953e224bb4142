"""Synthetic publishing load for benchmarks and reliability tests (needs Django set up).

Creates one workspace with many social accounts pointing at a server (normally the local
network emulator) and many posts due at chosen times, with bulk inserts so that seeding
100,000 posts takes seconds, not the benchmark's budget.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from chorus.accounts.models import Membership, User, Workspace
from chorus.accounts.roles import Role
from chorus.core import crypto
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers import get_provider
from chorus.publishing.models import Post, PostState, Variant, VariantStatus

CHUNK = 2_000


def seed_accounts(*, count: int, provider: str, server_url: str, label: str = "load") -> list[int]:
    """A workspace owned by one user, with `count` accounts on `provider` at `server_url`."""
    with transaction.atomic():
        owner = User.objects.create_user(f"{label}-{uuid.uuid4().hex[:8]}@load.test", None)
        workspace = Workspace.objects.create(name=f"{label} workspace")
        Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    accounts = []
    for i in range(count):
        accounts.append(_unsaved_account(workspace, owner, provider, server_url, i, label))
    created = []
    for start in range(0, len(accounts), CHUNK):
        created += SocialAccount.objects.bulk_create(accounts[start : start + CHUNK])
    return [a.pk for a in created]


def _unsaved_account(workspace, owner, provider: str, server_url: str, i: int, label: str):
    """The i-th synthetic connected account of a load workspace, for bulk_create."""
    identity, secrets = _credentials(provider, server_url, i, label)
    account = SocialAccount(
        workspace=workspace,
        provider=provider,
        remote_id=identity.get("did") or identity["account_id"],
        handle=identity.get("handle") or identity["acct"],
        identity=identity,
        server=get_provider(provider).server_of(identity),
        status=AccountStatus.ACTIVE,
        connected_by=owner,
    )
    account.secrets_encrypted = crypto.encrypt(json.dumps(secrets))
    return account


def _credentials(provider: str, server_url: str, i: int, label: str) -> tuple[dict, dict]:
    if provider == "mastodon":
        return (
            {
                "server_url": server_url,
                "client_id": "load",
                "account_id": f"{label}{i}",
                "acct": f"{label}{i}",
            },
            {"access_token": f"token-{label}-{i}", "client_secret": "load"},
        )
    if provider == "bluesky":
        return (
            {"did": f"did:plc:{label}{i:08d}", "handle": f"{label}{i}.test", "pds_url": server_url},
            {"accessJwt": f"access-{label}-{i}", "refreshJwt": f"refresh-{label}-{i}"},
        )
    raise ValueError(f"no synthetic credentials for {provider}")


def seed_posts(
    *, account_ids: list[int], due: Iterable[datetime], text: Callable[[int], str] | None = None
) -> int:
    """One scheduled single-account post per due time, accounts taken round robin."""
    first = SocialAccount.objects.select_related("workspace").get(pk=account_ids[0])
    owner_id = first.connected_by_id
    workspace_id = first.workspace_id
    text = text or (lambda n: f"Load post {n} สวัสดี ជំរាបសួរ")
    total = 0
    batch: list[tuple[int, datetime]] = []
    for n, when in enumerate(due):
        batch.append((n, when))
        if len(batch) == CHUNK:
            total += _insert(batch, account_ids, workspace_id, owner_id, text)
            batch = []
    if batch:
        total += _insert(batch, account_ids, workspace_id, owner_id, text)
    return total


def _insert(batch, account_ids, workspace_id, owner_id, text) -> int:
    with transaction.atomic():
        posts = Post.objects.bulk_create(
            [
                Post(
                    workspace_id=workspace_id,
                    author_id=owner_id,
                    state=PostState.SCHEDULED,
                    scheduled_at=when,
                )
                for _n, when in batch
            ]
        )
        Variant.objects.bulk_create(
            [
                Variant(
                    post=post,
                    account_id=account_ids[n % len(account_ids)],
                    text=text(n),
                    status=VariantStatus.SCHEDULED,
                    scheduled_at=when,
                    due_at=when,
                )
                for post, (n, when) in zip(posts, batch, strict=True)
            ]
        )
    return len(batch)


def outcome_counts() -> dict[str, int]:
    """How many variants are in each status (a benchmark's end-of-run check)."""
    from django.db.models import Count

    return dict(Variant.objects.values_list("status").annotate(n=Count("id")))


# --------------------------------------------------------------------------- an agency


@dataclass
class Agency:
    """What `seed_agency` made: the people to sign in as and where the load sits."""

    owner: Membership
    contributor: Membership
    account_ids: list[int]
    busy_day: date  # a day (workspace time) with `busy_day_posts` extra posts
    posts: int


TEXTS = [
    "New arrivals this week 🌿 #spring https://example.org/shop/{n}",
    "สวัสดีครับ โปรโมชันพิเศษวันนี้เท่านั้น #ลดราคา {n}",
    "ជំរាបសួរ! ព្រឹត្តិការណ៍ថ្មីនៅសប្ដាហ៍នេះ {n}",
    "Karibu! Tunafungua tawi jipya Nairobi wiki hii {n}",
    "Շնորհավոր տոն, հարգելի հաճախորդներ {n}",
    "Behind the scenes with our design team, part {n} 🎨",
]


def seed_agency(
    *,
    posts: int = 50_000,
    accounts: int = 50,
    campaigns: int = 20,
    pending: int = 50,
    busy_day_posts: int = 300,
    months_back: int = 6,
    months_ahead: int = 3,
    zone: str = "Asia/Bangkok",
    label: str = "agency",
    now: datetime | None = None,
) -> Agency:
    """One agency workspace at volume, written in bulk like the dispatcher's load: accounts
    (Mastodon and Bluesky) with weekly queue slots, campaigns, posts spread over the months
    around `now` (past ones published with a lateness, a few failed, some cross-posted to
    two accounts, some queued, some drafts without a time), one busy day, compliance
    policies, and `pending` posts a contributor submitted for approval through the real
    services (so their approval plans and audit entries are the real ones)."""
    import random
    import zoneinfo
    from datetime import UTC, time, timedelta

    from chorus.accounts.models import Membership as MembershipModel
    from chorus.governance import services as governance
    from chorus.governance.models import PolicyAction, PolicyKind
    from chorus.networks.models import AccountGrant
    from chorus.publishing import services
    from chorus.publishing.models import Campaign, QueueSlot

    rng = random.Random(11)
    now = now or datetime.now(UTC)
    tz = zoneinfo.ZoneInfo(zone)
    with transaction.atomic():
        owner_user = User.objects.create_user(f"{label}-owner@load.test", "load-password")
        workspace = Workspace.objects.create(name=f"{label} workspace", timezone=zone)
        owner = Membership.objects.create(user=owner_user, workspace=workspace, role=Role.OWNER)
        for role in (Role.ADMIN, Role.EDITOR, Role.VIEWER):
            user = User.objects.create_user(f"{label}-{role}@load.test", "load-password")
            MembershipModel.objects.create(user=user, workspace=workspace, role=role)
        contributor_user = User.objects.create_user(f"{label}-contributor@load.test", "x")
        contributor = Membership.objects.create(
            user=contributor_user, workspace=workspace, role=Role.CONTRIBUTOR
        )
    made = []
    for i in range(accounts):
        provider = "mastodon" if i % 2 == 0 else "bluesky"
        made.append(
            _unsaved_account(workspace, owner_user, provider, "https://social.load.test", i, label)
        )
    made = SocialAccount.objects.bulk_create(made)
    account_ids = [a.pk for a in made]
    QueueSlot.objects.bulk_create(
        QueueSlot(account_id=pk, weekday=day, time=time(hour, 0))
        for pk in account_ids
        for day in range(7)
        for hour in (9, 13, 18)
    )
    AccountGrant.every.bulk_create(
        AccountGrant(membership=contributor, socialaccount_id=pk, draft=True) for pk in account_ids
    )
    campaign_ids = [
        c.pk
        for c in Campaign.objects.bulk_create(
            Campaign(
                workspace=workspace, name=f"Campaign {n}", colour=f"#{rng.randrange(16**6):06x}"
            )
            for n in range(campaigns)
        )
    ]
    governance.policy_create(
        actor=owner,
        name="Claims",
        kind=PolicyKind.BANNED_TERMS,
        action=PolicyAction.REQUIRE_APPROVAL,
        terms=["guaranteed", "ลดราคา"],
    )
    governance.policy_create(
        actor=owner,
        name="Shop links",
        kind=PolicyKind.LINK_ALLOW,
        action=PolicyAction.REQUIRE_APPROVAL,
        domains=["example.org"],
    )
    start = now - timedelta(days=30 * months_back)
    span = timedelta(days=30 * (months_back + months_ahead)).total_seconds()
    times = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(posts))
    busy_day = (now + timedelta(days=10)).astimezone(tz).date()
    busy_start = datetime.combine(busy_day, time(6, 0), tzinfo=tz).astimezone(UTC)
    times += [busy_start + timedelta(seconds=40 * n) for n in range(busy_day_posts)]
    for first in range(0, len(times), CHUNK):
        _insert_agency(
            rng,
            times[first : first + CHUNK],
            first,
            now,
            workspace,
            owner_user,
            account_ids,
            campaign_ids,
        )
    for n in range(pending):
        post = services.post_save(
            actor=contributor,
            variants=[
                services.VariantInput(
                    account_id=account_ids[(n + k) % len(account_ids)],
                    text=TEXTS[n % len(TEXTS)].format(n=n) + (" guaranteed" if n % 3 else ""),
                )
                for k in range(1 + n % 2)
            ],
            campaign_id=campaign_ids[n % len(campaign_ids)] if campaign_ids else None,
        )
        services.post_schedule(
            actor=contributor, post=post, at=now + timedelta(days=2, minutes=37 * n)
        )
    return Agency(owner, contributor, account_ids, busy_day, len(times) + pending)


def _insert_agency(rng, times, offset, now, workspace, author, account_ids, campaign_ids):
    from datetime import timedelta

    from chorus.publishing.models import ApprovalStatus

    with transaction.atomic():
        rows = []
        for n, when in enumerate(times, start=offset):
            past = when < now
            draft = not past and n % 50 == 0
            rows.append(
                Post(
                    workspace=workspace,
                    author=author,
                    campaign_id=campaign_ids[n % len(campaign_ids)]
                    if campaign_ids and n % 3 == 0
                    else None,
                    state=PostState.DRAFT if draft else PostState.SCHEDULED,
                    scheduled_at=None if draft and n % 100 == 0 else when,
                    via_queue=n % 7 == 0,
                    approval_status=ApprovalStatus.NOT_REQUIRED,
                )
            )
        created = Post.objects.bulk_create(rows)
        variants = []
        for post, (n, when) in zip(created, enumerate(times, start=offset), strict=True):
            targets = [account_ids[n % len(account_ids)]]
            if n % 5 == 0:
                targets.append(account_ids[(n + 7) % len(account_ids)])
            for account_id in targets:
                status = VariantStatus.SCHEDULED
                published_at = None
                if post.state == PostState.DRAFT:
                    status = VariantStatus.DRAFT
                elif when < now:
                    status = VariantStatus.FAILED if n % 97 == 0 else VariantStatus.PUBLISHED
                    if status == VariantStatus.PUBLISHED:
                        published_at = when + timedelta(seconds=rng.expovariate(1 / 1.5))
                variants.append(
                    Variant(
                        post=post,
                        account_id=account_id,
                        text=TEXTS[n % len(TEXTS)].format(n=n),
                        status=status,
                        scheduled_at=post.scheduled_at,
                        due_at=post.scheduled_at if status == VariantStatus.SCHEDULED else None,
                        claimed_at=when if published_at else None,
                        published_at=published_at,
                        remote_id=f"{n}-{account_id}" if published_at else "",
                        last_error="Rejected by the network" if status == "failed" else "",
                    )
                )
        Variant.objects.bulk_create(variants, batch_size=CHUNK)


def agency_of(label: str = "agency") -> Agency:
    """The agency `seed_agency(label=label)` made earlier in this database (to measure again)."""
    import zoneinfo

    workspace = Workspace.objects.get(name=f"{label} workspace")
    owner = Membership.objects.get(workspace=workspace, role=Role.OWNER)
    contributor = Membership.objects.get(workspace=workspace, role=Role.CONTRIBUTOR)
    account_ids = list(
        SocialAccount.objects.filter(workspace=workspace)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last = (
        Post.objects.filter(workspace=workspace, scheduled_at__isnull=False)
        .exclude(state=PostState.PENDING_APPROVAL)
        .order_by("-pk")
        .first()
    )
    busy_day = last.scheduled_at.astimezone(zoneinfo.ZoneInfo(workspace.timezone)).date()
    return Agency(
        owner, contributor, account_ids, busy_day, Post.objects.filter(workspace=workspace).count()
    )
