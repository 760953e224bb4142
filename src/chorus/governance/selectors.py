"""Reads for governance: the audit log (filtered, verified) and compliance policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership, Workspace
from chorus.core.errors import NotFound
from chorus.governance.audit import compute_hash
from chorus.governance.models import GENESIS_HASH, AuditChain, AuditEntry, Policy


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""  # part of the actor's email
    target: str = ""  # part of the target's label, or its type, or its exact id
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def audit_entries(
    workspace: Workspace, filters: AuditFilters | None = None
) -> QuerySet[AuditEntry]:
    """The workspace's entries, plus its current members' sign-in events, newest first.

    The caller checks the VIEW_AUDIT_LOG capability.
    """
    filters = filters or AuditFilters()
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    entries = AuditEntry.objects.filter(
        Q(workspace=workspace) | Q(workspace__isnull=True, actor_id__in=members)
    )
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        entries = entries.filter(actor_email__icontains=filters.actor.strip())
    if filters.target:
        target = filters.target.strip()
        entries = entries.filter(
            Q(target_label__icontains=target) | Q(target_type=target) | Q(target_id=target)
        )
    if filters.since:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until:
        entries = entries.filter(created_at__lt=filters.until)
    return entries.order_by("-created_at", "-pk")


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    entry_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry #{self.entry_id} (link {self.seq})" if self.entry_id else "the chain head"
        return f"chain {self.chain}: {where}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    chains: int
    entries: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _verify_chain(key: str) -> tuple[int, ChainProblem | None]:
    expected_previous = GENESIS_HASH
    expected_seq = 1
    count = 0
    entries = AuditEntry.objects.filter(chain=key).order_by("seq")
    for entry in entries.iterator(chunk_size=2000):
        count += 1
        if entry.seq != expected_seq:
            return count, ChainProblem(
                key, entry.pk, entry.seq, f"link {expected_seq} is missing (entries removed)"
            )
        if entry.previous_hash != expected_previous:
            return count, ChainProblem(
                key, entry.pk, entry.seq, "its previous hash does not match the entry before it"
            )
        if compute_hash(entry) != entry.entry_hash:
            return count, ChainProblem(
                key, entry.pk, entry.seq, "its content does not match its hash (entry altered)"
            )
        expected_previous = entry.entry_hash
        expected_seq += 1
    head = AuditChain.objects.filter(key=key).first()
    if head is None:
        if count:
            return count, ChainProblem(key, None, None, "the chain head is missing")
        return count, None
    if head.length != count or head.head_hash != expected_previous:
        return count, ChainProblem(
            key,
            None,
            None,
            f"the head says {head.length} entries ending in {head.head_hash[:12]}…, "
            f"found {count} (entries removed from the end)",
        )
    return count, None


def audit_chain_verify(*, workspace: Workspace | int | None = None) -> ChainReport:
    """Recompute every hash; report the first broken entry (all chains, or one workspace's)."""
    from chorus.governance.audit import chain_key

    if workspace is not None:
        workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
        keys = [chain_key(workspace_id)]
    else:
        keys = sorted(
            set(AuditChain.objects.values_list("key", flat=True))
            | set(AuditEntry.objects.values_list("chain", flat=True).distinct())
        )
    total = 0
    for key in keys:
        count, problem = _verify_chain(key)
        total += count
        if problem:
            return ChainReport(chains=len(keys), entries=total, problem=problem)
    return ChainReport(chains=len(keys), entries=total, problem=None)


def audit_chain_heads() -> QuerySet[AuditChain]:
    return AuditChain.objects.order_by("key")


# --------------------------------------------------------------------------- policies


def policies_of(workspace: Workspace) -> QuerySet[Policy]:
    return (
        Policy.objects.filter(workspace=workspace)
        .prefetch_related("accounts")
        .order_by("name", "pk")
    )


def access_policy(*, workspace: Workspace, policy_id: int) -> Policy:
    policy = policies_of(workspace).filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("No such policy."))
    return policy
