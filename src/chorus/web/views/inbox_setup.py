"""Inbox setup (routing rules, saved replies, the response target) and response figures."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.accounts.selectors import members_of, teams_of
from chorus.core.errors import NotFound, ServiceError
from chorus.inbox import selectors, services, thanks
from chorus.inbox.models import Priority, RoutingRule, SavedReply, Sentiment
from chorus.inbox.routing import MESSAGE_KINDS_FOR_RULES
from chorus.networks import selectors as network_selectors
from chorus.networks.providers import PROVIDERS
from chorus.web.views.common import member_required

PERIODS = (7, 30, 90)


def _rule(request, rule_id: int) -> RoutingRule:
    rule = RoutingRule.objects.filter(pk=rule_id, workspace_id=request.membership.workspace_id)
    if not rule.exists():
        raise NotFound(_("No such rule."))
    return rule.get()


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.replace("\n", ",").split(",") if w.strip()]


def _rule_data(post) -> dict:
    return {
        "name": post.get("name", ""),
        "position": post.get("position") or 0,
        "is_active": post.get("is_active") == "on",
        "stop": post.get("stop") == "on",
        "networks": post.getlist("networks"),
        "account_ids": [v for v in post.getlist("account_ids") if v.isdigit()],
        "kinds": post.getlist("kinds"),
        "languages": _words(post.get("languages", "")),
        "sentiments": post.getlist("sentiments"),
        "keywords": _words(post.get("keywords", "")),
        "assign_to_id": int(post["assign_to_id"])
        if post.get("assign_to_id", "").isdigit()
        else None,
        "assign_team_id": (
            int(post["assign_team_id"]) if post.get("assign_team_id", "").isdigit() else None
        ),
        "add_tags": _words(post.get("add_tags", "")),
        "set_priority": post.get("set_priority") or None,
        "close_as_spam": post.get("close_as_spam") == "on",
    }


def _setup_context(request, **extra) -> dict:
    membership = request.membership
    return {
        "rules": RoutingRule.objects.filter(workspace_id=membership.workspace_id).select_related(
            "assign_to__user", "assign_team"
        ),
        "saved_replies": SavedReply.objects.filter(workspace_id=membership.workspace_id),
        "saved_names": sorted(
            set(
                SavedReply.objects.filter(workspace_id=membership.workspace_id).values_list(
                    "name", flat=True
                )
            )
        ),
        "target": services.inbox_settings(membership.workspace_id),
        "week": _week(services.inbox_settings(membership.workspace_id)),
        "can_manage": role_can(membership.role, Capability.MANAGE_INBOX),
        "accounts": list(network_selectors.accounts_of(membership)),
        "members": list(members_of(membership.workspace)),
        "teams": list(teams_of(membership.workspace)),
        "networks": sorted(PROVIDERS),
        "kinds": MESSAGE_KINDS_FOR_RULES,
        "sentiments": Sentiment.choices,
        "priorities": Priority.choices,
        **extra,
    }


@member_required(Capability.VIEW_INBOX)
@require_GET
def inbox_setup(request):
    return render(request, "inbox/setup.html", _setup_context(request))


def _saved(request, handler, success: str):
    try:
        handler()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("inbox_setup")


@member_required(Capability.MANAGE_INBOX)
@require_POST
def rule_new(request):
    return _saved(
        request,
        lambda: services.rule_save(actor=request.membership, data=_rule_data(request.POST)),
        _("Rule saved."),
    )


@member_required(Capability.MANAGE_INBOX)
@require_http_methods(["GET", "POST"])
def rule_edit(request, rule_id: int):
    rule = _rule(request, rule_id)
    if request.method == "POST":
        return _saved(
            request,
            lambda: services.rule_save(
                actor=request.membership, rule=rule, data=_rule_data(request.POST)
            ),
            _("Rule saved."),
        )
    return render(request, "inbox/rule_form.html", _setup_context(request, rule=rule))


@member_required(Capability.MANAGE_INBOX)
@require_POST
def rule_delete(request, rule_id: int):
    rule = _rule(request, rule_id)
    return _saved(
        request,
        lambda: services.rule_delete(actor=request.membership, rule=rule),
        _("Rule deleted."),
    )


@member_required(Capability.MANAGE_INBOX)
@require_POST
def saved_reply_new(request):
    return _saved(
        request,
        lambda: services.saved_reply_save(
            actor=request.membership,
            name=request.POST.get("name", ""),
            text=request.POST.get("text", ""),
            language=request.POST.get("language", "").strip(),
        ),
        _("Saved reply saved."),
    )


@member_required(Capability.MANAGE_INBOX)
@require_POST
def saved_reply_delete(request, saved_id: int):
    saved = SavedReply.objects.filter(
        pk=saved_id, workspace_id=request.membership.workspace_id
    ).first()
    if saved is None:
        raise NotFound(_("No such saved reply."))
    return _saved(
        request,
        lambda: services.saved_reply_delete(actor=request.membership, saved=saved),
        _("Saved reply deleted."),
    )


@member_required(Capability.MANAGE_INBOX)
@require_POST
def target_update(request):
    value = request.POST.get("first_response_minutes", "")
    hours = {
        str(day): [request.POST.get(f"opens_{day}", ""), request.POST.get(f"closes_{day}", "")]
        for day in range(7)
        if request.POST.get(f"opens_{day}") or request.POST.get(f"closes_{day}")
    }
    return _saved(
        request,
        lambda: services.target_update(
            actor=request.membership,
            first_response_minutes=int(value) if value.isdigit() else 0,
            business_hours=hours,
        ),
        _("Response target saved."),
    )


@member_required(Capability.MANAGE_INBOX)
@require_POST
def thanks_update(request):
    hours = request.POST.get("follow_up_hours", "")
    return _saved(
        request,
        lambda: thanks.thanks_settings_update(
            actor=request.membership,
            thank_you_reply=request.POST.get("thank_you_reply", ""),
            follow_up_reply=request.POST.get("follow_up_reply", ""),
            follow_up_hours=int(hours) if hours.isdigit() else 0,
            auto_send=request.POST.get("auto_send") == "on",
        ),
        _("Thank-you and follow-up settings saved."),
    )


@member_required(Capability.VIEW_INBOX)
@require_GET
def inbox_figures(request):
    days = request.GET.get("days", "")
    days = int(days) if days.isdigit() and int(days) in PERIODS else 30
    by = request.GET.get("by", "agent")
    by = by if by in ("agent", "account") else "agent"
    until = timezone.now()
    figures = selectors.response_figures(
        request.membership, since=until - dt.timedelta(days=days), until=until, by=by
    )
    return render(
        request,
        "inbox/figures.html",
        {"figures": figures, "days": days, "by": by, "periods": PERIODS},
    )


def _week(settings) -> list[tuple[int, str, str, str]]:
    """(weekday, its name, opens, closes) for the business-hours form, Monday first."""
    from django.utils.dates import WEEKDAYS

    hours = settings.business_hours if isinstance(settings.business_hours, dict) else {}
    return [(day, WEEKDAYS[day], *(hours.get(str(day)) or ["", ""])[:2]) for day in range(7)]
