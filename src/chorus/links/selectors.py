"""Reads for links: short links with their figures, conversions, goals and their progress."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.core.errors import NotFound
from chorus.links import goals
from chorus.links.metrics import METRICS
from chorus.links.models import Conversion, Goal, ShortLink


def zone_of(workspace) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(workspace.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def access_link(membership: Membership, link_id: int) -> ShortLink:
    link = ShortLink.objects.filter(workspace_id=membership.workspace_id, pk=link_id).first()
    if link is None:
        raise NotFound(_("No such link."))
    return link


def links_of(membership: Membership, *, campaign_id: int | None = None):
    """The workspace's short links, newest first, with clicks and conversions counted."""
    rows = ShortLink.objects.filter(workspace_id=membership.workspace_id)
    if campaign_id:
        rows = rows.filter(campaign_id=campaign_id)
    return (
        rows.select_related("account", "campaign")
        .annotate(
            click_count=Count("clicks", distinct=True),
            conversion_count=Count("conversions", distinct=True),
        )
        .order_by("-created_at", "-pk")
    )


def conversion_summary(membership: Membership) -> dict:
    """Attributed and unattributed conversions, counted apart (per currency for values)."""
    rows = Conversion.objects.filter(workspace_id=membership.workspace_id)
    attributed = Q(link__isnull=False)
    totals = rows.aggregate(
        attributed=Count("id", filter=attributed), unattributed=Count("id", filter=~attributed)
    )
    values = (
        rows.exclude(currency="")
        .values("currency")
        .annotate(
            attributed=Sum("value", filter=attributed),
            unattributed=Sum("value", filter=~attributed),
        )
        .order_by("currency")
    )
    return {**totals, "values": list(values)}


def conversions_of(membership: Membership, *, attributed: bool | None = None):
    rows = Conversion.objects.filter(workspace_id=membership.workspace_id)
    if attributed is not None:
        rows = rows.filter(link__isnull=not attributed)
    return rows.select_related("link", "campaign", "account").order_by("-at", "-pk")


def access_goal(membership: Membership, goal_id: int) -> Goal:
    goal = (
        Goal.objects.filter(workspace_id=membership.workspace_id, pk=goal_id)
        .select_related("campaign")
        .first()
    )
    if goal is None:
        raise NotFound(_("No such goal."))
    return goal


def goals_of(membership: Membership):
    return (
        Goal.objects.filter(workspace_id=membership.workspace_id)
        .select_related("campaign")
        .order_by("deadline", "pk")
    )


def _bounds(first: dt.date, last: dt.date, zone) -> tuple[dt.datetime, dt.datetime]:
    since = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return since, until


def metric_daily(
    *, workspace, campaign_id: int | None, metric: str, first: dt.date, last: dt.date
) -> dict[dt.date, Decimal]:
    zone = zone_of(workspace)
    since, until = _bounds(first, last, zone)
    return METRICS[metric].daily(workspace.pk, campaign_id, since, until, zone)


def metric_total(**kwargs) -> Decimal:
    return sum(metric_daily(**kwargs).values(), Decimal(0))


def goal_progress(goal: Goal, *, today: dt.date | None = None) -> goals.Progress:
    zone = zone_of(goal.workspace)
    today = today or timezone.now().astimezone(zone).date()
    daily = metric_daily(
        workspace=goal.workspace,
        campaign_id=goal.campaign_id,
        metric=goal.metric,
        first=goal.starts_on,
        last=goal.deadline,
    )
    return goals.evaluate(
        target=goal.target,
        starts_on=goal.starts_on,
        deadline=goal.deadline,
        today=today,
        daily=daily,
    )


def goal_contributors(goal: Goal, *, limit: int = 5) -> list[dict]:
    zone = zone_of(goal.workspace)
    since, until = _bounds(goal.starts_on, goal.deadline, zone)
    return METRICS[goal.metric].contributors(
        goal.workspace_id, goal.campaign_id, since, until, limit
    )
