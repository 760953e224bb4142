"""API for links: short links and their figures, conversions from the site's server, goals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts.roles import Capability
from chorus.accounts.scopes import Scope
from chorus.accounts.services import check_capability
from chorus.api.auth import member
from chorus.api.inputs import Moment, PathId
from chorus.core.errors import ServiceError
from chorus.links import selectors, services, shortening, value

router = Router(tags=["links"])

MAX_CONVERSION_BYTES = 4096


class LinkOut(Schema):
    id: int
    code: str
    short_url: str
    target: str
    original_url: str
    network: str
    post_id: int | None
    campaign_id: int | None
    account_id: int | None
    disabled: bool
    clicks: int
    conversions: int
    created_at: dt.datetime

    @staticmethod
    def resolve_short_url(obj) -> str:
        return shortening.short_url(shortening.settings_of(obj.workspace_id), obj.code)

    @staticmethod
    def resolve_clicks(obj) -> int:
        return obj.click_count

    @staticmethod
    def resolve_conversions(obj) -> int:
        return obj.conversion_count


class LinkPatch(Schema):
    disabled: bool


@router.get("/links", response=list[LinkOut], auth=member(Scope.LINKS_READ))
@paginate
def link_list(request):
    """The workspace's short links, newest first, with clicks and conversions."""
    return selectors.links_of(request.membership)


@router.patch("/links/{link_id}", response=LinkOut, auth=member(Scope.LINKS_WRITE))
def link_update(request, link_id: PathId, data: LinkPatch):
    """Turn a short link off (it shows a clear page, no redirect) or on again."""
    check_capability(request.membership, Capability.PUBLISH_POSTS)  # before revealing a link
    link = selectors.access_link(request.membership, link_id)
    services.link_set_disabled(actor=request.membership, link=link, disabled=data.disabled)
    return selectors.links_of(request.membership).get(pk=link.pk)


UtmValue = Field("", max_length=100)


class UtmIn(Schema):
    utm_source: str = UtmValue
    utm_medium: str = UtmValue
    utm_campaign: str = UtmValue
    utm_content: str = UtmValue


class ConversionIn(Schema):
    order_id: str = Field(
        "", max_length=200, description="your order id: reported twice, counted once"
    )
    value: Decimal = Field(Decimal(0), ge=0, le=Decimal("999999999999"), decimal_places=2)
    currency: str = Field("", max_length=3, description="ISO 4217, e.g. THB")
    click_id: str = Field("", max_length=64, description="chorus_click from the landing page")
    utm: UtmIn | None = None
    occurred_at: Moment | None = None


class ConversionOut(Schema):
    id: int
    order_id: str
    value: Decimal
    currency: str
    at: dt.datetime
    source: str
    attributed: bool
    unattributed_reason: str
    link_id: int | None
    post_id: int | None
    campaign_id: int | None
    account_id: int | None
    network: str


@router.post(
    "/conversions",
    response={200: ConversionOut, 201: ConversionOut},
    auth=member(Scope.CONVERSIONS_WRITE),
)
def conversion_create(request, data: ConversionIn):
    """Record a conversion from your server. Idempotent on `order_id`: a second report of
    the same order answers 200 with the first one. Unknown click ids are kept unattributed."""
    if len(request.body) > MAX_CONVERSION_BYTES:
        raise ServiceError(_("The report is too large."), code="too_large")
    conversion, created = services.conversion_report(
        actor=request.membership,
        order_id=data.order_id,
        value=data.value,
        currency=data.currency,
        click_token=data.click_id,
        utm=data.utm.dict() if data.utm else {},
        at=data.occurred_at,
    )
    return Status(201 if created else 200, conversion)


@router.get("/conversions", response=list[ConversionOut], auth=member(Scope.LINKS_READ))
@paginate
def conversion_list(request, attributed: bool | None = None):
    """Conversions, newest first; `attributed=false` lists the unattributed ones."""
    return selectors.conversions_of(request.membership, attributed=attributed)


class GoalOut(Schema):
    id: int
    name: str
    metric: str
    campaign_id: int | None
    starts_on: dt.date
    deadline: dt.date
    baseline: Decimal
    target: Decimal
    actual: Decimal
    forecast: Decimal
    status: str


@router.get("/goals", response=list[GoalOut], auth=member(Scope.LINKS_READ))
def goal_list(request):
    """Goals with their progress (actual, forecast at the deadline, status)."""
    return [
        _goal_out(goal)
        for goal in selectors.goals_of(request.membership)
        if goal.metric in selectors.METRICS
    ]


def _goal_out(goal) -> dict:
    progress = selectors.goal_progress(goal)
    return {
        **{f: getattr(goal, f) for f in ("id", "name", "metric", "campaign_id")},
        **{f: getattr(goal, f) for f in ("starts_on", "deadline", "baseline", "target")},
        "actual": progress.actual,
        "forecast": progress.forecast,
        "status": progress.status,
    }


class GoalIn(Schema):
    name: str = Field(..., max_length=120)
    metric: str = Field(..., description="clicks, conversions, conversion_value, engagements, …")
    campaign_id: int | None = None
    starts_on: dt.date
    deadline: dt.date = Field(..., description="today or later")
    baseline_mode: str = Field("prior", description="prior (the period before) or entered")
    baseline: Decimal | None = Field(None, ge=0, le=Decimal("999999999999"))
    target_kind: str = Field("absolute", description="absolute or percent")
    target_value: Decimal = Field(..., ge=0, le=Decimal("999999999999"))


def _save_goal(request, data: GoalIn, goal=None):
    fields = data.dict()
    return services.goal_save(actor=request.membership, goal=goal, **fields)


@router.post("/goals", response={201: GoalOut}, auth=member(Scope.LINKS_WRITE))
def goal_create(request, data: GoalIn):
    """Set a goal for the workspace or one campaign. Refused with a clear error: a
    deadline that has passed, a target not above the baseline (below, for response time)."""
    return Status(201, _goal_out(_save_goal(request, data)))


@router.get("/goals/{goal_id}", response=GoalOut, auth=member(Scope.LINKS_READ))
def goal_get(request, goal_id: PathId):
    return _goal_out(selectors.access_goal(request.membership, goal_id))


@router.put("/goals/{goal_id}", response=GoalOut, auth=member(Scope.LINKS_WRITE))
def goal_update(request, goal_id: PathId, data: GoalIn):
    """Change a goal (recorded in the audit log with what changed)."""
    check_capability(request.membership, Capability.PUBLISH_POSTS)
    goal = selectors.access_goal(request.membership, goal_id)
    return _goal_out(_save_goal(request, data, goal))


@router.delete("/goals/{goal_id}", response={204: None}, auth=member(Scope.LINKS_WRITE))
def goal_remove(request, goal_id: PathId):
    check_capability(request.membership, Capability.PUBLISH_POSTS)
    goal = selectors.access_goal(request.membership, goal_id)
    services.goal_delete(actor=request.membership, goal=goal)
    return Status(204, None)


class ValueRow(Schema):
    key: str | None
    label: str
    value: Decimal


class ValueOut(Schema):
    figure: str
    by: str
    start: dt.date
    end: dt.date
    currency: str
    currencies: list[str]
    total: Decimal
    rows: list[ValueRow]


@router.get("/value", response=ValueOut, auth=member(Scope.LINKS_READ))
def customer_value(
    request,
    figure: str = "conversion_value",
    by: str = "day",
    start: dt.date | None = None,
    end: dt.date | None = None,
    currency: str = "",
):
    """Customer value: `figure` (conversion_value, conversions, referral_visits, mentions)
    per `by` (day, campaign, network) over the period (default: the last 28 days). Reviews
    are not counted: Chorus has no source of reviews."""
    report = value.value_report(
        workspace=request.membership.workspace,
        figure=figure,
        by=by,
        start=start,
        end=end,
        currency=currency,
    )
    return {
        "figure": report.figure.key,
        "by": report.by,
        "start": report.period.start,
        "end": report.period.end,
        "currency": report.period.currency,
        "currencies": report.currencies,
        "total": report.total,
        "rows": [
            {"key": None if r.key is None else str(r.key), "label": r.label, "value": r.value}
            for r in report.rows
        ],
    }
