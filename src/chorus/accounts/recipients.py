"""Messages written for one person: in their language, with times in their zone.

Notifications and e-mails are composed by tasks and by other people's requests, where the
active language and zone are someone else's (or none). Wrap the composing in
`speaking_to(...)` and format times with `moment_text`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import formats, timezone, translation

from chorus.accounts.models import User, Workspace


def zone_of(user: User | None, workspace: Workspace | None) -> str:
    """The person's zone, else the workspace's, else UTC (an unknown name counts as none)."""
    for name in (getattr(user, "timezone", ""), getattr(workspace, "timezone", "")):
        if name:
            try:
                zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return "UTC"


@contextmanager
def speaking_to(
    user: User | None = None,
    workspace: Workspace | None = None,
    *,
    language: str | None = None,
) -> Iterator[None]:
    """Activate `user`'s language (else `language`, else English) and zone for a message."""
    chosen = (getattr(user, "language", "") or language or "en") if user else (language or "en")
    with (
        translation.override(chosen),
        timezone.override(zoneinfo.ZoneInfo(zone_of(user, workspace))),
    ):
        yield


def moment_text(moment: datetime) -> str:
    """A date and time in the active zone and language, naming the zone:
    "Dec. 9, 2026, 3:38 p.m. (Asia/Bangkok)"."""
    local = timezone.localtime(moment)
    return (
        f"{formats.date_format(local, 'DATETIME_FORMAT')} ({timezone.get_current_timezone_name()})"
    )
