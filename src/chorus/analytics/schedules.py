"""Scheduled e-mail delivery of saved reports (PDF attached).

Times are local to the workspace. A time that does not exist on the day (the hour skipped
when clocks go forward) moves to the next minute that exists: 02:30 on a spring-forward
night in Europe/Berlin is sent at 03:00. A time that exists twice (clocks go back) is sent
once, at its first occurrence.
"""

from __future__ import annotations

import calendar
import logging
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.analytics.models import Report, ReportSchedule, ScheduleFrequency
from chorus.analytics.pdf import report_pdf
from chorus.analytics.reports import BadReport, check_may_manage
from chorus.core.errors import NotAllowed
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction

log = logging.getLogger(__name__)
MAX_OUTSIDE = 20


def local_moment(day: date, at: time, zone: str) -> datetime:
    """`at` on `day` in `zone`; a time in a DST gap moves to the next minute that exists."""
    tz = zoneinfo.ZoneInfo(zone or "UTC")
    naive = datetime.combine(day, at.replace(second=0, microsecond=0))
    for _minute in range(24 * 60):
        moment = naive.replace(tzinfo=tz, fold=0)
        if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
            return moment
        naive += timedelta(minutes=1)
    raise ValueError("no valid local time")  # pragma: no cover - no zone skips a day of minutes


def next_run(schedule: ReportSchedule, zone: str, after: datetime) -> datetime:
    """The first delivery strictly after `after`."""
    tz = zoneinfo.ZoneInfo(zone or "UTC")
    day = after.astimezone(tz).date()
    for _step in range(400):
        if schedule.frequency == ScheduleFrequency.WEEKLY:
            due = day.weekday() == schedule.weekday
        else:
            last = calendar.monthrange(day.year, day.month)[1]
            due = day.day == min(schedule.day_of_month, last)
        if due:
            moment = local_moment(day, schedule.local_time, zone)
            if moment > after:
                return moment
        day += timedelta(days=1)
    raise ValueError("no next run")  # pragma: no cover


def clean_outside(addresses: list[str]) -> list[str]:
    """Outside addresses, checked one by one; the first bad one is named."""
    cleaned = []
    for raw in addresses:
        address = raw.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise BadReport(
                _("“%(address)s” is not an e-mail address.") % {"address": address[:80]},
                field="outside_emails",
            ) from None
        if address.lower() not in (a.lower() for a in cleaned):
            cleaned.append(address)
    if len(cleaned) > MAX_OUTSIDE:
        raise BadReport(
            _("At most %(count)d outside addresses.") % {"count": MAX_OUTSIDE},
            field="outside_emails",
        )
    return cleaned


@transaction.atomic
def schedule_save(
    *,
    actor: Membership,
    report: Report,
    frequency: str,
    local_time: time,
    weekday: int = 0,
    day_of_month: int = 1,
    member_ids: list[int] = (),
    outside_emails: list[str] = (),
    now: datetime | None = None,
) -> ReportSchedule:
    """Schedule a report's delivery (editors and up)."""
    check_may_manage(actor)
    if report.workspace_id != actor.workspace_id:
        raise NotAllowed(_("No such report."))
    if frequency not in ScheduleFrequency.values:
        raise BadReport(_("Choose weekly or monthly."), field="frequency")
    if not 0 <= weekday <= 6:
        raise BadReport(_("Choose a weekday."), field="weekday")
    if not 1 <= day_of_month <= 31:
        raise BadReport(_("Choose a day of the month from 1 to 31."), field="day_of_month")
    members = list(Membership.objects.filter(workspace=actor.workspace, pk__in=member_ids))
    if len(members) != len(set(member_ids)):
        raise BadReport(_("Choose recipients among the workspace's members."), field="members")
    outside = clean_outside(list(outside_emails))
    if not members and not outside:
        raise BadReport(_("Choose at least one recipient."), field="members")
    schedule = ReportSchedule(
        report=report,
        frequency=frequency,
        weekday=weekday,
        day_of_month=day_of_month,
        local_time=local_time,
        outside_emails=outside,
        created_by=actor,
    )
    schedule.next_run_at = next_run(schedule, actor.workspace.timezone, now or timezone.now())
    schedule.save()
    schedule.members.set(members)
    audit_record(
        action=AuditAction.REPORT_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=report,
        changes={"event": "scheduled", "frequency": frequency, "outside": outside},
    )
    return schedule


def schedule_delete(*, actor: Membership, schedule: ReportSchedule) -> None:
    check_may_manage(actor)
    audit_record(
        action=AuditAction.REPORT_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=schedule.report,
        changes={"event": "unscheduled"},
    )
    schedule.delete()


def _mail(report: Report, reader: Membership, language: str, to: list[str]) -> None:
    with translation.override(language):
        name, pdf = report_pdf(membership=reader, report=report)
        subject = _("Report: %(name)s") % {"name": report.name}
        body = _(
            "The report “%(name)s” of %(workspace)s is attached as PDF. You receive it "
            "because it is scheduled to be sent to you."
        ) % {"name": report.name, "workspace": report.workspace.name}
    message = EmailMessage(subject, body, None, to)
    message.attach(name, pdf, "application/pdf")
    message.send()


def deliver(schedule: ReportSchedule) -> int:
    """Send one schedule: each member gets the report as they may read it, in their
    language; outside addresses get it as the schedule's author reads it, in the
    workspace's default language. Returns e-mails sent."""
    report = schedule.report
    sent = 0
    for member in schedule.members.select_related("user", "workspace"):
        try:
            _mail(report, member, member.user.language, [member.user.email])
            sent += 1
        except NotAllowed as exc:
            log.warning("report %s not sent to member %s: %s", report.pk, member.pk, exc.message)
    author = schedule.created_by
    if schedule.outside_emails and author is not None:
        try:
            _mail(report, author, author.user.language, list(schedule.outside_emails))
            sent += 1
        except NotAllowed as exc:
            log.warning("report %s not sent outside: %s", report.pk, exc.message)
    return sent


def send_due(now: datetime | None = None) -> int:
    """Send every schedule whose time has come, then set its next run (a delivery missed
    while the worker was down is sent once, not once per missed period)."""
    now = now or timezone.now()
    sent = 0
    due = ReportSchedule.objects.filter(next_run_at__lte=now).select_related(
        "report__workspace", "created_by__user"
    )
    for schedule in due:
        with transaction.atomic():
            locked = ReportSchedule.objects.select_for_update().filter(pk=schedule.pk).first()
            if locked is None or locked.next_run_at > now:
                continue  # another worker took it
            zone = schedule.report.workspace.timezone
            locked.next_run_at = next_run(locked, zone, now)
            locked.last_sent_at = now
            locked.save(update_fields=["next_run_at", "last_sent_at"])
        sent += deliver(schedule)
    return sent
