"""The inbox's Suggested view: thank-yous and follow-ups Chorus drafted, to send (as they
are or edited), send for approval, approve, or dismiss. Rules live in inbox.thanks."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.inbox import replies, selectors, thanks
from chorus.inbox.models import SuggestionState
from chorus.web.views.common import member_required


def _cards(membership) -> list[dict]:
    cards = []
    for suggestion in selectors.open_suggestions(membership)[:100]:
        account = suggestion.account
        may_reply = replies.may_reply_as(membership, account)
        drafting = may_reply and thanks.needs_approval(membership, account)
        awaiting = suggestion.state == SuggestionState.AWAITING_APPROVAL
        cards.append(
            {
                "suggestion": suggestion,
                "awaiting": awaiting,
                # what the send button does for this member, if anything
                "may_send": may_reply and not (awaiting and drafting),
                "drafting": drafting,
            }
        )
    return cards


@member_required(Capability.VIEW_INBOX)
@require_GET
def inbox_suggested(request):
    membership = request.membership
    return render(
        request,
        "inbox/suggested.html",
        {
            "cards": _cards(membership),
            "can_work": role_can(membership.role, Capability.WORK_INBOX),
        },
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def suggestion_send(request, suggestion_id: int):
    text = request.POST.get("text")
    try:
        suggestion = thanks.suggestion_send(
            actor=request.membership, suggestion_id=suggestion_id, text=text
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if suggestion.state == SuggestionState.AWAITING_APPROVAL:
            messages.success(request, _("Sent for approval."))
        else:
            messages.success(request, _("Reply on its way."))
    return redirect("inbox_suggested")


@member_required(Capability.WORK_INBOX)
@require_POST
def suggestion_dismiss(request, suggestion_id: int):
    try:
        thanks.suggestion_dismiss(actor=request.membership, suggestion_id=suggestion_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Suggestion dismissed."))
    return redirect("inbox_suggested")
