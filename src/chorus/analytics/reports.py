"""Saved reports: what a report may show, its rolling period, and the writes and reads.

A report stores only its choices; its numbers come from the same `access_scope`, figures
and dashboard reads as the Analytics page, run for whoever opens it (never a second
computation, never another member's permissions).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.analytics.figures import FIGURES
from chorus.analytics.models import Report, ReportPeriod
from chorus.analytics.selectors import Scope, access_scope
from chorus.core.errors import NotAllowed, NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction

# Dashboard charts and lists a report may include, next to every registered figure.
CHARTS = {
    "engagement_chart": gettext_lazy("Engagements per day"),
    "follower_chart": gettext_lazy("Followers per day"),
    "by_account": gettext_lazy("Engagements by account"),
    "by_network": gettext_lazy("Engagements by network"),
    "heatmap": gettext_lazy("When your posts went out"),
    "top_posts": gettext_lazy("Top posts"),
    "bottom_posts": gettext_lazy("Bottom posts"),
}
# Sections other apps add to reports (links: goals), registered from their AppConfig.ready:
# key -> Section. Analytics sits below them, so it learns of them only here.
SECTIONS: dict[str, Section] = {}


@dataclass(frozen=True)
class Section:
    label: str
    template: str  # drawn with `data` in its context
    data: Callable[[Scope], object]  # what it shows for a report's scope


def register_section(key: str, section: Section) -> None:
    SECTIONS[key] = section


PERIOD_DAYS = {ReportPeriod.LAST_7: 7, ReportPeriod.LAST_28: 28, ReportPeriod.LAST_90: 90}


def section_choices() -> list[tuple[str, str]]:
    """Every figure of the registry (one registered later shows up here), then the charts."""
    return (
        [(key, figure.label) for key, figure in FIGURES.items()]
        + list(CHARTS.items())
        + [(key, section.label) for key, section in SECTIONS.items()]
    )


class BadReport(ServiceError):
    """A report that cannot be saved as asked."""


def period_dates(period: str, today: date) -> tuple[date, date]:
    """The whole local days a rolling period covers on `today`: the last N days up to
    yesterday (today is not over), or the last whole calendar month."""
    if period == ReportPeriod.LAST_MONTH:
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    days = PERIOD_DAYS[ReportPeriod(period)]
    end = today - timedelta(days=1)
    return end - timedelta(days=days - 1), end


def local_today(workspace) -> date:
    """Today in the workspace's time zone (tests replace it to pin the date)."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(workspace.timezone or "UTC")).date()


def report_scope(*, membership: Membership, report: Report, today: date | None = None) -> Scope:
    """The report's scope for this reader, checked like the Analytics page: an account the
    reader has no analytics on is refused by name."""
    start, end = period_dates(report.period, today or local_today(membership.workspace))
    return access_scope(
        membership=membership,
        account_ids=[a.pk for a in report.accounts.all()] or None,
        campaign_id=report.campaign_id,
        start=start,
        end=end,
    )


def reports_of(membership: Membership):
    return Report.objects.filter(workspace=membership.workspace).prefetch_related("accounts")


def access_report(*, membership: Membership, report_id: int) -> Report:
    report = reports_of(membership).select_related("campaign").filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such report."))
    return report


def may_manage(actor: Membership) -> bool:
    """Reports are shared by the workspace: editors and up build, change and delete them;
    every member reads them (for the accounts they have analytics on)."""
    return role_can(actor.role, Capability.MANAGE_REPORTS)


def check_may_manage(actor: Membership) -> None:
    if not may_manage(actor):
        raise NotAllowed(_("Only editors, admins and owners may build or change reports."))


@transaction.atomic
def report_save(
    *,
    actor: Membership,
    name: str,
    sections: list[str],
    period: str,
    account_ids: list[int],
    campaign_id: int | None = None,
    report: Report | None = None,
) -> Report:
    """Create or change a report (editors and up), who must have analytics on every
    account chosen (checked through `access_scope`, the same rule as reading)."""
    check_may_manage(actor)
    name = (name or "").strip()
    if not name:
        raise BadReport(_("Give the report a name."), field="name")
    known = dict(section_choices())
    unknown = [s for s in sections if s not in known]
    if unknown:
        raise BadReport(_("Unknown section: %(names)s.") % {"names": ", ".join(unknown)})
    if not sections:
        raise BadReport(_("Choose at least one section."), field="sections")
    if period not in ReportPeriod.values:
        raise BadReport(_("Choose a period from the list."), field="period")
    access_scope(membership=actor, account_ids=account_ids or None, campaign_id=campaign_id)
    created = report is None
    if created:
        report = Report(workspace=actor.workspace, created_by=actor)
    elif report.workspace_id != actor.workspace_id:
        raise NotFound(_("No such report."))
    report.name = name[:120]
    report.sections = [key for key in known if key in sections]  # registry order
    report.period = period
    report.campaign_id = campaign_id
    report.save()
    report.accounts.set(account_ids)
    audit_record(
        action=AuditAction.REPORT_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=report,
        changes={
            "event": "created" if created else "changed",
            "sections": report.sections,
            "period": period,
            "accounts": account_ids,
        },
    )
    return report


def report_delete(*, actor: Membership, report: Report) -> None:
    """Delete a report (editors and up)."""
    check_may_manage(actor)
    audit_record(
        action=AuditAction.REPORT_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=report,
        changes={"event": "deleted"},
    )
    report.delete()
