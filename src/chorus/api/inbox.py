"""API for the unified inbox: read conversations (`inbox:read`), work and answer them
(`inbox:write`). Roles and the per-account reply level are checked in the services."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from chorus.accounts.roles import Capability
from chorus.accounts.scopes import Scope
from chorus.accounts.services import check_capability
from chorus.api.auth import member
from chorus.api.inputs import Moment, PathId, RefId
from chorus.core.errors import NotFound
from chorus.inbox import replies, selectors, services
from chorus.inbox.models import ConversationKind, ConversationStatus, Reply, Sentiment

router = Router(tags=["inbox"])


class FiltersIn(Schema):
    view: Literal["mine", "unassigned", "all"] = "all"
    status: ConversationStatus | Literal["any"] = ConversationStatus.OPEN
    account: RefId | None = None
    team: RefId | None = None
    tag: str = Field("", max_length=60)
    language: str = Field("", max_length=16)
    sentiment: Sentiment | None = None
    kind: ConversationKind | None = None
    q: str = Field("", max_length=200, description="words found in the messages, any script")
    after: str = Field("", max_length=80, description="`next_cursor` of the previous page")
    size: int = Field(50, ge=1, le=200)


class ConversationOut(Schema):
    id: int
    account_id: int
    kind: str
    status: str
    priority: int
    assignee_id: int | None
    team_id: int | None
    contact_handle: str
    contact_name: str
    language: str
    sentiment: str
    spam: bool
    preview: str
    message_count: int
    tags: list[str] = []
    created_at: dt.datetime
    last_message_at: dt.datetime
    first_response_at: dt.datetime | None
    first_response_seconds: int | None
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_contact_handle(obj) -> str:
        return obj.contact.handle if obj.contact else ""

    @staticmethod
    def resolve_contact_name(obj) -> str:
        return obj.contact.display_name if obj.contact else ""

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())


class PageOut(Schema):
    items: list[ConversationOut]
    next_cursor: str


class EntryOut(Schema):
    type: Literal["message", "note"]
    id: int
    direction: str = ""
    kind: str = ""
    author: str
    text: str
    url: str = ""
    remote_id: str = ""
    created_at: dt.datetime


class ConversationDetailOut(ConversationOut):
    timeline: list[EntryOut]


class ReplyIn(Schema):
    text: str = Field(..., min_length=1, max_length=10000)


class ReplyOut(Schema):
    id: int
    conversation_id: int
    state: str
    text: str
    remote_id: str
    url: str
    error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class AssignIn(Schema):
    assignee: RefId | None = Field(None, description="member id; null: nobody")
    team: RefId | None = None
    note: str = Field("", max_length=5000)


class StatusIn(Schema):
    status: ConversationStatus


class TagsIn(Schema):
    add: list[str] = Field([], max_length=50)
    remove: list[str] = Field([], max_length=50)


class NoteIn(Schema):
    text: str = Field(..., min_length=1, max_length=5000)


class NoteOut(Schema):
    id: int
    text: str
    created_at: dt.datetime


class BulkIn(Schema):
    ids: list[RefId] = Field(..., min_length=1, max_length=services.MAX_BULK)
    action: Literal["assign", "close", "open", "tag"]
    assignee: RefId | None = None
    team: RefId | None = None
    tag: str = Field("", max_length=60)


class BulkOut(Schema):
    updated: int


class FiguresIn(Schema):
    since: Moment | None = Field(None, description="default: 30 days ago")
    until: Moment | None = Field(None, description="default: now")
    by: Literal["", "agent", "account"] = ""
    account: RefId | None = None


class FigureRowOut(Schema):
    conversations: int
    answered: int
    within_target: int
    target_minutes: int
    response_rate: float | None
    on_target_rate: float | None
    median_first_response: float | None
    p90_first_response: float | None
    median_time_to_close: float | None


class GroupOut(Schema):
    id: int
    label: str
    figures: FigureRowOut


class ResponseFiguresOut(FigureRowOut):
    rows: list[GroupOut]


def _conversation(request, conversation_id: int):
    return selectors.access_conversation(
        membership=request.membership, conversation_id=conversation_id
    )


def _detail(conversation):
    entries = []
    for entry in selectors.timeline(conversation):
        if getattr(entry, "is_note", False):
            entries.append(
                {
                    "type": "note",
                    "id": entry.pk,
                    "author": entry.author.user.email if entry.author else "",
                    "text": entry.text,
                    "created_at": entry.created_at,
                }
            )
        else:
            author = entry.author.user.email if entry.author else ""
            if entry.direction == "in" and entry.contact:
                author = entry.contact.handle
            entries.append(
                {
                    "type": "message",
                    "id": entry.pk,
                    "direction": entry.direction,
                    "kind": entry.kind,
                    "author": author,
                    "text": entry.text,
                    "url": entry.url,
                    "remote_id": entry.remote_id,
                    "created_at": entry.created_at,
                }
            )
    conversation.timeline = entries
    return conversation


@router.get("/inbox/conversations", response=PageOut, auth=member(Scope.INBOX_READ))
def conversation_list(request, filters: Query[FiltersIn]):
    """The inbox, newest activity first; page on with `after=next_cursor`."""
    check_capability(request.membership, Capability.VIEW_INBOX)
    found = selectors.page_of(
        request.membership,
        selectors.InboxFilters(
            view=filters.view,
            status="" if filters.status == "any" else str(filters.status),
            account_id=filters.account,
            team_id=filters.team,
            tag=filters.tag,
            language=filters.language,
            sentiment=filters.sentiment or "",
            kind=filters.kind or "",
            query=filters.q,
        ),
        after=filters.after,
        size=filters.size,
    )
    return {"items": found.items, "next_cursor": found.next_cursor}


@router.get(
    "/inbox/conversations/{conversation_id}",
    response=ConversationDetailOut,
    auth=member(Scope.INBOX_READ),
)
def conversation_get(request, conversation_id: PathId):
    """One conversation with its messages and internal notes, oldest first."""
    check_capability(request.membership, Capability.VIEW_INBOX)
    return _detail(_conversation(request, conversation_id))


@router.post(
    "/inbox/conversations/{conversation_id}/reply",
    response={202: ReplyOut},
    auth=member(Scope.INBOX_WRITE),
)
def conversation_reply(request, conversation_id: PathId, payload: ReplyIn):
    """Answer in the thread (or privately, for direct messages), exactly once: the reply is
    recorded, then sent; read its `state` at /inbox/replies/{id}."""
    reply = replies.reply_create(
        actor=request.membership,
        conversation=_conversation(request, conversation_id),
        text=payload.text,
    )
    reply.refresh_from_db()
    return Status(202, reply)


@router.get("/inbox/replies/{reply_id}", response=ReplyOut, auth=member(Scope.INBOX_READ))
def reply_get(request, reply_id: PathId):
    check_capability(request.membership, Capability.VIEW_INBOX)
    reply = Reply.objects.filter(
        pk=reply_id, conversation__workspace_id=request.membership.workspace_id
    ).first()
    if reply is None:
        raise NotFound("No such reply.")
    return reply


@router.post(
    "/inbox/conversations/{conversation_id}/assign",
    response=ConversationOut,
    auth=member(Scope.INBOX_WRITE),
)
def conversation_assign(request, conversation_id: PathId, payload: AssignIn):
    return services.conversation_assign(
        actor=request.membership,
        conversation=_conversation(request, conversation_id),
        assignee_id=payload.assignee,
        team_id=payload.team,
        note=payload.note,
    )


@router.post(
    "/inbox/conversations/{conversation_id}/status",
    response=ConversationOut,
    auth=member(Scope.INBOX_WRITE),
)
def conversation_status(request, conversation_id: PathId, payload: StatusIn):
    return services.conversation_set_status(
        actor=request.membership,
        conversation=_conversation(request, conversation_id),
        status=str(payload.status),
    )


@router.post(
    "/inbox/conversations/{conversation_id}/tags",
    response=ConversationOut,
    auth=member(Scope.INBOX_WRITE),
)
def conversation_tags(request, conversation_id: PathId, payload: TagsIn):
    return services.conversation_tag(
        actor=request.membership,
        conversation=_conversation(request, conversation_id),
        add=payload.add,
        remove=payload.remove,
    )


@router.post(
    "/inbox/conversations/{conversation_id}/notes",
    response={201: NoteOut},
    auth=member(Scope.INBOX_WRITE),
)
def conversation_note(request, conversation_id: PathId, payload: NoteIn):
    note = services.note_add(
        actor=request.membership,
        conversation=_conversation(request, conversation_id),
        text=payload.text,
    )
    return Status(201, note)


@router.post("/inbox/bulk", response=BulkOut, auth=member(Scope.INBOX_WRITE))
def conversations_bulk(request, payload: BulkIn):
    """Assign, close, reopen or tag many conversations at once."""
    return {
        "updated": services.conversations_bulk(
            actor=request.membership,
            ids=payload.ids,
            action=payload.action,
            assignee_id=payload.assignee,
            team_id=payload.team,
            tag=payload.tag,
        )
    }


def _figures_row(figures) -> dict:
    return {
        "conversations": figures.conversations,
        "answered": figures.answered,
        "within_target": figures.within_target,
        "target_minutes": figures.target_minutes,
        "response_rate": figures.response_rate,
        "on_target_rate": figures.on_target_rate,
        "median_first_response": figures.median_first_response,
        "p90_first_response": figures.p90_first_response,
        "median_time_to_close": figures.median_time_to_close,
    }


@router.get("/inbox/figures", response=ResponseFiguresOut, auth=member(Scope.INBOX_READ))
def figures(request, params: Query[FiguresIn]):
    """Response rate, first-response time (median, p90, seconds) and time to close, for
    conversations that began in [since, until); the same figures as the inbox dashboard."""
    check_capability(request.membership, Capability.VIEW_INBOX)
    until = params.until or timezone.now()
    since = params.since or until - dt.timedelta(days=30)
    found = selectors.response_figures(
        request.membership, since=since, until=until, by=params.by, account_id=params.account
    )
    return {
        **_figures_row(found),
        "rows": [
            {"id": row["id"], "label": str(row["label"]), "figures": _figures_row(row["figures"])}
            for row in found.rows
        ],
    }
