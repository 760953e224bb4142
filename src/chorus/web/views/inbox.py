"""The inbox: the filtered list, one conversation, replying and working the queue.

Live update: a change probe (`inbox_live`) asked every second makes htmx fetch the list or
the open conversation's timeline again when they changed, each also fetched on a slow safety
timer; see docs/inbox.md for why not server-sent events.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.inbox import live, presence, replies, selectors, services, targets
from chorus.inbox.ingest import poll_states
from chorus.inbox.models import (
    ActivityKind,
    ConversationKind,
    ConversationStatus,
    Priority,
    Reply,
    SavedReply,
    Sentiment,
)
from chorus.web.views.common import member_required
from chorus.web.views.inbox_live import LIST_CHANGED, probe_context


def filters_from(params) -> selectors.InboxFilters:
    """The list's filters from query parameters; anything unusable is ignored."""

    def number(name):
        value = params.get(name, "")
        return int(value) if value.isdigit() else None

    view = params.get("view", "all")
    status = params.get("status", "open")
    return selectors.InboxFilters(
        view=view if view in selectors.VIEWS else "all",
        status=status if status in ConversationStatus.values or status == "any" else "open",
        account_id=number("account"),
        team_id=number("team"),
        tag=params.get("tag", "")[:60],
        language=params.get("language", "")[:16],
        sentiment=params.get("sentiment", "")
        if params.get("sentiment") in Sentiment.values
        else "",
        kind=params.get("kind", "") if params.get("kind") in ConversationKind.values else "",
        query=params.get("q", "")[:200],
    )


def _list_context(request) -> dict:
    membership = request.membership
    filters = filters_from(request.GET)
    page = selectors.page_of(
        membership, filters, after=request.GET.get("after", ""), with_tags=False
    )
    targets.set_timers(page.items, membership.workspace)
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("c", None)
    return {
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "list_refresh_seconds": live.LIST_SAFETY_SECONDS,
        "can_work": role_can(membership.role, Capability.WORK_INBOX),
    }


def _choices(request) -> dict:
    membership = request.membership
    return {
        **selectors.menu_choices(membership),
        "statuses": ConversationStatus.choices,
        "sentiments": Sentiment.choices,
        "kinds": ConversationKind.choices,
        "priorities": Priority.choices,
        "poll_states": list(poll_states(membership.workspace_id)),
    }


def _conversation_context(request, conversation_id: int) -> dict:
    membership = request.membership
    conversation = selectors.access_conversation(
        membership=membership, conversation_id=conversation_id
    )
    presence.presence_ping(actor=membership, conversation=conversation)
    saved = SavedReply.objects.filter(workspace_id=membership.workspace_id)
    suited = [s for s in saved if not s.language or s.language == conversation.language]
    return {
        "conversation": conversation,
        "timeline": selectors.timeline(conversation),
        "tags": list(conversation.tags.values_list("name", flat=True)),
        "pending_replies": list(
            Reply.objects.filter(conversation=conversation).exclude(state="sent")
        ),
        "may_reply": replies.may_reply(membership, conversation),
        "can_work": role_can(membership.role, Capability.WORK_INBOX),
        "saved_replies": [
            (s, services.saved_reply_render(s, conversation, membership)) for s in suited
        ],
        "contact_activity": (
            selectors.contact_activity(conversation.contact) if conversation.contact else {}
        ),
        "post_activity": _post_activity(conversation),
        "timeline_refresh_seconds": live.TIMELINE_SAFETY_SECONDS,
        "present": presence.present_others(actor=membership, conversation=conversation),
    }


def _post_activity(conversation) -> list[tuple[str, int]]:
    """(label, count) of likes and reposts on our post the conversation is about."""
    if not conversation.variant_id:
        return []
    counts = selectors.post_activity([conversation.variant_id])[conversation.variant_id]
    return [(label, counts[kind]) for kind, label in ActivityKind.choices if counts.get(kind)]


@member_required(Capability.VIEW_INBOX)
@require_GET
def inbox(request):
    context = {**_list_context(request), **_choices(request)}
    context["counts"] = selectors.counts(request.membership)  # the tabs; not in the list
    opened = request.GET.get("c", "")
    if opened.isdigit():
        context.update(_conversation_context(request, int(opened)))
    context.update(probe_context(request, int(opened) if opened.isdigit() else None))
    return render(request, "inbox/inbox.html", context)


@member_required(Capability.VIEW_INBOX)
@require_GET
def inbox_list(request):
    """The list fragment, fetched when the probe saw a change (and every LIST_SAFETY_SECONDS)."""
    return render(request, "inbox/_list.html", _list_context(request))


@member_required(Capability.VIEW_INBOX)
@require_GET
def conversation(request, conversation_id: int):
    if request.headers.get("HX-Request"):
        context = {**_conversation_context(request, conversation_id), **_choices(request)}
        return render(request, "inbox/_conversation.html", context)
    query = request.GET.copy()
    query["c"] = conversation_id
    return redirect(f"{reverse('inbox')}?{query.urlencode()}")


@member_required(Capability.VIEW_INBOX)
@require_GET
def conversation_timeline(request, conversation_id: int):
    """The open conversation's messages, fetched when the probe saw them change."""
    return render(request, "inbox/_timeline.html", _conversation_context(request, conversation_id))


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_typing(request, conversation_id: int):
    """The reply box says its member is typing (sent at most every few seconds)."""
    conversation = selectors.access_conversation(
        membership=request.membership, conversation_id=conversation_id
    )
    presence.presence_ping(actor=request.membership, conversation=conversation, typing=True)
    return HttpResponse(status=204)


def _back(request, conversation_id: int):
    """After an action: the conversation pane for htmx (and the list fetched again, its row
    may have changed), else the page."""
    if request.headers.get("HX-Request"):
        context = {**_conversation_context(request, conversation_id), **_choices(request)}
        response = render(request, "inbox/_conversation.html", context)
        response["HX-Trigger"] = LIST_CHANGED
        return response
    return redirect(f"{reverse('inbox')}?c={conversation_id}")


def _failed(request, conversation_id: int, error: ServiceError):
    if request.headers.get("HX-Request"):
        context = {**_conversation_context(request, conversation_id), **_choices(request)}
        context["action_error"] = error.message
        return render(request, "inbox/_conversation.html", context, status=400)
    messages.error(request, error.message)
    return redirect(f"{reverse('inbox')}?c={conversation_id}")


def _act(request, conversation_id: int, action):
    conversation = selectors.access_conversation(
        membership=request.membership, conversation_id=conversation_id
    )
    try:
        action(conversation)
    except ServiceError as exc:
        return _failed(request, conversation_id, exc)
    return _back(request, conversation_id)


def _id(value: str) -> int | None:
    return int(value) if value and value.isdigit() else None


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_reply(request, conversation_id: int):
    text = request.POST.get("text", "")
    return _act(
        request,
        conversation_id,
        lambda c: replies.reply_create(actor=request.membership, conversation=c, text=text),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_assign(request, conversation_id: int):
    me = request.POST.get("to") == "me"
    assignee = request.membership.pk if me else _id(request.POST.get("assignee", ""))
    team = None if me else _id(request.POST.get("team", ""))
    return _act(
        request,
        conversation_id,
        lambda c: services.conversation_assign(
            actor=request.membership,
            conversation=c,
            assignee_id=assignee,
            team_id=team,
            note=request.POST.get("note", ""),
        ),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_status(request, conversation_id: int):
    return _act(
        request,
        conversation_id,
        lambda c: services.conversation_set_status(
            actor=request.membership, conversation=c, status=request.POST.get("status", "")
        ),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_priority(request, conversation_id: int):
    priority = _id(request.POST.get("priority", ""))
    return _act(
        request,
        conversation_id,
        lambda c: services.conversation_set_priority(
            actor=request.membership, conversation=c, priority=-1 if priority is None else priority
        ),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_tags(request, conversation_id: int):
    add = [t for t in request.POST.get("add", "").split(",") if t.strip()]
    remove = request.POST.getlist("remove")
    return _act(
        request,
        conversation_id,
        lambda c: services.conversation_tag(
            actor=request.membership, conversation=c, add=add, remove=remove
        ),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def conversation_note(request, conversation_id: int):
    return _act(
        request,
        conversation_id,
        lambda c: services.note_add(
            actor=request.membership, conversation=c, text=request.POST.get("text", "")
        ),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def reply_retry(request, reply_id: int):
    reply = (
        Reply.objects.filter(
            pk=reply_id, conversation__workspace_id=request.membership.workspace_id
        )
        .select_related("conversation__account")
        .first()
    )
    if reply is None:
        return HttpResponse(status=404)
    return _act(
        request,
        reply.conversation_id,
        lambda c: replies.reply_retry(actor=request.membership, reply=reply),
    )


@member_required(Capability.WORK_INBOX)
@require_POST
def inbox_bulk(request):
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    me = request.POST.get("assignee") == "me"
    try:
        done = services.conversations_bulk(
            actor=request.membership,
            ids=ids,
            action=request.POST.get("action", ""),
            assignee_id=request.membership.pk if me else _id(request.POST.get("assignee", "")),
            team_id=_id(request.POST.get("team", "")),
            tag=request.POST.get("tag", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(count)s conversations updated.") % {"count": done})
    back = request.POST.get("back", "")
    return redirect(f"{reverse('inbox')}?{back}" if back and "//" not in back else "inbox")
