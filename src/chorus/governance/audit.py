"""Appending to the audit log: `audit_record`, the one write every app calls.

Kept apart from `governance.services` (which re-exports it) so that `accounts.services` and
`networks.services` can import it without an import cycle.

Each entry belongs to a chain: one per workspace, and `global` for events without a
workspace (sign-in, sign-out). Its `entry_hash` is SHA-256 over a canonical JSON of the entry,
including the previous entry's hash, so changing, removing or reordering any entry breaks
every later link. The append locks the chain's head row, so concurrent writers queue up
instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from chorus.accounts.models import Membership, User, Workspace
from chorus.governance import context as request_context
from chorus.governance.models import (
    GENESIS_HASH,
    GLOBAL_CHAIN,
    AuditAction,
    AuditChain,
    AuditEntry,
)

HASH_VERSION = 1


def chain_key(workspace_id: int | None) -> str:
    return f"workspace:{workspace_id}" if workspace_id else GLOBAL_CHAIN


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_payload(entry: AuditEntry) -> dict:
    """Everything an entry says, as the hash sees it (times in UTC, microseconds kept)."""
    return {
        "v": HASH_VERSION,
        "chain": entry.chain,
        "seq": entry.seq,
        "workspace": entry.workspace_id,
        "actor": entry.actor_id,
        "actor_email": entry.actor_email,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_label": entry.target_label,
        "changes": entry.changes,
        "ip_address": entry.ip_address,
        "user_agent": entry.user_agent,
        "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "previous_hash": entry.previous_hash,
    }


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical_json(entry_payload(entry)).encode()).hexdigest()


def _plain(changes) -> dict:
    """JSON exactly as the database will give it back (dates become ISO strings)."""
    if not changes:
        return {}
    return json.loads(json.dumps(changes, cls=DjangoJSONEncoder))


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        meta = target._meta
        return f"{meta.app_label}.{meta.model_name}", str(target.pk or ""), str(target)[:255]
    kind, ident, label = target  # ("type", id, "label") for things that are not rows
    return str(kind)[:60], str(ident)[:64], str(label)[:255]


def _actor_fields(actor) -> tuple[int | None, str]:
    if isinstance(actor, Membership):
        actor = actor.user
    if isinstance(actor, User):
        return actor.pk, actor.email
    if isinstance(actor, str):  # an email typed at a failed sign-in, with no account
        return None, actor[:254]
    return None, ""


def audit_record(
    *,
    action: AuditAction | str,
    actor: Membership | User | str | None,
    workspace: Workspace | int | None,
    target=None,
    changes: dict | None = None,
    request=None,
) -> AuditEntry:
    """Append one entry to the workspace's chain (or the global one).

    `actor` is the acting membership or user (or, for a failed sign-in, the email tried);
    `target` a model instance or a ("type", id, "label") triple; `changes` a JSON-able
    dict, by convention {"before": {...}, "after": {...}}. Address and browser come from
    `request` if given, else from the current request's context (see `context.py`).
    """
    action = AuditAction(action)
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    ctx = request_context.from_request(request) if request else request_context.current()
    actor_id, actor_email = _actor_fields(actor)
    target_type, target_id, target_label = _target_fields(target)
    key = chain_key(workspace_id)
    with transaction.atomic():
        head, _created = AuditChain.objects.select_for_update().get_or_create(key=key)
        entry = AuditEntry(
            chain=key,
            seq=head.length + 1,
            workspace_id=workspace_id,
            actor_id=actor_id,
            actor_email=actor_email,
            action=action.value,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            changes=_plain(changes),
            ip_address=ctx.ip_address,
            user_agent=ctx.user_agent,
            created_at=timezone.now(),
            previous_hash=head.head_hash,
        )
        entry.entry_hash = compute_hash(entry)
        entry.save(force_insert=True)
        head.length = entry.seq
        head.head_hash = entry.entry_hash
        head.save(update_fields=["length", "head_hash"])
    return entry


def snapshot(obj, fields: list[str]) -> dict:
    """A {field: value} picture of `obj` for before/after changes."""
    return {name: getattr(obj, name) for name in fields}


__all__ = ["GENESIS_HASH", "audit_record", "chain_key", "compute_hash", "snapshot"]
