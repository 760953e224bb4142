"""The audit log as CSV, shared by the web export and the API (one format everywhere)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC

from chorus.governance.models import AuditEntry

HEADER = [
    "id",
    "created_at_utc",
    "workspace_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "changes",
    "ip_address",
    "user_agent",
    "previous_hash",
    "entry_hash",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula (labels are typed by users)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(entry: AuditEntry) -> list[str]:
    return [
        str(entry.pk),
        entry.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        str(entry.workspace_id or ""),
        _cell(entry.actor_email),
        entry.action,
        entry.target_type,
        _cell(entry.target_id),
        _cell(entry.target_label),
        _cell(json.dumps(entry.changes, ensure_ascii=False, sort_keys=True)),
        entry.ip_address,
        _cell(entry.user_agent),
        entry.previous_hash,
        entry.entry_hash,
    ]


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """CSV text line by line (with a BOM, so spreadsheet programs read UTF-8 Thai/Khmer)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)
    for entry in entries:
        yield writer.writerow(_row(entry))


def filename(workspace_id: int) -> str:
    return f"chorus-audit-workspace-{workspace_id}.csv"
