"""API for analytics: the same figures, series and best times as the pages (chorus.analytics)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status

from chorus.accounts.scopes import Scope
from chorus.analytics import besttime, competitors, dashboards, figures, reports
from chorus.analytics.compare import compare
from chorus.analytics.export import saved_report_csv
from chorus.analytics.pdf import report_pdf
from chorus.analytics.selectors import access_scope, access_tracked_post
from chorus.api.auth import member
from chorus.api.inputs import Day, PathId, RefId

router = Router(tags=["analytics"])


class ScopeIn(Schema):
    """Which posts and accounts, over which days (the workspace's calendar days, inclusive;
    default: the last 28 days). Accounts you have no analytics on are refused by name."""

    start: Day | None = None
    end: Day | None = None
    account: list[RefId] = []
    network: str = ""
    campaign: RefId | None = None
    author: RefId | None = None
    language: str = ""

    def scope(self, membership):
        return access_scope(
            membership=membership,
            account_ids=self.account or None,
            network=self.network,
            campaign_id=self.campaign,
            author_id=self.author,
            language=self.language,
            start=self.start,
            end=self.end,
        )


class FigureOut(Schema):
    key: str
    label: str
    definition: str
    unit: str  # count, percent, per_week
    value: float | None  # null: the network does not report it
    previous: float | None  # the same number of days just before
    change_percent: float | None


class FiguresOut(Schema):
    start: dt.date
    end: dt.date
    accounts: list[int]
    figures: list[FigureOut]


class DayOut(Schema):
    day: dt.date
    likes: int
    reposts: int
    replies: int
    quotes: int
    other_engagements: dict[str, int]  # engagement figures beyond the networks' counts
    engagements: int  # all of the above: {"link_clicks": 3}
    followers: int | None


class SnapshotOut(Schema):
    collected_at: dt.datetime
    likes: int
    reposts: int
    replies: int
    quotes: int
    impressions: int | None


class PostFiguresOut(Schema):
    id: int
    account: int
    post: int | None  # the Chorus post, when made with Chorus
    remote_id: str
    url: str
    published_at: dt.datetime
    deleted_at: dt.datetime | None
    next_collect_at: dt.datetime | None
    figures: list[FigureOut]
    snapshots: list[SnapshotOut]


class SuggestionOut(Schema):
    weekday: int  # 0 = Monday
    hour: int  # in the workspace's time zone
    average_engagements: float | None
    posts: int
    confidence: str  # high, medium, low; "" for the default


class BestTimesOut(Schema):
    account: int
    time_zone: str
    posts: int
    is_default: bool  # not enough history: general starting times, not learnt
    suggestions: list[SuggestionOut]
    grid: list[list[int | float | None]]  # 7 × 24 average engagements (null: no post)
    posts_grid: list[list[int]]  # 7 × 24 posts behind each cell


def _figure(value: figures.FigureValue) -> dict:
    figure = value.figure
    return {
        "key": figure.key,
        "label": str(figure.label),
        "definition": str(figure.definition),
        "unit": figure.unit,
        "value": value.value,
        "previous": value.previous,
        "change_percent": None if value.change is None else round(value.change, 1),
    }


@router.get("/analytics/figures", response=FiguresOut, auth=member(Scope.ANALYTICS_READ))
def analytics_figures(request, filters: Query[ScopeIn]):
    """Every figure over the period and the one before (see docs/analytics.md)."""
    scope = filters.scope(request.membership)
    return {
        "start": scope.start,
        "end": scope.end,
        "accounts": list(scope.account_ids),
        "figures": [_figure(v) for v in figures.overview(scope)],
    }


@router.get("/analytics/days", response=list[DayOut], auth=member(Scope.ANALYTICS_READ))
def analytics_days(request, filters: Query[ScopeIn]):
    """One row per day of the period: what posts gained that day, and followers."""
    scope = filters.scope(request.membership)
    followers = {r["day"]: r["followers"] for r in dashboards.follower_series(scope)}
    return [
        {
            **row,
            "other_engagements": {p.key: row[p.key] for p in figures.other_engagement_parts()},
            "engagements": row["total"],
            "followers": followers[row["day"]],
        }
        for row in dashboards.engagement_series(scope)
    ]


@router.get(
    "/analytics/posts/{tracked_id}", response=PostFiguresOut, auth=member(Scope.ANALYTICS_READ)
)
def analytics_post(request, tracked_id: PathId):
    """One post's lifetime figures and every reading taken of it."""
    post = access_tracked_post(membership=request.membership, tracked_id=tracked_id)
    return {
        "id": post.pk,
        "account": post.account_id,
        "post": post.variant.post_id if post.variant else None,
        "remote_id": post.remote_id,
        "url": post.url,
        "published_at": post.published_at,
        "deleted_at": post.deleted_at,
        "next_collect_at": post.next_collect_at,
        "figures": [
            _figure(figures.FigureValue(f, value, None)) for f, value in figures.of_post(post)
        ],
        "snapshots": list(post.snapshots.all()),
    }


@router.get("/analytics/best-times", response=BestTimesOut, auth=member(Scope.ANALYTICS_READ))
def analytics_best_times(request, account: RefId | None = None):
    """Best weekdays and hours to post for one account (default: the first you have
    analytics on), from its own history."""
    best = besttime.access_best_times(membership=request.membership, account_id=account)
    return {
        "account": best.account.pk,
        "time_zone": best.zone,
        "posts": best.posts,
        "is_default": best.is_default,
        "suggestions": [
            {
                "weekday": s.weekday,
                "hour": s.hour,
                "average_engagements": s.average,
                "posts": s.posts,
                "confidence": s.confidence,
            }
            for s in best.suggestions
        ],
        "grid": [[c.average for c in row] for row in best.grid],
        "posts_grid": [[c.posts for c in row] for row in best.grid],
    }


class ReportOut(Schema):
    id: int
    name: str
    sections: list[str]
    period: str  # last_7, last_28, last_90, last_month
    accounts: list[int]  # empty: every account the reader has analytics on
    campaign: int | None
    csv_url: str
    pdf_url: str


@router.get("/analytics/reports", response=list[ReportOut], auth=member(Scope.ANALYTICS_READ))
def analytics_reports(request):
    """The workspace's saved reports (their choices; numbers come with the downloads)."""
    return [
        {
            "id": r.pk,
            "name": r.name,
            "sections": r.sections,
            "period": r.period,
            "accounts": [a.pk for a in r.accounts.all()],
            "campaign": r.campaign_id,
            "csv_url": f"/api/v1/analytics/reports/{r.pk}/csv",
            "pdf_url": f"/api/v1/analytics/reports/{r.pk}/pdf",
        }
        for r in reports.reports_of(request.membership)
    ]


@router.get("/analytics/reports/{report_id}/csv", auth=member(Scope.ANALYTICS_READ))
def analytics_report_csv(request, report_id: PathId):
    """A saved report as CSV over its period as of today, for the accounts you have
    analytics on (an account of the report you have none on is refused by name)."""
    report = reports.access_report(membership=request.membership, report_id=report_id)
    scope = reports.report_scope(membership=request.membership, report=report)
    name, text = saved_report_csv(report, scope)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/analytics/reports/{report_id}/pdf", auth=member(Scope.ANALYTICS_READ))
def analytics_report_pdf(request, report_id: PathId):
    """A saved report as PDF with its charts, in the caller's language."""
    report = reports.access_report(membership=request.membership, report_id=report_id)
    name, pdf = report_pdf(membership=request.membership, report=report)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class CompetitorIn(Schema):
    network: str  # bluesky, mastodon
    address: str  # brand.bsky.social, @brand@mastodon.social, or a profile URL


class CompetitorOut(Schema):
    id: int
    network: str
    handle: str
    display_name: str
    profile_url: str
    last_collected_at: dt.datetime | None
    gone: bool  # the network says the account no longer exists; its history is kept
    last_error: str


class SideOut(Schema):
    kind: str  # ours, competitor
    id: int  # the social account's or the competitor's id
    label: str
    network: str
    followers: list[int | None]  # one per day of the period (null: not read yet)
    posts: int  # published in the period
    posts_per_week: float
    engagements_per_post: float | None  # null: no post in the period
    gone: bool


class TopPostOut(Schema):
    side: str  # "account-3", "competitor-5"
    text: str
    url: str
    published_at: dt.datetime
    likes: int
    reposts: int
    replies: int
    quotes: int
    engagements: int


class ComparisonOut(Schema):
    start: dt.date
    end: dt.date
    days: list[dt.date]
    sides: list[SideOut]
    top_posts: list[TopPostOut]


def _competitor(c) -> dict:
    return {
        "id": c.pk,
        "network": c.provider,
        "handle": c.handle,
        "display_name": c.display_name,
        "profile_url": c.profile_url,
        "last_collected_at": c.last_collected_at,
        "gone": c.gone_at is not None,
        "last_error": c.last_error,
    }


@router.get(
    "/analytics/competitors", response=list[CompetitorOut], auth=member(Scope.ANALYTICS_READ)
)
def analytics_competitors(request):
    """The workspace's competitors (readable with analytics on at least one account)."""
    return [_competitor(c) for c in competitors.competitors_of(request.membership)]


@router.post(
    "/analytics/competitors", response={201: CompetitorOut}, auth=member(Scope.ANALYTICS_WRITE)
)
def analytics_competitor_add(request, data: CompetitorIn):
    """Follow a public Bluesky or Mastodon account; its profile is read at once (an
    address the network does not know is refused), then daily."""
    competitor = competitors.competitor_add(
        actor=request.membership, provider_key=data.network, address=data.address
    )
    return Status(201, _competitor(competitor))


@router.get(
    "/analytics/competitors/compare", response=ComparisonOut, auth=member(Scope.ANALYTICS_READ)
)
def analytics_competitors_compare(request, filters: Query[ScopeIn]):
    """Competitors side by side with your accounts over the period (default: 28 days):
    followers per day, posting frequency, engagements per post and top posts."""
    followed = list(competitors.competitors_of(request.membership))
    scope = filters.scope(request.membership)
    comparison = compare(scope, followed)
    return {
        "start": scope.start,
        "end": scope.end,
        "days": comparison.days,
        "sides": [
            {
                "kind": "ours" if side.ours else "competitor",
                "id": int(side.key.rsplit("-", 1)[1]),
                "label": side.label,
                "network": side.network,
                "followers": side.followers,
                "posts": side.posts,
                "posts_per_week": comparison.per_week(side),
                "engagements_per_post": comparison.per_post(side),
                "gone": side.gone,
            }
            for side in comparison.sides
        ],
        "top_posts": [
            {
                "side": post.side.key,
                "text": post.text,
                "url": post.url,
                "published_at": post.published_at,
                "likes": post.likes,
                "reposts": post.reposts,
                "replies": post.replies,
                "quotes": post.quotes,
                "engagements": post.engagements,
            }
            for post in comparison.top_posts
        ],
    }


@router.delete(
    "/analytics/competitors/{competitor_id}",
    response={204: None},
    auth=member(Scope.ANALYTICS_WRITE),
)
def analytics_competitor_remove(request, competitor_id: PathId):
    """Stop comparing with this account; its collected history goes with it."""
    competitor = competitors.access_competitor(
        membership=request.membership, competitor_id=competitor_id
    )
    competitors.competitor_remove(actor=request.membership, competitor=competitor)
    return Status(204, None)
