"""Planning a campaign, step by step: reason → audience → dates → budget → goals → done,
landing on the campaign's calendar. The first four steps are kept in the session until the
budget step creates the campaign (through publishing's `campaigns.campaign_save`); goals are then
added to it (links' `goal_save`). Everything stays editable on the campaign's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.links import selectors as link_selectors
from chorus.publishing import campaigns, selectors
from chorus.web.views.calendar import CampaignForm
from chorus.web.views.common import member_required, show_service_error
from chorus.web.views.links import _goal_form, goal_from_form

SESSION_KEY = "campaign_plan"
STEPS = {
    "reason": (gettext_lazy("Why"), ("name", "reason")),
    "audience": (gettext_lazy("Who for"), ("audience",)),
    "dates": (gettext_lazy("When"), ("starts_on", "ends_on")),
    "budget": (gettext_lazy("Budget"), ("budget_amount", "budget_currency")),
}
ORDER = [*STEPS, "goals"]


def _step_form(step: str, request, initial: dict):
    """The full campaign form narrowed to one step's fields (same labels and checks)."""
    form = CampaignForm(request.POST or None, initial=initial, membership=request.membership)
    keep = STEPS[step][1]
    for name in list(form.fields):
        if name not in keep:
            del form.fields[name]
    if step == "dates":
        for name in keep:
            form.fields[name].required = True
    return form


def _steps(current: str) -> list[dict]:
    labels = {**{k: v[0] for k, v in STEPS.items()}, "goals": gettext_lazy("Goals")}
    return [{"key": key, "label": labels[key], "current": key == current} for key in ORDER]


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def plan_step(request, step: str = "reason"):
    if step not in STEPS:
        return redirect("campaign_plan")
    plan = dict(request.session.get(SESSION_KEY, {}))
    if step != "reason" and "name" not in plan:
        return redirect("campaign_plan")  # the walk starts at the reason
    form = _step_form(step, request, plan)
    if request.method == "POST" and form.is_valid():
        for name, value in form.cleaned_data.items():  # the session stores JSON
            plan[name] = value if value is None or isinstance(value, str) else str(value)
        request.session[SESSION_KEY] = plan
        following = ORDER[ORDER.index(step) + 1]
        if following != "goals":
            return redirect("campaign_plan_step", step=following)
        campaign = _create(request, form, plan)
        if campaign is not None:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Campaign created. Now set its goals."))
            return redirect("campaign_plan_goals", campaign_id=campaign.pk)
    return render(
        request,
        "publishing/campaign_plan.html",
        {"form": form, "step": step, "steps": _steps(step), "plan": plan},
        status=400 if form.errors else 200,
    )


def _create(request, form, plan: dict):
    amount = plan.get("budget_amount")
    try:
        return campaigns.campaign_save(
            actor=request.membership,
            name=plan["name"],
            reason=plan.get("reason", ""),
            audience=plan.get("audience", ""),
            starts_on=date.fromisoformat(plan["starts_on"]),
            ends_on=date.fromisoformat(plan["ends_on"]),
            budget_amount=Decimal(amount) if amount not in (None, "") else None,
            budget_currency=plan.get("budget_currency", ""),
        )
    except (ServiceError, KeyError, ValueError) as exc:
        if isinstance(exc, ServiceError):
            show_service_error(form, exc)
        else:
            form.add_error(None, _("A step of the plan is missing: start again."))
        return None


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def plan_goals(request, campaign_id: int):
    """The goals step: add as many goals as the campaign needs, then finish on its
    calendar."""
    campaign = selectors.access_campaign(membership=request.membership, campaign_id=campaign_id)
    initial = {
        "campaign": campaign.pk,
        "starts_on": campaign.starts_on,
        "deadline": campaign.ends_on,
    }
    form = _goal_form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and goal_from_form(request, form):
        messages.success(request, _("Goal saved."))
        return redirect("campaign_plan_goals", campaign_id=campaign.pk)
    goals = link_selectors.goals_with_progress(request.membership)
    query = urlencode({"campaign": campaign.pk, "date": (campaign.starts_on or "")})
    return render(
        request,
        "publishing/campaign_plan.html",
        {
            "form": form,
            "step": "goals",
            "steps": _steps("goals"),
            "campaign": campaign,
            "goals": [g for g in goals if g["goal"].campaign_id == campaign.pk],
            "calendar_url": f"{reverse('calendar')}?{query}",
        },
        status=400 if form.errors else 200,
    )
