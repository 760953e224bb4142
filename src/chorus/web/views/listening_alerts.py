"""Listening alert pages: the rules of a topic (added and removed on the topic page) and the
list of alerts that fired, each linking to the posts of its window."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.listening import alerts, selectors
from chorus.listening.forms import AlertRuleForm
from chorus.web.views.common import member_required

ALERTS_PAGE_SIZE = 50


@member_required()
@require_GET
def listening_alerts(request):
    """Every alert of the workspace, newest first."""
    page = Paginator(selectors.alerts_of(request.membership.workspace), ALERTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "listening/alerts.html", {"page": page})


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_alert_rule_new(request, topic_id: int):
    topic = selectors.access_topic(workspace=request.membership.workspace, topic_id=topic_id)
    form = AlertRuleForm(request.POST, topic=topic)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("listening_topic", topic.pk)
    data = form.cleaned_data
    try:
        alerts.rule_create(
            actor=request.membership,
            topic=topic,
            query=data["query"],
            kind=data["kind"],
            sensitivity=data["sensitivity"],
            min_count=data["min_count"],
            window_minutes=data["window_minutes"],
            cooldown_minutes=data["cooldown_minutes"],
            notify_members=data["notify_members"],
            email_members=list(data["email_members"]),
            webhook_url=data["webhook_url"] or "",
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Alert rule added."))
    return redirect("listening_topic", topic.pk)


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_alert_rule_delete(request, alert_rule_id: int):
    rule = selectors.access_alert_rule(
        workspace=request.membership.workspace, rule_id=alert_rule_id
    )
    alerts.rule_delete(actor=request.membership, rule=rule)
    messages.success(request, _("Alert rule deleted."))
    return redirect("listening_topic", rule.topic_id)
