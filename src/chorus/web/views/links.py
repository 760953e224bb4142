"""Links pages, the public redirect `/l/<code>` and the site snippet's conversion beacon.

The redirect is the one public, unauthenticated endpoint: it answers from a short-lived
cache, buffers the click (see chorus.links.clicks) and never redirects anywhere but to a
link Chorus made. The beacon is authenticated by the workspace's site key, which can only
record conversions.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.core.site import absolute_url
from chorus.links import clicks, redirects, selectors, services, shortening
from chorus.links.metrics import METRICS, metric_choices
from chorus.links.models import CampaignLinks, ConversionSource, LinkSettings
from chorus.publishing.models import Campaign
from chorus.web.links_forms import CampaignLinksForm, GoalForm, LinkSettingsForm
from chorus.web.views.common import member_required, public, show_service_error

MAX_BEACON_BYTES = 4096
PAGE_SIZE = 50


# --------------------------------------------------------------------------- public


def _unavailable(request, status: int, message: str):
    response = render(request, "links/unavailable.html", {"message": message}, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@public
@require_safe
def follow(request, code: str):
    """Redirect to the link's target, recording the click unless a bot or preview asked
    (usually answered earlier by `ShortLinkMiddleware`); else a page that explains."""
    result = getattr(request, "short_link_refusal", None) or redirects.answer(request, code)
    if not isinstance(result, str):
        return result
    if result == redirects.TOO_MANY:
        response = _unavailable(request, 429, _("Too many requests. Try again in a minute."))
        response["Retry-After"] = "60"
        return response
    if result == redirects.DISABLED:
        return _unavailable(request, 410, _("This link has been turned off by its owner."))
    return _unavailable(
        request, 404, _("This link does not exist. Check that it was copied whole.")
    )


def _cors(response):
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Cache-Control"] = "no-store"
    return response


def _beacon_error(status: int, code: str, message: str, field: str | None = None):
    body = {
        "error": {"code": code, "message": message, "fields": {field: [message]} if field else None}
    }
    return _cors(JsonResponse(body, status=status))


@public
@csrf_exempt  # cross-site by design: authenticated by the site key, not a session
@require_http_methods(["POST", "OPTIONS"])
def conversion_beacon(request):
    """The site snippet reports a conversion here (JSON sent as text/plain: no preflight)."""
    if request.method == "OPTIONS":
        return _cors(JsonResponse({}, status=200))
    if not clicks.limiter.allow(request.META.get("REMOTE_ADDR", "")):
        return _beacon_error(429, "rate_limited", _("Too many requests."))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BEACON_BYTES + 1
    if length > MAX_BEACON_BYTES:
        return _beacon_error(413, "too_large", _("The report is too large."))
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _beacon_error(400, "invalid", _("Send one JSON object."))
    if not isinstance(data, dict):
        return _beacon_error(400, "invalid", _("Send one JSON object."))
    key = data.get("key")
    found = (
        LinkSettings.objects.filter(site_key=key).select_related("workspace").first()
        if isinstance(key, str) and key
        else None
    )
    if found is None:
        return _beacon_error(403, "invalid_key", _("Unknown site key."), "key")
    utm = data.get("utm") if isinstance(data.get("utm"), dict) else {}
    try:
        conversion, created = services.conversion_record(
            workspace=found.workspace,
            source=ConversionSource.SNIPPET,
            order_id=str(data.get("order_id") or ""),
            value=data.get("value") if isinstance(data.get("value"), (int, float, str)) else None,
            currency=str(data.get("currency") or ""),
            click_token=str(data.get("click") or ""),
            utm=utm,
        )
    except ServiceError as exc:
        return _beacon_error(400, exc.code, exc.message, exc.field)
    return _cors(
        JsonResponse(
            {"recorded": created, "attributed": conversion.attributed},
            status=201 if created else 200,
        )
    )


# --------------------------------------------------------------------------- pages


@member_required()
@require_safe
def links_index(request):
    membership = request.membership
    page = Paginator(selectors.links_of(membership), PAGE_SIZE).get_page(request.GET.get("page"))
    for link in page:
        link.short = shortening.short_url(shortening.settings_of(link.workspace_id), link.code)
    return render(
        request,
        "links/index.html",
        {
            "page": page,
            "summary": selectors.conversion_summary(membership),
            "link_settings": shortening.settings_of(membership.workspace_id),
            "can_toggle": role_can(membership.role, Capability.PUBLISH_POSTS),
        },
    )


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def link_toggle(request, link_id: int):
    link = selectors.access_link(request.membership, link_id)
    disable = request.POST.get("disabled") == "1"
    services.link_set_disabled(actor=request.membership, link=link, disabled=disable)
    messages.success(request, _("Link turned off.") if disable else _("Link turned on again."))
    return redirect("links")


@member_required(Capability.MANAGE_WORKSPACE)
@require_http_methods(["GET", "POST"])
def link_settings(request):
    membership = request.membership
    current = services.link_settings_for(membership.workspace)
    form = LinkSettingsForm(
        request.POST or None,
        initial={
            "track_links": current.track_links,
            "utm_medium": current.utm_medium,
            "attribution_days": current.attribution_days,
            "store_ip": current.store_ip,
            "short_domain": current.short_domain,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=membership, **form.cleaned_data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Link settings saved."))
            return redirect("link_settings")
    campaigns = []
    for campaign in Campaign.objects.filter(workspace=membership.workspace).order_by("name"):
        defaults = CampaignLinks.objects.filter(campaign=campaign).first()
        campaigns.append(
            {
                "campaign": campaign,
                "slug": shortening.campaign_slug(campaign),
                "form": CampaignLinksForm(
                    initial={
                        "utm_campaign": defaults.utm_campaign if defaults else "",
                        "utm_medium": defaults.utm_medium if defaults else "",
                    },
                    prefix=f"c{campaign.pk}",
                ),
            }
        )
    return render(
        request,
        "links/settings.html",
        {
            "form": form,
            "campaigns": campaigns,
            "site_key": current.site_key,
            "snippet_url": absolute_url(static("links/chorus-conversions.js")),
            "beacon_url": absolute_url("/t/conversion"),
        },
        status=400 if form.errors else 200,
    )


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def campaign_links(request, campaign_id: int):
    campaign = Campaign.objects.filter(
        workspace=request.membership.workspace, pk=campaign_id
    ).first()
    form = CampaignLinksForm(request.POST, prefix=f"c{campaign_id}")
    if campaign is None or not form.is_valid():
        messages.error(request, _("Those UTM values could not be saved."))
        return redirect("link_settings")
    try:
        services.campaign_defaults_set(
            actor=request.membership, campaign=campaign, **form.cleaned_data
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Campaign link defaults saved."))
    return redirect("link_settings")


@member_required(Capability.MANAGE_WORKSPACE)
@require_POST
def site_key_renew(request):
    services.site_key_renew(actor=request.membership)
    messages.success(request, _("New site key made; update the snippet on your site."))
    return redirect("link_settings")


@member_required()
@require_safe
def conversions(request):
    which = request.GET.get("show", "")
    attributed = {"attributed": True, "unattributed": False}.get(which)
    rows = selectors.conversions_of(request.membership, attributed=attributed)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "links/conversions.html",
        {"page": page, "show": which, "summary": selectors.conversion_summary(request.membership)},
    )


# --------------------------------------------------------------------------- goals


def _goal_form(request, data=None, initial=None):
    campaigns = Campaign.objects.filter(workspace=request.membership.workspace).order_by("name")
    return GoalForm(data, initial=initial, metrics=metric_choices(), campaigns=campaigns)


def goal_from_form(request, form, goal=None):
    """Save a valid goal form through the service; the goal, or None with the service's
    refusal shown on the form."""
    data = form.cleaned_data
    try:
        return services.goal_save(
            actor=request.membership,
            goal=goal,
            name=data["name"],
            metric=data["metric"],
            campaign_id=data["campaign"],
            starts_on=data["starts_on"],
            deadline=data["deadline"],
            baseline_mode=data["baseline_mode"],
            baseline=data["baseline"],
            target_kind=data["target_kind"],
            target_value=data["target_value"],
        )
    except ServiceError as exc:
        show_service_error(form, exc)
        return None


@member_required()
@require_http_methods(["GET", "POST"])
def goals_index(request):
    membership = request.membership
    can_manage = role_can(membership.role, Capability.PUBLISH_POSTS)
    form = _goal_form(request, request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            return redirect("goals")
        goal = goal_from_form(request, form) if form.is_valid() else None
        if goal is not None:
            messages.success(request, _("Goal saved."))
            return redirect("goal_detail", goal_id=goal.pk)
    return render(
        request,
        "links/goals.html",
        {"goals": selectors.goals_with_progress(membership), "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def goal_edit(request, goal_id: int):
    goal = selectors.access_goal(request.membership, goal_id)
    initial = {
        "name": goal.name,
        "metric": goal.metric,
        "campaign": goal.campaign_id,
        "starts_on": goal.starts_on,
        "deadline": goal.deadline,
        "baseline_mode": goal.baseline_mode,
        "baseline": goal.baseline if goal.baseline_mode == "entered" else None,
        "target_kind": goal.target_kind,
        "target_value": goal.target_input,
    }
    form = _goal_form(request, request.POST or None, initial=initial)
    saved = request.method == "POST" and form.is_valid() and goal_from_form(request, form, goal)
    if saved:
        messages.success(request, _("Goal saved."))
        return redirect("goal_detail", goal_id=goal.pk)
    return render(
        request,
        "links/goal_edit.html",
        {"goal": goal, "form": form},
        status=400 if form.errors else 200,
    )


def _chart(progress, width: int = 640, height: int = 200) -> dict:
    """Polyline points for the straight path and the actual line (server-drawn SVG)."""
    top = max([p[1] for p in progress.path] + [p[2] or 0 for p in progress.path] + [1])
    count = max(1, len(progress.path) - 1)

    def point(i: int, value: float) -> str:
        return f"{i * width / count:.1f},{height - value * height / top:.1f}"

    path = " ".join(point(i, p[1]) for i, p in enumerate(progress.path))
    actual = " ".join(point(i, p[2]) for i, p in enumerate(progress.path) if p[2] is not None)
    return {"width": width, "height": height, "path": path, "actual": actual}


@member_required()
@require_safe
def goal_detail(request, goal_id: int):
    goal = selectors.access_goal(request.membership, goal_id)
    metric = METRICS.get(goal.metric)
    if metric is None:
        messages.error(request, _("This goal's metric is not available on this server."))
        return redirect("goals")
    progress = selectors.goal_progress(goal)
    return render(
        request,
        "links/goal.html",
        {
            "goal": goal,
            "metric": metric,
            "progress": progress,
            "chart": _chart(progress),
            "contributors": selectors.goal_contributors(goal),
            "can_manage": role_can(request.membership.role, Capability.PUBLISH_POSTS),
        },
    )


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def goal_delete(request, goal_id: int):
    goal = selectors.access_goal(request.membership, goal_id)
    services.goal_delete(actor=request.membership, goal=goal)
    messages.success(request, _("Goal deleted."))
    return redirect("goals")
