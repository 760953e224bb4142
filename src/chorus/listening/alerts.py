"""Listening alerts: rules (checked and audited), the spike detector and the delivery.

The detector compares the last window (5 minutes unless the rule says otherwise) with the
same window at the same hour of the same weekday in the past BASELINE_WEEKS weeks, which
carries the topic's daily and weekly rhythm. Normal is the median of those windows; the
spread is the larger of the scaled median absolute deviation and the Poisson noise (square
root of the median, at least 1), so a flat history does not make every extra post an alert.
A rule fires when

    observed >= max(minimum count, median + sensitivity × spread)

and then keeps quiet for its cooldown. For negative share the observed value is the share of
negative posts among the posts whose sentiment is known (posts of unknown sentiment are
skipped), the spread is the binomial noise of that share, and the minimum count applies to
the posts of known sentiment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import secrets
import statistics
from dataclasses import dataclass

import httpx
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.recipients import moment_text, speaking_to
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability, notify
from chorus.core.errors import ServiceError
from chorus.core.site import absolute_url
from chorus.networks import http as network_http

from .models import Alert, AlertKind, AlertRule, Mention, Query, Topic
from .services import _audit

log = logging.getLogger(__name__)

BASELINE_WEEKS = 4
MAD_SCALE = 1.4826  # makes the median absolute deviation comparable with a standard deviation
WEBHOOK_TIMEOUT = 10.0
INGEST_CHECK = 10.0  # seconds between checks triggered by incoming posts
SIGNATURE_HEADER = "X-Chorus-Signature"
NEGATIVE = "negative"
UNKNOWN_SENTIMENTS = ("", "unknown")
_RULE_FIELDS = [
    "kind",
    "sensitivity",
    "min_count",
    "window_minutes",
    "cooldown_minutes",
    "notify_members",
    "webhook_url",
    "is_active",
]


# --------------------------------------------------------------------------- rules


def _check_rule(
    kind: str,
    sensitivity: float,
    min_count: int,
    window_minutes: int,
    cooldown_minutes: int,
    webhook_url: str,
) -> None:
    if kind not in AlertKind.values:
        raise ServiceError(_("Choose what the alert watches."), field="kind")
    if not 0.5 <= sensitivity <= 20:
        raise ServiceError(_("Sensitivity goes from 0.5 to 20."), field="sensitivity")
    if not 1 <= min_count <= 1_000_000:
        raise ServiceError(_("The minimum count goes from 1 to 1,000,000."), field="min_count")
    if not 1 <= window_minutes <= 24 * 60:
        raise ServiceError(_("The window goes from 1 to 1440 minutes."), field="window_minutes")
    if not 0 <= cooldown_minutes <= 7 * 24 * 60:
        raise ServiceError(
            _("The quiet time goes from 0 to 10080 minutes."), field="cooldown_minutes"
        )
    if webhook_url and not webhook_url.lower().startswith(("https://", "http://")):
        raise ServiceError(_("A webhook URL starts with https://."), field="webhook_url")


@transaction.atomic
def rule_create(
    *,
    actor: Membership,
    topic: Topic,
    kind: str,
    query: Query | None = None,
    sensitivity: float = 4.0,
    min_count: int = 10,
    window_minutes: int = 5,
    cooldown_minutes: int = 60,
    notify_members: bool = True,
    email_members: list[Membership] | None = None,
    webhook_url: str = "",
    is_active: bool = True,
) -> AlertRule:
    check_capability(actor, Capability.MANAGE_LISTENING)
    if topic.workspace_id != actor.workspace_id:
        raise ServiceError(_("No such topic."))
    if query is not None and query.topic_id != topic.pk:
        raise ServiceError(_("That query belongs to another topic."), field="query")
    webhook_url = webhook_url.strip()
    _check_rule(kind, sensitivity, min_count, window_minutes, cooldown_minutes, webhook_url)
    recipients = list(email_members or [])
    if any(m.workspace_id != actor.workspace_id for m in recipients):
        raise ServiceError(
            _("E-mail goes only to members of this workspace."), field="email_members"
        )
    rule = AlertRule.objects.create(
        topic=topic,
        query=query,
        kind=kind,
        sensitivity=sensitivity,
        min_count=min_count,
        window_minutes=window_minutes,
        cooldown_minutes=cooldown_minutes,
        notify_members=notify_members,
        webhook_url=webhook_url,
        is_active=is_active,
        webhook_secret=secrets.token_hex(32) if webhook_url else "",
        created_by=actor.user,
    )
    rule.email_members.set(recipients)
    _audit(actor, rule, None, {f: getattr(rule, f) for f in _RULE_FIELDS})
    return rule


@transaction.atomic
def rule_delete(*, actor: Membership, rule: AlertRule) -> None:
    check_capability(actor, Capability.MANAGE_LISTENING)
    _audit(actor, rule, {f: getattr(rule, f) for f in _RULE_FIELDS}, None)
    rule.delete()


# --------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class Reading:
    observed: float  # posts, or the negative share
    posts: int  # posts counted (of known sentiment for negative share)
    baseline: float
    threshold: float

    @property
    def spike(self) -> bool:
        return self.observed >= self.threshold


def _mentions(rule: AlertRule, start: dt.datetime, end: dt.datetime):
    mentions = Mention.objects.filter(
        workspace_id=rule.topic.workspace_id, posted_at__gte=start, posted_at__lt=end
    )
    if rule.query_id:
        return mentions.filter(queries=rule.query_id)
    return mentions.filter(queries__topic=rule.topic_id).distinct()


def _counts(rule: AlertRule, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(posts, negative posts) when watching volume; (known-sentiment posts, negative posts)
    when watching negative share."""
    mentions = _mentions(rule, start, end)
    if rule.kind == AlertKind.NEGATIVE_SHARE:
        mentions = mentions.exclude(sentiment__in=UNKNOWN_SENTIMENTS)
        known = mentions.count()
        return known, mentions.filter(sentiment=NEGATIVE).count() if known else 0
    return mentions.count(), 0


def _spread(values: list[float], centre: float) -> float:
    return MAD_SCALE * statistics.median(abs(v - centre) for v in values) if values else 0.0


def read(rule: AlertRule, end: dt.datetime) -> Reading:
    """The last window against the same window in each of the past weeks."""
    width = dt.timedelta(minutes=rule.window_minutes)
    posts, negative = _counts(rule, end - width, end)
    history = [
        _counts(rule, end - width - dt.timedelta(weeks=w), end - dt.timedelta(weeks=w))
        for w in range(1, BASELINE_WEEKS + 1)
    ]
    if rule.kind == AlertKind.NEGATIVE_SHARE:
        shares = [neg / known for known, neg in history if known]
        centre = statistics.median(shares) if shares else 0.0
        p = min(max(centre, 0.05), 0.95)
        noise = math.sqrt(p * (1 - p) / max(posts, 1))
        threshold = centre + rule.sensitivity * max(_spread(shares, centre), noise)
        observed = negative / posts if posts else 0.0
        # Too few posts of known sentiment: a share of them says nothing.
        threshold = min(threshold, 1.0) if posts >= rule.min_count else math.inf
        return Reading(observed, posts, centre, threshold)
    volumes = [float(known) for known, _neg in history]
    centre = statistics.median(volumes)
    noise = math.sqrt(max(centre, 1.0))
    threshold = max(
        float(rule.min_count), centre + rule.sensitivity * max(_spread(volumes, centre), noise)
    )
    return Reading(float(posts), posts, centre, threshold)


def detect(now: dt.datetime | None = None, *, query_ids: set[int] | None = None) -> list[Alert]:
    """Check every active rule of every active topic (or only those watching `query_ids`);
    fire where a spike is outside the cooldown. A failing rule is logged, the others run."""
    now = now or timezone.now()
    fired = []
    rules = AlertRule.objects.select_related("topic", "topic__workspace", "query").filter(
        is_active=True, topic__is_active=True
    )
    if query_ids is not None:
        rules = rules.filter(
            Q(query_id__in=query_ids) | Q(query=None, topic__queries__in=query_ids)
        ).distinct()
    for rule in rules:
        if rule.last_fired_at and now < rule.last_fired_at + dt.timedelta(
            minutes=rule.cooldown_minutes
        ):
            continue
        try:
            reading = read(rule, now)
            if reading.spike:
                fired.append(_fire(rule, reading, now))
        except Exception:  # one broken rule must not stop the detector
            log.exception("listening alert rule %s failed", rule.pk)
    return fired


_last_ingest_check: dict[frozenset, float] = {}


def check_ingested(query_ids: set[int], now: dt.datetime | None = None) -> list[Alert]:
    """Called by ingest after it stored matches: check the rules watching those queries at
    once, so an alert does not wait for the minute task; at most once per INGEST_CHECK
    seconds of stream time per set of queries, so a busy stream does not run it per batch."""
    now = now or timezone.now()
    key = frozenset(query_ids)
    last = _last_ingest_check.get(key)
    if last is not None and now.timestamp() - last < INGEST_CHECK:
        return []
    _last_ingest_check[key] = now.timestamp()
    if len(_last_ingest_check) > 10_000:
        _last_ingest_check.clear()
    return detect(now, query_ids=query_ids)


def _fire(rule: AlertRule, reading: Reading, now: dt.datetime) -> Alert:
    with transaction.atomic():
        claimed = (
            AlertRule.objects.filter(pk=rule.pk)
            .filter(Q(last_fired_at=None) | Q(last_fired_at=rule.last_fired_at))
            .update(last_fired_at=now)
        )
        if not claimed:  # another worker fired it meanwhile
            raise RuntimeError("alert already fired")
        alert = Alert.objects.create(
            rule=rule,
            topic=rule.topic,
            workspace=rule.topic.workspace,
            kind=rule.kind,
            window_start=now - dt.timedelta(minutes=rule.window_minutes),
            window_end=now,
            observed=reading.observed,
            baseline=reading.baseline,
            threshold=reading.threshold,
            posts=reading.posts,
        )
    rule.last_fired_at = now
    alert.deliveries = deliver(alert)
    Alert.objects.filter(pk=alert.pk).update(deliveries=alert.deliveries)
    return alert


# --------------------------------------------------------------------------- delivery


def _message(alert: Alert) -> str:
    values = {
        "topic": alert.topic.name,
        "posts": alert.posts,
        "start": moment_text(alert.window_start),
        "end": moment_text(alert.window_end),
    }
    if alert.kind == AlertKind.NEGATIVE_SHARE:
        values |= {"share": round(100 * alert.observed), "usual": round(100 * alert.baseline)}
        return (
            _(
                "Listening alert on “%(topic)s”: %(share)s%% of %(posts)s posts of known sentiment "
                "were negative from %(start)s to %(end)s (usually %(usual)s%%)."
            )
            % values
        )
    values["usual"] = round(alert.baseline, 1)
    return (
        _(
            "Listening alert on “%(topic)s”: %(posts)s posts from %(start)s to %(end)s "
            "(usually %(usual)s)."
        )
        % values
    )


def deliver(alert: Alert) -> list[dict]:
    """In-app and e-mail through the accounts notifications, then the webhook. Returns what
    each channel did; a failure is recorded, never raised."""
    rule = alert.rule
    results = []
    emailed = set(rule.email_members.values_list("pk", flat=True))
    members = Membership.objects.select_related("user", "workspace").filter(
        workspace_id=alert.workspace_id
    )
    for member in members:
        by_email = member.pk in emailed
        if not (rule.notify_members or by_email) or not member.user.is_active:
            continue
        with speaking_to(member.user, member.workspace):
            message = _message(alert)
        notify(
            user=member.user,
            workspace=member.workspace,
            message=message,
            url=alert.link,
            email=by_email,
        )
        results.append(
            {"channel": "email" if by_email else "in_app", "to": member.user.email, "ok": True}
        )
    if rule.webhook_url:
        results.append(send_webhook(alert))
    return results


def webhook_body(alert: Alert) -> bytes:
    return json.dumps(
        {
            "alert": alert.pk,
            "rule": alert.rule_id,
            "topic": {"id": alert.topic_id, "name": alert.topic.name},
            "query": alert.rule.query_id,
            "kind": alert.kind,
            "window_start": alert.window_start.isoformat(),
            "window_end": alert.window_end.isoformat(),
            "observed": alert.observed,
            "posts": alert.posts,
            "baseline": alert.baseline,
            "threshold": alert.threshold,
            "url": absolute_url(alert.link),
        },
        sort_keys=True,
    ).encode()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(alert: Alert) -> dict:
    """POST the alert, signed with the rule's secret, through the guarded client (public
    addresses only, no redirects, a short timeout)."""
    rule = alert.rule
    body = webhook_body(alert)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(rule.webhook_secret, body),
    }
    result = {"channel": "webhook", "to": rule.webhook_url, "ok": False}
    try:
        with network_http.client() as client:
            response = client.post(
                rule.webhook_url, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT
            )
    except httpx.HTTPError as exc:
        result["detail"] = str(exc) or type(exc).__name__
        return result
    result["status"] = response.status_code
    result["ok"] = response.is_success
    if not response.is_success:
        result["detail"] = f"HTTP {response.status_code}"
    return result
