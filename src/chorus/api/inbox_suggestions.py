"""API for thank-you and follow-up suggestions (inbox.thanks): list them (`inbox:read`),
send or dismiss them (`inbox:write`). Sending needs the account's reply level; a member
who may only draft sends for approval, and a member who may publish approves by sending."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from chorus.accounts.roles import Capability
from chorus.accounts.scopes import Scope
from chorus.accounts.services import check_capability
from chorus.api.auth import member
from chorus.api.inputs import PathId
from chorus.inbox import selectors, thanks

router = Router(tags=["inbox"])


class InboxSuggestionOut(Schema):
    id: int
    account_id: int
    kind: str = Field(description="thanks or follow_up")
    reason: str = Field(description="repost, quote, positive or closed")
    state: str = Field(description="suggested, awaiting (approval), sent or dismissed")
    contact_handle: str
    conversation_id: int | None
    variant_id: int | None
    language: str
    text: str = Field(description="{agent} is filled in by whoever sends it")
    drafted_by_id: int | None
    reply_id: int | None
    created_at: dt.datetime

    @staticmethod
    def resolve_contact_handle(obj) -> str:
        return obj.contact.handle


class SuggestionSendIn(Schema):
    text: str | None = Field(None, min_length=1, max_length=10000, description="as edited")


@router.get("/inbox/suggestions", response=list[InboxSuggestionOut], auth=member(Scope.INBOX_READ))
def suggestion_list(request):
    """Suggestions waiting for a person (suggested, or waiting for approval), newest first."""
    check_capability(request.membership, Capability.VIEW_INBOX)
    return list(selectors.open_suggestions(request.membership)[:200])


@router.post(
    "/inbox/suggestions/{suggestion_id}/send",
    response=InboxSuggestionOut,
    auth=member(Scope.INBOX_WRITE),
)
def suggestion_send(request, suggestion_id: PathId, payload: SuggestionSendIn):
    """Send it (state `sent`, with the `reply_id` to follow at /inbox/replies/{id}), or, for
    a member who may only draft, send it for approval (state `awaiting`)."""
    return thanks.suggestion_send(
        actor=request.membership, suggestion_id=suggestion_id, text=payload.text
    )


@router.post(
    "/inbox/suggestions/{suggestion_id}/dismiss",
    response=InboxSuggestionOut,
    auth=member(Scope.INBOX_WRITE),
)
def suggestion_dismiss(request, suggestion_id: PathId):
    return thanks.suggestion_dismiss(actor=request.membership, suggestion_id=suggestion_id)
