"""Bulk scheduling from CSV: every row is checked first; nothing is scheduled unless all pass.

Columns (header row required, UTF-8, comma-separated):
  account        the handle of a connected account the importer may use (or its id)
  text           the post text
  scheduled_at   "YYYY-MM-DD HH:MM" in the workspace's time zone, or ISO 8601 with an offset
  link, content_warning, first_comment, campaign (a campaign name)    optional
  thread         optional further parts, separated by a line with "---" or by " || "
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import ServiceError
from chorus.networks.selectors import accounts_usable_by
from chorus.publishing import services
from chorus.publishing.models import Campaign
from chorus.publishing.validation import check_variant

MAX_BYTES = 2_000_000
MAX_ROWS = 5_000
REQUIRED = ("account", "text", "scheduled_at")


@dataclass
class RowReport:
    line: int
    account: str
    scheduled_at: str
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowReport]
    committed: bool = False
    post_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(row.errors for row in self.rows)


def posts_import_csv(*, actor: Membership, data: bytes, commit: bool) -> ImportReport:
    """Check every row; when `commit` and all rows pass, schedule them all in one transaction."""
    check_capability(actor, Capability.PUBLISH_POSTS)
    rows = _read(data)
    accounts = {}
    for account in accounts_usable_by(actor):
        accounts[account.handle.lower()] = account
        accounts[str(account.pk)] = account
    campaigns = {c.name.lower(): c for c in Campaign.objects.filter(workspace=actor.workspace)}
    zone = zoneinfo.ZoneInfo(actor.workspace.timezone)
    report = ImportReport(rows=[])
    planned = []
    for line, row in rows:
        entry = RowReport(line, row.get("account", ""), row.get("scheduled_at", ""))
        report.rows.append(entry)
        account = accounts.get(entry.account.strip().lstrip("@").lower())
        if account is None:
            entry.errors.append(_("Unknown account, or one you may not post as."))
        when = _parse_time(entry.scheduled_at, zone, entry.errors)
        campaign_name = (row.get("campaign") or "").strip()
        campaign = campaigns.get(campaign_name.lower()) if campaign_name else None
        if campaign_name and campaign is None:
            entry.errors.append(_("No campaign named %(name)s.") % {"name": campaign_name})
        item = services.VariantInput(
            account_id=account.pk if account else 0,
            text=row.get("text") or "",
            thread=_thread(row.get("thread") or ""),
            first_comment=row.get("first_comment") or "",
            link=(row.get("link") or "").strip(),
            content_warning=row.get("content_warning") or "",
        )
        if account:
            entry.errors += [
                p.message
                for p in check_variant(
                    provider_key=account.provider,
                    text=item.text,
                    thread=item.thread,
                    first_comment=item.first_comment,
                    link=item.link,
                    content_warning=item.content_warning,
                    account=account,
                )
            ]
        planned.append((item, when, campaign))
    if commit and report.ok:
        with transaction.atomic():
            for item, when, campaign in planned:
                post = services.post_save(
                    actor=actor, variants=[item], campaign_id=campaign.pk if campaign else None
                )
                services.post_schedule(actor=actor, post=post, at=when)
                report.post_ids.append(post.pk)
        report.committed = True
    return report


def _read(data: bytes) -> list[tuple[int, dict[str, str]]]:
    if len(data) > MAX_BYTES:
        raise ServiceError(_("The file is larger than 2 MB; split it."), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError(
            _("The file is not UTF-8 text (byte %(at)s). Save it as CSV UTF-8.")
            % {"at": exc.start},
            field="file",
        ) from exc
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        headers = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [h for h in REQUIRED if h not in headers]
        if missing:
            raise ServiceError(
                _("Missing columns: %(cols)s. The first row must name the columns.")
                % {"cols": ", ".join(missing)},
                field="file",
            )
        reader.fieldnames = headers
        rows = []
        for row in reader:
            if None in row:
                raise ServiceError(
                    _("Line %(line)s has more cells than the header.") % {"line": reader.line_num},
                    field="file",
                )
            if any((v or "").strip() for v in row.values()):
                rows.append((reader.line_num, {k: v or "" for k, v in row.items()}))
            if len(rows) > MAX_ROWS:
                raise ServiceError(
                    _("At most %(n)s rows per file.") % {"n": MAX_ROWS}, field="file"
                )
    except csv.Error as exc:
        raise ServiceError(
            _("This is not valid CSV: %(err)s") % {"err": exc}, field="file"
        ) from exc
    if not rows:
        raise ServiceError(_("The file has no rows to import."), field="file")
    return rows


def _parse_time(raw: str, zone: zoneinfo.ZoneInfo, errors: list[str]) -> datetime | None:
    raw = raw.strip()
    try:
        when = datetime.fromisoformat(raw.replace(" ", "T", 1) if " " in raw else raw)
    except ValueError:
        errors.append(_("scheduled_at must look like 2026-12-01 09:30."))
        return None
    if not 1900 <= when.year <= 8999:  # any zone or offset keeps these a valid time
        errors.append(_("scheduled_at must be a date between the years 1900 and 8999."))
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
        if when.replace(fold=1).utcoffset() != when.utcoffset():
            errors.append(_("This local time happens twice (clocks go back); add an offset."))
        elif when.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(zone).replace(
            tzinfo=None
        ) != when.replace(tzinfo=None):
            errors.append(_("This local time does not exist (clocks go forward)."))
    if when < timezone.now():
        errors.append(_("This time is in the past."))
    return when


def _thread(raw: str) -> list[str]:
    if not raw.strip():
        return []
    parts = raw.split("\n---\n") if "\n---\n" in raw else raw.split(" || ")
    return [part.strip() for part in parts if part.strip()]
