"""Response-target warnings: business hours, due times and who is told.

The first-response target counts only business hours (per workspace, weekday open and
close times in the workspace's zone; none set means around the clock), so a message that
arrives on Friday evening with a one-hour target is due an hour after Monday's opening.
`warn_due` (a Huey task every minute) tells the assignee, or the workspace's owners and
admins when nobody is assigned, once at 80% of the target and once when it has passed, in
the app and by e-mail in their language; `Conversation.target_stage` records which warning
went out so a stage is never sent twice, even by two workers.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership, Workspace
from chorus.accounts.recipients import speaking_to, zone_of
from chorus.inbox.models import Conversation, ConversationStatus, InboxSettings

NEARING = 1
PAST = 2
NEARING_SHARE = 0.8
WEEK_LIMIT = 60  # weeks searched for open hours before giving up (a malformed table)


@dataclass(frozen=True)
class Hours:
    """Open (start, end) local times per weekday (0 Monday); empty: always open."""

    days: dict[int, tuple[time, time]]
    zone: zoneinfo.ZoneInfo

    @classmethod
    def of(cls, settings: InboxSettings, workspace: Workspace) -> Hours:
        return cls(
            parse_hours(settings.business_hours), zoneinfo.ZoneInfo(zone_of(None, workspace))
        )


def parse_hours(raw) -> dict[int, tuple[time, time]]:
    """{"0": ["09:00", "17:00"], …} as weekday -> (open, close); bad or empty days skipped."""
    days: dict[int, tuple[time, time]] = {}
    if not isinstance(raw, dict):
        return days
    for key, value in raw.items():
        try:
            day = int(key)
            opens, closes = (time.fromisoformat(v) for v in value)
        except (TypeError, ValueError):
            continue
        if 0 <= day <= 6 and opens < closes:
            days[day] = (opens, closes)
    return days


def add_business_time(start: datetime, span: timedelta, hours: Hours) -> datetime:
    """The moment `span` of open time has passed since `start`."""
    if not hours.days:
        return start + span
    left = span
    cursor = start.astimezone(hours.zone)
    day: date = cursor.date()
    for _step in range(WEEK_LIMIT * 7):
        window = hours.days.get(day.weekday())
        if window is not None:
            opens = datetime.combine(day, window[0], tzinfo=hours.zone)
            closes = datetime.combine(day, window[1], tzinfo=hours.zone)
            begin = max(cursor, opens)
            if begin < closes:
                if begin + left <= closes:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0), tzinfo=hours.zone)
    return start + span  # no open hours found: count around the clock


def due_times(conversation: Conversation, minutes: int, hours: Hours) -> tuple[datetime, datetime]:
    """(nearing, due): when 80% of the target has passed, and when all of it has."""
    start = conversation.created_at
    nearing = add_business_time(start, timedelta(minutes=minutes * NEARING_SHARE), hours)
    return nearing, add_business_time(start, timedelta(minutes=minutes), hours)


def awaiting(workspace_id: int):
    """Open conversations still waiting for their first response (spam left out)."""
    return Conversation.objects.filter(
        workspace_id=workspace_id,
        status=ConversationStatus.OPEN,
        first_response_at=None,
        spam=False,
    )


def _recipients(conversation: Conversation) -> list[Membership]:
    if conversation.assignee_id:
        return [conversation.assignee]
    return list(
        Membership.objects.filter(
            workspace_id=conversation.workspace_id, role__in=("owner", "admin")
        ).select_related("user")
    )


def _tell(conversation: Conversation, stage: int, due: datetime) -> None:
    from chorus.accounts.recipients import moment_text
    from chorus.accounts.services import notify

    who = conversation.contact.handle if conversation.contact else conversation.account.label
    for member in _recipients(conversation):
        with speaking_to(member.user, conversation.workspace):
            if stage == PAST:
                message = _(
                    "The conversation with %(who)s has had no first response and is past the "
                    "response target (due %(due)s)."
                ) % {"who": who, "due": moment_text(due)}
            else:
                message = _("The conversation with %(who)s needs a first response by %(due)s.") % {
                    "who": who,
                    "due": moment_text(due),
                }
        notify(
            user=member.user,
            workspace=conversation.workspace,
            message=message,
            url=f"/inbox/?c={conversation.pk}",
        )


def warn_due(now: datetime | None = None) -> int:
    """Send the warnings that are due everywhere; returns how many conversations moved on."""
    now = now or timezone.now()
    moved = 0
    workspaces = awaiting_workspaces()
    for workspace in Workspace.objects.filter(pk__in=workspaces):
        settings, _created = InboxSettings.objects.get_or_create(workspace=workspace)
        hours = Hours.of(settings, workspace)
        rows = awaiting(workspace.pk).filter(target_stage__lt=PAST)
        for conversation in rows.select_related("assignee__user", "contact", "account"):
            nearing, due = due_times(conversation, settings.first_response_minutes, hours)
            stage = PAST if now >= due else NEARING if now >= nearing else 0
            if stage <= conversation.target_stage:
                continue
            claimed = Conversation.objects.filter(
                pk=conversation.pk, target_stage__lt=stage, first_response_at=None
            ).update(target_stage=stage)
            if claimed:  # another worker did not send it first
                conversation.workspace = workspace
                _tell(conversation, stage, due)
                moved += 1
    return moved


def awaiting_workspaces() -> list[int]:
    return list(
        Conversation.objects.filter(
            status=ConversationStatus.OPEN,
            first_response_at=None,
            spam=False,
            target_stage__lt=PAST,
        )
        .values_list("workspace_id", flat=True)
        .distinct()
    )


def set_timers(conversations, workspace: Workspace, now: datetime | None = None) -> None:
    """Give each open, unanswered conversation of a list page its timer badge:
    `timer_due` (when the target runs out) and `timer_stage` (0 on time, 1 nearing, 2 past)."""
    now = now or timezone.now()
    waiting = [
        c
        for c in conversations
        if c.status == ConversationStatus.OPEN and c.first_response_at is None and not c.spam
    ]
    if not waiting:
        return
    settings, _created = InboxSettings.objects.get_or_create(workspace=workspace)
    hours = Hours.of(settings, workspace)
    for conversation in waiting:
        nearing, due = due_times(conversation, settings.first_response_minutes, hours)
        conversation.timer_due = due
        conversation.timer_stage = PAST if now >= due else NEARING if now >= nearing else 0
