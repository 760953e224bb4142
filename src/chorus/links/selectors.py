"""Reads for links: short links with their figures, conversions, goals and their progress."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.core.errors import NotFound
from chorus.links import goals
from chorus.links.metrics import METRICS
from chorus.links.models import Click, Conversion, Goal, ShortLink


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
        .annotate(click_count=_count_per_link(Click), conversion_count=_count_per_link(Conversion))
        .order_by("-created_at", "-pk")
    )


def _count_per_link(model) -> Coalesce:
    """A link's rows of `model`, counted in a subquery of their own: counted per link shown,
    where joining both tables would multiply every click by every conversion of the link."""
    counted = (
        model.objects.filter(link=OuterRef("pk"))
        .order_by()
        .values("link")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


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


def goals_with_progress(membership: Membership, *, running_only: bool = False) -> list[dict]:
    """Each goal with its progress and metric (the goals page, the overview)."""
    return goals_for(membership.workspace, running_only=running_only)


def goals_for(workspace, *, campaign_id: int | None = None, running_only: bool = False):
    """A workspace's goals (one campaign's, when given) with their progress and metric;
    `running_only` leaves out those whose deadline has passed."""
    rows = Goal.objects.filter(workspace=workspace).select_related("campaign", "workspace")
    if campaign_id:
        rows = rows.filter(campaign_id=campaign_id)
    if running_only:
        rows = rows.filter(deadline__gte=timezone.now().astimezone(zone_of(workspace)).date())
    return [
        {"goal": goal, "progress": goal_progress(goal), "metric": METRICS[goal.metric]}
        for goal in rows.order_by("deadline", "pk")
        if goal.metric in METRICS
    ]


def report_goals(scope) -> list[dict]:
    """A saved report's goals section: the running goals of its campaign, or all of the
    workspace's."""
    from chorus.accounts.models import Workspace

    workspace = Workspace.objects.get(pk=scope.workspace_id)
    return goals_for(workspace, campaign_id=scope.campaign_id, running_only=True)


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
    """A cumulative metric's sum over the days, a level's latest reading (0 if none)."""
    daily = metric_daily(**kwargs)
    if METRICS[kwargs["metric"]].cumulative:
        return sum(daily.values(), Decimal(0))
    return daily[max(daily)] if daily else Decimal(0)


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
    metric = METRICS[goal.metric]
    return goals.evaluate(
        target=goal.target,
        starts_on=goal.starts_on,
        deadline=goal.deadline,
        today=today,
        daily=daily,
        cumulative=metric.cumulative,
        lower_better=metric.lower_better,
        baseline=goal.baseline,
    )


def goal_contributors(goal: Goal, *, limit: int = 5) -> list[dict]:
    zone = zone_of(goal.workspace)
    since, until = _bounds(goal.starts_on, goal.deadline, zone)
    return METRICS[goal.metric].contributors(
        goal.workspace_id, goal.campaign_id, since, until, limit
    )
