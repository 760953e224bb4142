"""Writes and rules for links: settings, UTM defaults, short links, clicks, conversions, goals.

- `settings_update`, `campaign_defaults_set`, `post_links_set`: UTM defaults (workspace,
  campaign, the composer's per-post choice), audited where they matter.
- `link_set_disabled`: a disabled link shows a clear page instead of redirecting.
- `clicks_write`: the click buffer's batch insert; it also attributes conversions that
  arrived before their click was written.
- `conversion_record`: from the API or the site snippet; idempotent on the order id,
  attributed to the last click within the workspace's window, else kept unattributed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership, Workspace
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.links import shortening
from chorus.links.clicks import links as links_cache
from chorus.links.models import (
    CampaignLinks,
    Click,
    Conversion,
    ConversionSource,
    LinkSettings,
    PostLinks,
    ShortLink,
)
from chorus.publishing.models import Campaign, Post

# UTM values end up in URLs and on pages: letters of any script, digits and a few marks.
_UTM_VALUE = re.compile(r"^[\w\-.~+ ]{0,100}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ORDER_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_VALUE = Decimal("999999999999")

UNKNOWN_CLICK = "unknown_click"
OUTSIDE_WINDOW = "outside_window"
NO_CLICK = "no_click"


def _plain(number: Decimal) -> str:
    """30, 12.5 — never 3E+1."""
    return format(number.normalize(), "f")


def clean_utm(value: str, field: str) -> str:
    value = (value or "").strip()
    if not _UTM_VALUE.match(value):
        raise ServiceError(
            _("Use letters, digits, spaces and - _ . ~ + only (at most 100)."), field=field
        )
    return value


def link_settings_for(workspace: Workspace) -> LinkSettings:
    found, _created = LinkSettings.objects.get_or_create(workspace=workspace)
    return found


@transaction.atomic
def settings_update(
    *,
    actor: Membership,
    track_links: bool,
    utm_medium: str,
    attribution_days: int,
    store_ip: bool,
    short_domain: str,
) -> LinkSettings:
    check_capability(actor, Capability.MANAGE_WORKSPACE)
    utm_medium = clean_utm(utm_medium, "utm_medium") or "social"
    if not 1 <= attribution_days <= 90:
        raise ServiceError(_("Choose a window of 1 to 90 days."), field="attribution_days")
    short_domain = (short_domain or "").strip().lower().rstrip(".")
    if short_domain and not _DOMAIN.match(short_domain):
        raise ServiceError(_("Enter a domain name such as go.example.com."), field="short_domain")
    found = LinkSettings.objects.select_for_update().get(pk=link_settings_for(actor.workspace).pk)
    before = {
        "track_links": found.track_links,
        "utm_medium": found.utm_medium,
        "attribution_days": found.attribution_days,
        "store_ip": found.store_ip,
        "short_domain": found.short_domain,
    }
    after = {
        "track_links": track_links,
        "utm_medium": utm_medium,
        "attribution_days": attribution_days,
        "store_ip": store_ip,
        "short_domain": short_domain,
    }
    for key, value in after.items():
        setattr(found, key, value)
    found.save()
    shortening.forget_settings(actor.workspace_id)
    if before != after:
        audit_record(
            action=AuditAction.WORKSPACE_CHANGED,
            actor=actor,
            workspace=actor.workspace,
            target=("link_settings", found.pk, _("Link settings")),
            changes={"links": {"before": before, "after": after}},
        )
    return found


@transaction.atomic
def site_key_renew(*, actor: Membership) -> LinkSettings:
    """A new key for the site snippet; the old one stops recording at once."""
    from chorus.links.models import new_site_key

    check_capability(actor, Capability.MANAGE_WORKSPACE)
    found = link_settings_for(actor.workspace)
    found.site_key = new_site_key()
    found.save(update_fields=["site_key", "updated_at"])
    audit_record(
        action=AuditAction.WORKSPACE_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=("link_settings", found.pk, _("Link settings")),
        changes={"links": "site key renewed"},
    )
    return found


def campaign_defaults_set(
    *, actor: Membership, campaign: Campaign, utm_campaign: str, utm_medium: str
) -> CampaignLinks:
    check_capability(actor, Capability.PUBLISH_POSTS)
    if campaign.workspace_id != actor.workspace_id:
        raise NotFound(_("No such campaign."))
    found, _created = CampaignLinks.objects.update_or_create(
        campaign=campaign,
        defaults={
            "utm_campaign": clean_utm(utm_campaign, "utm_campaign"),
            "utm_medium": clean_utm(utm_medium, "utm_medium"),
        },
    )
    return found


def post_links_set(
    *,
    actor: Membership,
    post: Post,
    track: bool,
    utm_campaign: str = "",
    utm_medium: str = "",
    utm_content: str = "",
) -> PostLinks:
    """The composer's UTM builder: this post's own values (blank keeps the defaults)."""
    check_capability(actor, Capability.CREATE_POSTS)
    if post.workspace_id != actor.workspace_id:
        raise NotFound(_("No such post."))
    values = {
        "track": track,
        "utm_campaign": clean_utm(utm_campaign, "utm_campaign"),
        "utm_medium": clean_utm(utm_medium, "utm_medium"),
        "utm_content": clean_utm(utm_content, "utm_content"),
    }
    found, _created = PostLinks.objects.update_or_create(post=post, defaults=values)
    return found


def link_set_disabled(*, actor: Membership, link: ShortLink, disabled: bool) -> ShortLink:
    check_capability(actor, Capability.PUBLISH_POSTS)
    if link.workspace_id != actor.workspace_id:
        raise NotFound(_("No such link."))
    if link.disabled != disabled:
        link.disabled = disabled
        link.save(update_fields=["disabled"])
        links_cache.forget(link.code)
        audit_record(
            action=AuditAction.WORKSPACE_CHANGED,
            actor=actor,
            workspace=actor.workspace,
            target=("short_link", link.pk, f"/l/{link.code}"),
            changes={"disabled": {"before": not disabled, "after": disabled}},
        )
    return link


# --------------------------------------------------------------------------- clicks


def clicks_write(pending: list) -> None:
    """Write one batch of buffered clicks, then attribute conversions waiting for them."""
    with transaction.atomic():
        Click.objects.bulk_create(
            [
                Click(
                    link_id=p.link_id,
                    token=p.token,
                    at=p.at,
                    referrer=p.referrer,
                    device=p.device,
                    ip=p.ip,
                )
                for p in pending
            ],
            ignore_conflicts=True,  # a batch retried after an unclear failure
        )
        waiting = Conversion.objects.filter(
            click_token__in=[p.token for p in pending], unattributed_reason=UNKNOWN_CLICK
        )
        for conversion in waiting.select_for_update():
            _attribute(conversion)
            conversion.save()


# --------------------------------------------------------------------------- conversions


def _clean_conversion(
    order_id: str, value, currency: str, click_token: str, utm: dict
) -> tuple[str, Decimal, str, str, dict]:
    order_id = (order_id or "").strip()
    if order_id and not _ORDER_ID.match(order_id):
        raise ServiceError(
            _("An order id is 1 to 200 visible characters, without spaces."), field="order_id"
        )
    try:
        amount = Decimal(str(value if value not in (None, "") else 0))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("The value must be a number."), field="value") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        raise ServiceError(_("The value must be a number from 0 upwards."), field="value")
    amount = amount.quantize(Decimal("0.01"))
    currency = (currency or "").strip().upper()
    if currency and not _CURRENCY.match(currency):
        raise ServiceError(
            _("Give the currency as a three-letter code, e.g. THB."), field="currency"
        )
    if amount and not currency:
        raise ServiceError(_("A value needs its currency."), field="currency")
    click_token = (click_token or "").strip()
    if click_token and not _TOKEN.match(click_token):
        click_token = ""  # not one of ours: kept as a conversion without a click
    cleaned = {}
    for key, item in (utm or {}).items():
        if key in shortening.UTM_KEYS and isinstance(item, str):
            try:
                cleaned[key] = clean_utm(item, key)
            except ServiceError:
                continue  # a hostile or garbled value is dropped, the conversion kept
    return order_id, amount, currency, click_token, cleaned


def conversion_record(
    *,
    workspace: Workspace,
    source: ConversionSource,
    order_id: str = "",
    value=0,
    currency: str = "",
    click_token: str = "",
    utm: dict | None = None,
    at: datetime | None = None,
) -> tuple[Conversion, bool]:
    """Record a conversion once per order id; returns it and whether it is new."""
    from chorus.links.clicks import buffer

    order_id, amount, currency, click_token, utm = _clean_conversion(
        order_id, value, currency, click_token, utm or {}
    )
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise ServiceError(_("A conversion cannot happen in the future."), field="at")
    if order_id:
        existing = Conversion.objects.filter(workspace=workspace, order_id=order_id).first()
        if existing:
            return existing, False
    if click_token:
        buffer.flush()  # this process's own clicks first, so a fresh click is found
    conversion = Conversion(
        workspace=workspace,
        order_id=order_id,
        value=amount,
        currency=currency,
        at=at,
        source=source,
        click_token=click_token,
        utm=utm,
    )
    _attribute(conversion)
    try:
        with transaction.atomic():
            conversion.save()
    except IntegrityError:  # the same order reported twice at once
        existing = Conversion.objects.filter(workspace=workspace, order_id=order_id).first()
        if existing is None:
            raise
        return existing, False
    return conversion, True


def _window(workspace_id: int) -> timedelta:
    return timedelta(days=shortening.settings_of(workspace_id).attribution_days)


def _last_click(conversion: Conversion) -> tuple[Click | None, str]:
    """The click this conversion is owed to (last click in the window), or why none."""
    window = _window(conversion.workspace_id)
    clicks = Click.objects.filter(link__workspace_id=conversion.workspace_id).select_related("link")
    if conversion.click_token:
        click = clicks.filter(token=conversion.click_token).first()
        if click is None:
            return None, UNKNOWN_CLICK
        if not click.at - timedelta(minutes=5) <= conversion.at <= click.at + window:
            return None, OUTSIDE_WINDOW
        return click, ""
    content, source = conversion.utm.get("utm_content", ""), conversion.utm.get("utm_source", "")
    post_id = content.removeprefix("post-") if content.startswith("post-") else ""
    if not post_id.isdigit():
        return None, NO_CLICK
    candidates = clicks.filter(
        link__post_id=int(post_id), at__lte=conversion.at, at__gte=conversion.at - window
    )
    if source:
        candidates = candidates.filter(link__network=source)
    click = candidates.order_by("-at").first()
    return (click, "") if click else (None, NO_CLICK)


def _attribute(conversion: Conversion) -> None:
    click, reason = _last_click(conversion)
    conversion.click = click
    conversion.unattributed_reason = reason
    link = click.link if click else None
    conversion.link = link
    conversion.post_id = link.post_id if link else None
    conversion.campaign_id = link.campaign_id if link else None
    conversion.account_id = link.account_id if link else None
    conversion.network = link.network if link else ""


def conversion_reattribute(*, conversion: Conversion) -> Conversion:
    """Attribute again (after a late click was written, or the window changed)."""
    _attribute(conversion)
    conversion.save()
    return conversion


# --------------------------------------------------------------------------- goals


def goal_save(
    *,
    actor: Membership,
    name: str,
    metric: str,
    starts_on,
    deadline,
    target_kind: str,
    target_value,
    baseline_mode: str = "prior",
    baseline=None,
    campaign_id: int | None = None,
    goal=None,
):
    """Create or change a goal. The baseline is the prior period's figure (same length)
    or the one entered; a target that does not rise above it is refused."""
    from chorus.links import goals, selectors
    from chorus.links.metrics import METRICS
    from chorus.links.models import Goal

    check_capability(actor, Capability.PUBLISH_POSTS)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Give the goal a name (at most 120 characters)."), field="name")
    if metric not in METRICS:
        raise ServiceError(_("Choose a metric from the list."), field="metric")
    if deadline < starts_on:
        raise ServiceError(_("The deadline must be on or after the start."), field="deadline")
    if (deadline - starts_on).days > 366 * 3:
        raise ServiceError(_("A goal spans at most three years."), field="deadline")
    campaign = None
    if campaign_id:
        campaign = Campaign.objects.filter(workspace=actor.workspace, pk=campaign_id).first()
        if campaign is None:
            raise NotFound(_("No such campaign."), field="campaign")
    try:
        target_value = Decimal(str(target_value))
        baseline = Decimal(str(baseline)) if baseline not in (None, "") else None
    except InvalidOperation:
        raise ServiceError(_("Enter numbers."), field="target_value") from None
    if not target_value.is_finite() or not 0 <= target_value <= MAX_VALUE:
        raise ServiceError(_("Enter a target from 0 upwards."), field="target_value")
    if baseline_mode == "entered":
        if baseline is None or not baseline.is_finite() or not 0 <= baseline <= MAX_VALUE:
            raise ServiceError(_("Enter the baseline, from 0 upwards."), field="baseline")
    else:
        baseline_mode = "prior"
        first, last = goals.prior_period(starts_on, deadline)
        baseline = selectors.metric_total(
            workspace=actor.workspace,
            campaign_id=campaign_id,
            metric=metric,
            first=first,
            last=last,
        )
    if target_kind not in ("absolute", "percent"):
        raise ServiceError(_("Choose how the target is given."), field="target_kind")
    lower_better = METRICS[metric].lower_better
    if target_kind == "percent" and not 0 < target_value < (100 if lower_better else MAX_VALUE):
        raise ServiceError(_("A change must be more than 0%."), field="target_value")
    target = goals.target_from(
        baseline=baseline, kind=target_kind, value=target_value, lower_better=lower_better
    )
    if lower_better and target >= baseline and baseline:
        raise ServiceError(
            _("The target (%(target)s) must be below the baseline (%(baseline)s).")
            % {"target": _plain(target), "baseline": _plain(baseline)},
            field="target_value",
        )
    if not lower_better and target <= baseline:
        raise ServiceError(
            _("The target (%(target)s) must be above the baseline (%(baseline)s).")
            % {"target": _plain(target), "baseline": _plain(baseline)},
            field="target_value",
        )
    goal = goal or Goal(workspace=actor.workspace, created_by=actor)
    if goal.workspace_id != actor.workspace_id:
        raise NotFound(_("No such goal."))
    today = timezone.now().astimezone(selectors.zone_of(actor.workspace)).date()
    if deadline < today and (goal.pk is None or deadline != goal.deadline):
        raise ServiceError(
            _("The deadline has passed: choose today or a later day."), field="deadline"
        )
    before = _goal_fields(goal) if goal.pk else None
    goal.name, goal.metric, goal.campaign = name, metric, campaign
    goal.starts_on, goal.deadline = starts_on, deadline
    goal.baseline_mode, goal.baseline = baseline_mode, baseline
    goal.target_kind, goal.target_input, goal.target = target_kind, target_value, target
    if before is not None and before["metric"] != metric:
        goal.last_status = ""  # a new measure: its first at-risk notifies again
    goal.save()
    after = _goal_fields(goal)
    changes = {"event": "created"} if before is None else {"event": "changed"}
    for key, value in after.items():
        if before is None or before[key] != value:
            changes[key] = value if before is None else [before[key], value]
    audit_record(
        action=AuditAction.WORKSPACE_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=("goal", goal.pk, goal.name),
        changes={"goal": changes},
    )
    return goal


def _goal_fields(goal) -> dict:
    """What the audit log records of a goal, as plain strings."""
    return {
        "name": goal.name,
        "metric": goal.metric,
        "campaign": goal.campaign_id,
        "starts_on": str(goal.starts_on),
        "deadline": str(goal.deadline),
        "baseline": _plain(goal.baseline),
        "target": _plain(goal.target),
    }


def goal_delete(*, actor: Membership, goal) -> None:
    check_capability(actor, Capability.PUBLISH_POSTS)
    if goal.workspace_id != actor.workspace_id:
        raise NotFound(_("No such goal."))
    audit_record(
        action=AuditAction.WORKSPACE_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=("goal", goal.pk, goal.name),
        changes={"goal": "deleted"},
    )
    goal.delete()


def conversion_report(*, actor: Membership, **details) -> tuple[Conversion, bool]:
    """A conversion reported through the API by a member's token (conversions:write)."""
    check_capability(actor, Capability.PUBLISH_POSTS)
    return conversion_record(workspace=actor.workspace, source=ConversionSource.API, **details)


def conversions_attribute_waiting(*, days: int = 2) -> int:
    """Attribute recent conversions still waiting for their click; returns how many were."""
    since = timezone.now() - timedelta(days=days)
    done = 0
    waiting = Conversion.objects.filter(unattributed_reason=UNKNOWN_CLICK, created_at__gte=since)
    for conversion in waiting.iterator():
        with transaction.atomic():
            _attribute(conversion)
            if conversion.unattributed_reason != UNKNOWN_CLICK:
                conversion.save()
                done += 1
    return done


def _goal_recipients(goal) -> list:
    """Who hears that a goal is at risk: its campaign's owner, else whoever set the goal,
    else the workspace's owners."""
    for member in (goal.campaign.owner if goal.campaign else None, goal.created_by):
        if member is not None and member.user.is_active:
            return [member.user]
    owners = Membership.objects.filter(workspace_id=goal.workspace_id, role="owner")
    return [m.user for m in owners.select_related("user")]


def goals_check() -> int:
    """Evaluate every running goal; a goal that has just become at risk notifies (in the
    app and by e-mail, in each recipient's language) once per change. Returns how many
    notified."""
    from chorus.accounts.services import notify
    from chorus.links import goals, selectors
    from chorus.links.metrics import METRICS
    from chorus.links.models import Goal

    notified = 0
    running = Goal.objects.filter(deadline__gte=timezone.now().date() - timedelta(days=1))
    running = running.select_related(
        "workspace", "campaign__owner__user", "created_by__user"
    ).order_by("pk")
    for goal in running.iterator(chunk_size=200):
        if goal.metric not in METRICS:
            continue
        status = selectors.goal_progress(goal).status
        if status == goal.last_status:
            continue
        if status == goals.AT_RISK:
            for user in _goal_recipients(goal):
                notify(
                    user=user,
                    workspace=goal.workspace,
                    message=lambda name=goal.name: (
                        _(
                            "The goal “%(name)s” is at risk: at the current trend it will not "
                            "reach its target by the deadline."
                        )
                        % {"name": name}
                    ),
                    url=f"/goals/{goal.pk}/",
                )
            notified += 1
        Goal.objects.filter(pk=goal.pk).update(last_status=status)
    return notified
