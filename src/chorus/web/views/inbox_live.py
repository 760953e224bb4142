"""The open inbox page's change probe (`inbox.live`): asked every second, it answers 204
while nothing changed; when something did, it answers with itself carrying the new token
and an `HX-Trigger` header naming what to fetch again (the list, the open timeline)."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from chorus.accounts.roles import Capability
from chorus.inbox import live
from chorus.web.views.common import member_required

LIST_CHANGED = "inbox-list-changed"
CONVERSATION_CHANGED = "inbox-conversation-changed"


def probe_context(request, conversation_id: int | None) -> dict:
    """What `inbox/_probe.html` needs, for the page's first render."""
    listed, opened = live.probe(
        request.membership, conversation_id=conversation_id, now=timezone.now()
    )
    return {
        "probe_token": f"{listed}.{opened}",
        "probe_seconds": live.PROBE_SECONDS,
    }


@member_required(Capability.VIEW_INBOX)
@require_GET
def inbox_changes(request):
    opened = request.GET.get("c", "")
    context = probe_context(request, int(opened) if opened.isdigit() else None)
    since = request.GET.get("since", "")
    if context["probe_token"] == since:
        return HttpResponse(status=204)
    old_list, _dot, old_conversation = since.partition(".")
    new_list, _dot, new_conversation = context["probe_token"].partition(".")
    events = {
        **({LIST_CHANGED: ""} if new_list != old_list else {}),
        **({CONVERSATION_CHANGED: ""} if new_conversation != old_conversation else {}),
    }
    response = render(request, "inbox/_probe.html", context)
    response["HX-Trigger"] = json.dumps(events)
    return response
