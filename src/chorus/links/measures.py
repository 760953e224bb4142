"""Goal metrics counted by other apps, read through their own selectors so a number means
the same thing on a goal's page as on the Analytics, Inbox and Listening pages.

Links sits above analytics, the inbox and listening in the import order (see
docs/architecture.md), so it may read them; none of them reads links. Imported by
`LinksConfig.ready`, which registers these metrics next to clicks and conversions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Membership
from chorus.analytics import dashboards
from chorus.analytics.selectors import Scope
from chorus.inbox.selectors import response_figures
from chorus.links.metrics import Metric, register_metric
from chorus.listening.selectors import share_of_voice_daily
from chorus.networks.models import SocialAccount


def _days(since: dt.datetime, until: dt.datetime, zone) -> tuple[dt.date, dt.date]:
    return since.astimezone(zone).date(), (until - dt.timedelta(seconds=1)).astimezone(zone).date()


def _scope(workspace_id, campaign_id, since, until, zone) -> Scope:
    """Every account of the workspace: a goal is the workspace's (or its campaign's)."""
    start, end = _days(since, until, zone)
    accounts = SocialAccount.objects.filter(workspace_id=workspace_id).values_list("pk", flat=True)
    return Scope(
        workspace_id=workspace_id,
        zone=str(zone),
        account_ids=tuple(accounts),
        start=start,
        end=end,
        campaign_id=campaign_id,
    )


def _past(until: dt.datetime) -> dt.datetime:
    return min(until, timezone.now())


def engagements_daily(workspace_id, campaign_id, since, until, zone) -> dict[dt.date, Decimal]:
    scope = _scope(workspace_id, campaign_id, since, _past(until), zone)
    if scope.end < scope.start:
        return {}
    return {row["day"]: Decimal(row["total"]) for row in dashboards.engagement_series(scope)}


def engagements_top(workspace_id, campaign_id, since, until, limit) -> list[dict]:
    scope = _scope(workspace_id, campaign_id, since, until, dt.UTC)
    return [
        {
            "post_id": post.variant.post_id if post.variant_id else None,
            "label": (post.variant.post.main_text if post.variant_id else post.text)[:120],
            "value": Decimal(post.total),
        }
        for post in dashboards.ranked_posts(scope, count=limit)
    ]


def followers_daily(workspace_id, campaign_id, since, until, zone) -> dict[dt.date, Decimal]:
    scope = _scope(workspace_id, None, since, _past(until), zone)
    if scope.end < scope.start:
        return {}
    return {
        row["day"]: Decimal(row["followers"])
        for row in dashboards.follower_series(scope)
        if row["followers"] is not None
    }


def response_daily(workspace_id, campaign_id, since, until, zone) -> dict[dt.date, Decimal]:
    """The median first response of each day's conversations, in minutes (the inbox's
    own figure, asked for each day)."""
    reader = Membership(workspace_id=workspace_id)
    found, day = {}, since
    until = _past(until)
    while day < until:
        following = min(until, day + dt.timedelta(days=1))
        median = response_figures(reader, since=day, until=following).median_first_response
        if median is not None:
            found[day.astimezone(zone).date()] = (Decimal(median) / 60).quantize(Decimal("0.1"))
        day = following
    return found


def share_daily(workspace_id, campaign_id, since, until, zone) -> dict[dt.date, Decimal]:
    shares = share_of_voice_daily(
        workspace_id=workspace_id, since=since, until=_past(until), zone=zone
    )
    return {day: Decimal(str(share)) for day, share in shares.items()}


def _none(*args) -> list[dict]:
    return []


register_metric(
    Metric("engagements", _("Engagements"), engagements_daily, engagements_top),
)
register_metric(
    Metric(
        "followers",
        _("Followers"),
        followers_daily,
        _none,
        cumulative=False,
        campaign_scoped=False,
    )
)
register_metric(
    Metric(
        "response_time",
        _("First response time (minutes)"),
        response_daily,
        _none,
        cumulative=False,
        lower_better=True,
        campaign_scoped=False,
    )
)
register_metric(
    Metric(
        "share_of_voice",
        _("Share of voice (%)"),
        share_daily,
        _none,
        cumulative=False,
        campaign_scoped=False,
    )
)
