"""API for listening boards (named collections of saved mentions, each with a note) and for
opening a mention in the inbox of one of our accounts to answer it there."""

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts.roles import Capability
from chorus.accounts.scopes import Scope
from chorus.accounts.services import check_capability
from chorus.api.auth import member
from chorus.api.inbox import ConversationOut
from chorus.api.inputs import PathId
from chorus.api.listening import MentionOut
from chorus.core.errors import NotAllowed
from chorus.inbox.selectors import accounts_to_reply_as
from chorus.listening import boards, selectors
from chorus.listening.boards import MAX_NOTE
from chorus.networks.selectors import access_account

router = Router(tags=["listening"])


class BoardIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)


class BoardOut(Schema):
    id: int
    name: str
    mention_count: int = 0
    created_at: dt.datetime


class SaveIn(Schema):
    mention_id: int = Field(..., ge=1)
    note: str = Field("", max_length=MAX_NOTE)


class BoardItemOut(Schema):
    mention: MentionOut
    note: str
    saved_at: dt.datetime
    saved_by: str

    @staticmethod
    def resolve_saved_by(obj) -> str:
        return obj.saved_by.email if obj.saved_by else ""


class OpenIn(Schema):
    account_id: int = Field(..., ge=1, description="one of our accounts on the post's network")


def _board(request, board_id: int):
    return selectors.access_board(workspace=request.membership.workspace, board_id=board_id)


def _mention(request, mention_id: int):
    return selectors.access_mention(workspace=request.membership.workspace, mention_id=mention_id)


@router.get("/listening/boards", response=list[BoardOut], auth=member(Scope.LISTENING_READ))
def board_list(request):
    return list(selectors.boards_of(request.membership.workspace))


@router.post("/listening/boards", response={201: BoardOut}, auth=member(Scope.LISTENING_WRITE))
def board_create(request, payload: BoardIn):
    return Status(201, boards.board_create(actor=request.membership, name=payload.name))


@router.patch("/listening/boards/{board_id}", response=BoardOut, auth=member(Scope.LISTENING_WRITE))
def board_rename(request, board_id: PathId, payload: BoardIn):
    board = boards.board_rename(
        actor=request.membership, board=_board(request, board_id), name=payload.name
    )
    return selectors.boards_of(request.membership.workspace).get(pk=board.pk)


@router.delete(
    "/listening/boards/{board_id}", response={204: None}, auth=member(Scope.LISTENING_WRITE)
)
def board_delete(request, board_id: PathId):
    boards.board_delete(actor=request.membership, board=_board(request, board_id))
    return Status(204, None)


@router.get(
    "/listening/boards/{board_id}/mentions",
    response=list[BoardItemOut],
    auth=member(Scope.LISTENING_READ),
)
@paginate
def board_mention_list(request, board_id: PathId):
    """The board's mentions, newest saved first."""
    return selectors.board_items(_board(request, board_id)).prefetch_related("mention__queries")


@router.post(
    "/listening/boards/{board_id}/mentions",
    response={201: BoardItemOut},
    auth=member(Scope.LISTENING_WRITE),
)
def board_mention_save(request, board_id: PathId, payload: SaveIn):
    """Save a mention to the board (409 `already_saved` when it is there already)."""
    board = _board(request, board_id)
    # A member who may not save is refused before the body's mention is looked up, so the
    # answer never tells them which mention ids exist.
    check_capability(request.membership, Capability.MANAGE_LISTENING)
    item = boards.board_save_mention(
        actor=request.membership,
        board=board,
        mention=_mention(request, payload.mention_id),
        note=payload.note,
    )
    return Status(201, item)


@router.delete(
    "/listening/boards/{board_id}/mentions/{mention_id}",
    response={204: None},
    auth=member(Scope.LISTENING_WRITE),
)
def board_mention_remove(request, board_id: PathId, mention_id: PathId):
    boards.board_remove_mention(
        actor=request.membership,
        board=_board(request, board_id),
        mention=_mention(request, mention_id),
    )
    return Status(204, None)


@router.post(
    "/listening/mentions/{mention_id}/open-in-inbox",
    response=ConversationOut,
    auth=member(Scope.INBOX_WRITE),
)
def mention_open_in_inbox(request, mention_id: PathId, payload: OpenIn):
    """The inbox conversation of the account holding this mention (made the first time,
    the same one after): answer it with `POST /inbox/conversations/{id}/reply`."""
    mention = _mention(request, mention_id)
    if not accounts_to_reply_as(request.membership, connected=False).exists():
        raise NotAllowed(_("You may not reply as any of the workspace's accounts."))
    account = access_account(membership=request.membership, account_id=payload.account_id)
    return boards.mention_open_in_inbox(actor=request.membership, mention=mention, account=account)
