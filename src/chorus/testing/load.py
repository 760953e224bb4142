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

import httpx
from django.db import transaction

from chorus.accounts.models import Membership, User, Workspace
from chorus.accounts.roles import Role
from chorus.core import crypto
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers import get_provider
from chorus.networks.providers.base import Credentials
from chorus.publishing.models import (
    MediaAsset,
    Post,
    PostState,
    Variant,
    VariantMedia,
    VariantStatus,
)
from chorus.testing.networks import NETWORKS, Account, Tally, marker, post_number, tally

CHUNK = 2_000


def seed_accounts(*, count: int, provider: str, server_url: str, label: str = "load") -> list[int]:
    """A workspace owned by one user, with `count` accounts on `provider` at `server_url`."""
    return seed_mix(per_network=count, providers=[provider], server_url=server_url, label=label)[
        provider
    ]


def seed_mix(
    *,
    per_network: int,
    server_url: str,
    providers: Iterable[str] = NETWORKS,
    label: str = "load",
) -> dict[str, list[int]]:
    """A workspace owned by one user, with `per_network` accounts on each of `providers`
    (chorus.testing.networks) at the emulator at `server_url`; their ids by network."""
    with transaction.atomic():
        owner = User.objects.create_user(f"{label}-{uuid.uuid4().hex[:8]}@load.test", None)
        workspace = Workspace.objects.create(name=f"{label} workspace")
        Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    found = {}
    with httpx.Client(timeout=30) as http:
        for provider in providers:
            accounts = [
                _unsaved_account(workspace, owner, provider, server_url, i, label, http)
                for i in range(per_network)
            ]
            created = []
            for start in range(0, len(accounts), CHUNK):
                created += SocialAccount.objects.bulk_create(accounts[start : start + CHUNK])
            found[provider] = [a.pk for a in created]
    return found


def connect(*, owner: Membership, provider: str, server_url: str, label: str) -> SocialAccount:
    """One account on `provider` at the emulator at `server_url`, in `owner`'s workspace."""
    with httpx.Client(timeout=30) as http:
        account = _unsaved_account(
            owner.workspace, owner.user, provider, server_url, 0, label, http
        )
    account.save()
    return account


def _unsaved_account(workspace, owner, provider: str, server_url: str, i: int, label: str, http):
    """The i-th synthetic connected account of a load workspace, for bulk_create."""
    made = NETWORKS[provider].account(http, server_url, i, label)
    account = SocialAccount(
        workspace=workspace,
        provider=provider,
        remote_id=made.remote_id,
        handle=made.handle,
        identity=made.credentials.identity,
        server=get_provider(provider).server_of(made.credentials.identity),
        status=AccountStatus.ACTIVE,
        connected_by=owner,
    )
    account.secrets_encrypted = crypto.encrypt(json.dumps(made.credentials.secrets))
    return account


def load_photo(workspace_id: int, owner_id: int) -> MediaAsset:
    """A small JPEG in the workspace's media library, for networks whose posts need one."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 320), "teal").save(out, "JPEG")
    asset = MediaAsset(
        workspace_id=workspace_id,
        mime_type="image/jpeg",
        size=out.tell(),
        width=320,
        height=320,
        alt_text="A teal square",
        uploaded_by_id=owner_id,
    )
    asset.file.save(f"load-{uuid.uuid4().hex[:12]}.jpg", ContentFile(out.getvalue()), save=True)
    return asset


def seed_posts(
    *, account_ids: list[int], due: Iterable[datetime], text: Callable[[int], str] | None = None
) -> int:
    """One scheduled single-account post per due time, accounts taken round robin; posts to
    accounts on networks that take no text-only post carry a photo."""
    first = SocialAccount.objects.select_related("workspace").get(pk=account_ids[0])
    owner_id = first.connected_by_id
    workspace_id = first.workspace_id
    text = text or (lambda n: f"{marker(n)}สวัสดี ជំរាបសួរ")
    needing = {key for key, network in NETWORKS.items() if network.needs_media}
    with_photo = set(
        SocialAccount.objects.filter(pk__in=account_ids, provider__in=needing).values_list(
            "pk", flat=True
        )
    )
    photo = load_photo(workspace_id, owner_id).pk if with_photo else None
    total = 0
    batch: list[tuple[int, datetime]] = []
    for n, when in enumerate(due):
        batch.append((n, when))
        if len(batch) == CHUNK:
            total += _insert(batch, account_ids, workspace_id, owner_id, text, with_photo, photo)
            batch = []
    if batch:
        total += _insert(batch, account_ids, workspace_id, owner_id, text, with_photo, photo)
    return total


def _insert(batch, account_ids, workspace_id, owner_id, text, with_photo, photo) -> int:
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
        variants = Variant.objects.bulk_create(
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
        VariantMedia.objects.bulk_create(
            VariantMedia(variant=v, asset_id=photo, alt_text="A teal square")
            for v in variants
            if v.account_id in with_photo
        )
    return len(batch)


def received(events: list[dict]) -> dict[str, Tally]:
    """The load posts each network received, by provider, from the emulator's event log."""
    accounts = {}
    for account in SocialAccount.objects.all():
        network = NETWORKS[account.provider]
        credentials = Credentials(identity=account.identity, secrets=account.secrets)
        made = Account(account.remote_id, account.handle, credentials)
        accounts[(network.log_name, network.log_account(made))] = account.provider
    return tally(events, accounts)


def expected(**filters) -> dict[str, dict[int, datetime]]:
    """Load post number -> scheduled time of the variants (matching `filters`), by provider."""
    found: dict[str, dict[int, datetime]] = {}
    rows = Variant.objects.filter(**filters).values_list(
        "text", "scheduled_at", "account__provider"
    )
    for text, when, provider in rows:
        number = post_number(text)
        if number is not None:
            found.setdefault(provider, {})[number] = when
    return found


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
            _unsaved_account(
                workspace, owner_user, provider, "https://social.load.test", i, label, None
            )
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
