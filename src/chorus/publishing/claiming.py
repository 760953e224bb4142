"""What the dispatcher's claim decides and writes, apart from the loop that sends.

Send-time checks (the author may still post as the account, no blocking policy forbids the
text), the servers' shared budgets, the inputs of reconciliation after an uncertain outcome,
and the SQL that locks due rows and records attempts in one statement each. Every function
works on a whole batch in a fixed number of queries.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Min, Q

from chorus.accounts.roles import Capability, role_can
from chorus.networks import budgets
from chorus.networks.models import AccountGrant, SocialAccount
from chorus.publishing.models import (
    AttemptOutcome,
    PublishAttempt,
    Variant,
    VariantMedia,
    VariantStatus,
)


def authors_allowed(variants: list[Variant]) -> set[int]:
    """Ids of the variants whose author may still post as their account (two queries).

    Allowed: an active member of the post's workspace whose role manages accounts, or who
    holds a draft or publish grant on that account (draft-only authors' posts reach the
    dispatcher only once approved; see `Dispatcher.refusal`).
    """
    from chorus.accounts.models import Membership

    authors = {(v.post.author_id, v.post.workspace_id) for v in variants}
    memberships = {
        (m.user_id, m.workspace_id): m
        for m in Membership.objects.filter(
            user_id__in={a for a, _w in authors},
            workspace_id__in={w for _a, w in authors},
            user__is_active=True,
        )
    }
    grants = set(
        AccountGrant.every.filter(
            Q(publish=True) | Q(draft=True),
            socialaccount_id__in={v.account_id for v in variants},
            membership_id__in=[m.pk for m in memberships.values()],
        ).values_list("socialaccount_id", "membership_id")
    )
    allowed = set()
    for v in variants:
        membership = memberships.get((v.post.author_id, v.post.workspace_id))
        if membership and (
            role_can(membership.role, Capability.MANAGE_ACCOUNTS)
            or (v.account_id, membership.pk) in grants
        ):
            allowed.add(v.pk)
    return allowed


def policy_blocked(variants: list[Variant]) -> dict[int, str]:
    """Variants a blocking compliance policy forbids now, with the reason (policies can
    change after a post was scheduled or approved). One query for the whole batch."""
    from chorus.governance.models import Policy, PolicyAction
    from chorus.governance.policies import evaluate

    by_workspace: dict[int, list[Policy]] = {}
    for policy in Policy.objects.filter(
        workspace_id__in={v.post.workspace_id for v in variants},
        is_active=True,
        action=PolicyAction.BLOCK,
    ).prefetch_related("accounts"):
        by_workspace.setdefault(policy.workspace_id, []).append(policy)
    found = {}
    for variant in variants:
        text = "\n\n".join(p for p in variant.parts() if p)
        reasons = []
        for policy in by_workspace.get(variant.post.workspace_id, []):
            chosen = {a.pk for a in policy.accounts.all()}
            if chosen and variant.account_id not in chosen:
                continue
            violation = evaluate(policy, text, [variant.link] if variant.link else None)
            if violation is not None:
                reasons.append(f"{policy.name}: {violation.message}")
        if reasons:
            found[variant.pk] = " ".join(reasons)
    return found


@contextmanager
def walk_indexes_in_order():
    """Make PostgreSQL read due rows by walking the index in order, stopping at the limit.

    A burst flips many rows at once, so table statistics lag behind it: the planner then
    thinks few rows are due and picks a bitmap scan plus a sort of every due row (hundreds
    of milliseconds a claim at 100,000) over the ordered index scan that stops after a
    batch (under a millisecond). No join in these queries for the same reason.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
        yield
        cursor.execute("SET LOCAL enable_bitmapscan = on; SET LOCAL enable_sort = on")


def within_server_budgets(
    rows: list[tuple[int, str, int, datetime]], now: datetime
) -> dict[int, str]:
    """The locked rows (oldest first) that their servers' budgets allow: id -> status.

    One request per post is reserved now; the rest are charged once the posts are loaded
    (`charge_further_requests`).
    """
    servers = {
        pk: (provider, server)
        for pk, provider, server in SocialAccount.objects.filter(
            pk__in={account for _pk, _status, account, _due in rows}
        ).values_list("pk", "provider", "server")
    }
    granted = budgets.reserve(Counter(servers[account] for *_, account, _due in rows), now)
    allowed = {}
    for pk, status, account, _due in rows:
        if granted[servers[account]] > 0:
            granted[servers[account]] -= 1
            allowed[pk] = status
    return allowed


def charge_further_requests(variants: list[Variant], media: dict[int, list[VariantMedia]]) -> None:
    """Charge each post's thread parts after the first, and its uploads, to its server."""
    further: Counter[budgets.Server] = Counter()
    for v in variants:
        if budgets.budget_for(v.account.provider):
            server = (v.account.provider, v.account.server)
            further[server] += len(v.parts()) - 1 + len(media.get(v.pk, []))
    budgets.charge(further)


def uncertain_attempts(
    variants: list[Variant], current: dict[int, int]
) -> dict[int, tuple[int, datetime | None]]:
    """Per retried variant: its temporary failures so far, and when the first earlier
    attempt that may have reached the network was claimed (a transient failure, which
    includes timeouts and lost answers, or an attempt abandoned by a dead dispatcher)."""
    retried = [v.pk for v in variants if v.attempts > 1]
    if not retried:
        return {}
    rows = (
        PublishAttempt.objects.filter(
            variant_id__in=retried,
            outcome__in=[AttemptOutcome.TRANSIENT, AttemptOutcome.STARTED],
        )
        .exclude(pk__in=[current[pk] for pk in retried])
        .values("variant_id")
        .annotate(
            failures=Count("id", filter=Q(outcome=AttemptOutcome.TRANSIENT)),
            since=Min("claimed_at"),
        )
        .values_list("variant_id", "failures", "since")
    )
    return {pk: (failures, since) for pk, failures, since in rows}


def recorded_ids(
    variants: list[Variant], earlier: dict[int, tuple[int, datetime | None]]
) -> dict[int, frozenset[str]]:
    """For variants to reconcile: the remote ids their account's other posts published since
    then, so that a post identical to another is not taken for it."""
    reconciling = [v for v in variants if earlier.get(v.pk, (0, None))[1] is not None]
    if not reconciling:
        return {}
    since = min(earlier[v.pk][1] for v in reconciling) - timedelta(minutes=5)
    ids: dict[int, set[tuple[int, str]]] = {}  # account -> (variant, remote id)
    for pk, account_id, parts in Variant.objects.filter(
        account_id__in={v.account_id for v in reconciling},
        status=VariantStatus.PUBLISHED,
        published_at__gte=since,
    ).values_list("pk", "account_id", "parts_published"):
        for part in parts or []:
            ids.setdefault(account_id, set()).add((pk, str(part.get("id", ""))))
    return {
        v.pk: frozenset(rid for pk, rid in ids.get(v.account_id, ()) if pk != v.pk)
        for v in reconciling
    }


def lock_rows(query, count: int) -> list[tuple[int, str, int, datetime]]:
    """Up to `count` (id, status, account id, due) rows of `query`, locked for this claim."""
    if count <= 0:
        return []
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True, of=("self",))
    return list(query.values_list("pk", "status", "account_id", "due_at")[:count])


def start_attempts(variant_ids: list[int], now: datetime, worker: str) -> dict[int, int]:
    """Insert an attempt for each claimed variant in one statement; variant id -> attempt id."""
    attempt = PublishAttempt._meta
    columns = ", ".join(
        connection.ops.quote_name(attempt.get_field(name).column)
        for name in ("variant", "number", "claimed_at", "outcome", "error", "worker")
    )
    variant_table = connection.ops.quote_name(Variant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(attempt.db_table)} ({columns}) "  # noqa: S608
            f"SELECT id, attempts, %s, %s, '', %s FROM {variant_table} "
            f"WHERE id IN ({', '.join(['%s'] * len(variant_ids))}) RETURNING variant_id, id",
            [db_value(PublishAttempt, "claimed_at", now), AttemptOutcome.STARTED, worker]
            + variant_ids,
        )
        return dict(cursor.fetchall())


def db_value(model, field_name: str, value):
    """A Python value as the database driver wants it for this model field."""
    return model._meta.get_field(field_name).get_db_prep_save(value, connection)
