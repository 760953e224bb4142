"""API for listening alerts: the rules of a topic (created, listed, deleted) and the alerts
that fired, each with the link to the posts of its window."""

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.accounts.scopes import Scope
from chorus.api.auth import member
from chorus.api.inputs import PathId
from chorus.core.errors import ServiceError
from chorus.listening import alerts, selectors
from chorus.listening.models import AlertKind

router = Router(tags=["listening"])


class AlertRuleIn(Schema):
    kind: AlertKind
    query_id: int | None = Field(None, ge=1, description="watch one query instead of the topic")
    sensitivity: float = Field(4.0, ge=0.5, le=20)
    min_count: int = Field(10, ge=1, le=1_000_000)
    window_minutes: int = Field(5, ge=1, le=1440)
    cooldown_minutes: int = Field(60, ge=0, le=10080)
    notify_members: bool = True
    email_member_ids: list[int] = Field([], description="memberships that also get an e-mail")
    webhook_url: str = Field("", max_length=500)


class AlertRuleOut(Schema):
    id: int
    topic_id: int
    query_id: int | None
    kind: str
    sensitivity: float
    min_count: int
    window_minutes: int
    cooldown_minutes: int
    notify_members: bool
    email_member_ids: list[int]
    webhook_url: str
    webhook_secret: str = Field(
        "", description="the HMAC-SHA256 key of X-Chorus-Signature (shown to managers only)"
    )
    is_active: bool
    last_fired_at: dt.datetime | None

    @staticmethod
    def resolve_webhook_secret(obj, context) -> str:
        membership = context["request"].membership
        return obj.webhook_secret if role_can(membership.role, Capability.MANAGE_LISTENING) else ""

    @staticmethod
    def resolve_email_member_ids(obj) -> list[int]:
        return sorted(m.pk for m in obj.email_members.all())


class AlertOut(Schema):
    id: int
    rule_id: int
    topic_id: int
    kind: str
    window_start: dt.datetime
    window_end: dt.datetime
    observed: float
    posts: int
    baseline: float
    threshold: float
    link: str
    deliveries: list[dict]
    created_at: dt.datetime


@router.get("/listening/alerts", response=list[AlertOut], auth=member(Scope.LISTENING_READ))
@paginate
def alert_list(request):
    return selectors.alerts_of(request.membership.workspace)


@router.get(
    "/listening/topics/{topic_id}/alert-rules",
    response=list[AlertRuleOut],
    auth=member(Scope.LISTENING_READ),
)
def alert_rule_list(request, topic_id: PathId):
    topic = selectors.access_topic(workspace=request.membership.workspace, topic_id=topic_id)
    return list(selectors.alert_rules_of(topic))


@router.post(
    "/listening/topics/{topic_id}/alert-rules",
    response={201: AlertRuleOut},
    auth=member(Scope.LISTENING_WRITE),
)
def alert_rule_create(request, topic_id: PathId, payload: AlertRuleIn):
    workspace = request.membership.workspace
    topic = selectors.access_topic(workspace=workspace, topic_id=topic_id)
    query = None
    if payload.query_id is not None:
        query = topic.queries.filter(pk=payload.query_id).first()
        if query is None:
            raise ServiceError(_("That query belongs to another topic."), field="query_id")
    wanted = set(payload.email_member_ids)
    recipients = list(Membership.objects.filter(workspace=workspace, pk__in=wanted))
    if len(recipients) != len(wanted):
        raise ServiceError(
            _("E-mail goes only to members of this workspace."), field="email_member_ids"
        )
    rule = alerts.rule_create(
        actor=request.membership,
        topic=topic,
        query=query,
        kind=payload.kind.value,
        sensitivity=payload.sensitivity,
        min_count=payload.min_count,
        window_minutes=payload.window_minutes,
        cooldown_minutes=payload.cooldown_minutes,
        notify_members=payload.notify_members,
        email_members=recipients,
        webhook_url=payload.webhook_url,
    )
    return Status(201, rule)


@router.delete(
    "/listening/alert-rules/{alert_rule_id}",
    response={204: None},
    auth=member(Scope.LISTENING_WRITE),
)
def alert_rule_delete(request, alert_rule_id: PathId):
    rule = selectors.access_alert_rule(
        workspace=request.membership.workspace, rule_id=alert_rule_id
    )
    alerts.rule_delete(actor=request.membership, rule=rule)
    return Status(204, None)
