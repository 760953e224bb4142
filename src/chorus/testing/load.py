"""Synthetic publishing load for benchmarks and reliability tests (needs Django set up).

Creates one workspace with many social accounts pointing at a server (normally the local
network emulator) and many posts due at chosen times, with bulk inserts so that seeding
100,000 posts takes seconds, not the benchmark's budget.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

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
        accounts.append(account)
    created = []
    for start in range(0, len(accounts), CHUNK):
        created += SocialAccount.objects.bulk_create(accounts[start : start + CHUNK])
    return [a.pk for a in created]


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
