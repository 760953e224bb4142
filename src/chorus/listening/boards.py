"""Boards and answering mentions: a workspace's named boards ("Praise to share", "Crisis
evidence") where members save mentions with a note (checked and audited like topics), and
opening a mention in the inbox of one of our accounts to answer it there.

A mention saved to a board is kept past the workspace's retention and when the queries
that matched it are gone: evidence stays until it is removed from every board.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import Conflict, NotFound, ServiceError
from chorus.governance.audit import snapshot
from chorus.inbox.models import Conversation
from chorus.inbox.services import conversation_open_for_post
from chorus.networks.models import SocialAccount
from chorus.networks.providers.base import Interaction

from .models import Board, BoardItem, Mention
from .services import _audit, _clean_name

MAX_NOTE = 2000
MAX_BOARDS = 200


def _unique_board_name(actor: Membership, name: str, board: Board | None = None) -> None:
    others = Board.objects.filter(workspace=actor.workspace, name=name)
    if board is not None:
        others = others.exclude(pk=board.pk)
    if others.exists():
        raise Conflict(_("A board with this name already exists."), field="name")


def _check_board(actor: Membership, board: Board) -> None:
    if board.workspace_id != actor.workspace_id:
        raise NotFound(_("No such board."))


@transaction.atomic
def board_create(*, actor: Membership, name: str) -> Board:
    check_capability(actor, Capability.MANAGE_LISTENING)
    name = _clean_name(name)
    _unique_board_name(actor, name)
    if Board.objects.filter(workspace=actor.workspace).count() >= MAX_BOARDS:
        raise ServiceError(_("A workspace holds at most %(count)s boards.") % {"count": MAX_BOARDS})
    board = Board.objects.create(workspace=actor.workspace, name=name, created_by=actor.user)
    _audit(actor, board, None, snapshot(board, ["name"]))
    return board


@transaction.atomic
def board_rename(*, actor: Membership, board: Board, name: str) -> Board:
    check_capability(actor, Capability.MANAGE_LISTENING)
    _check_board(actor, board)
    before = snapshot(board, ["name"])
    board.name = _clean_name(name)
    _unique_board_name(actor, board.name, board)
    board.save(update_fields=["name"])
    _audit(actor, board, before, snapshot(board, ["name"]))
    return board


@transaction.atomic
def board_delete(*, actor: Membership, board: Board) -> None:
    check_capability(actor, Capability.MANAGE_LISTENING)
    _check_board(actor, board)
    _audit(actor, board, {"name": board.name, "mentions": board.items.count()}, None)
    board.delete()


def _item_target(board: Board, mention: Mention) -> tuple[str, int, str]:
    return ("listening.board", board.pk, f"{board.name}: {mention.network} {mention.uri}"[:255])


def board_save_mention(
    *, actor: Membership, board: Board, mention: Mention, note: str = ""
) -> BoardItem:
    """Save a mention to a board, once: saving it again is refused (edit nothing twice)."""
    check_capability(actor, Capability.MANAGE_LISTENING)
    _check_board(actor, board)
    if mention.workspace_id != actor.workspace_id:
        raise NotFound(_("No such post."), field="mention")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ServiceError(
            _("A note holds at most %(count)s characters.") % {"count": MAX_NOTE}, field="note"
        )
    try:
        with transaction.atomic():
            item = BoardItem.objects.create(
                board=board, mention=mention, note=note, saved_by=actor.user
            )
            _audit(
                actor,
                _item_target(board, mention),
                None,
                {"mention": mention.pk, "uri": mention.uri, "note": note},
            )
    except IntegrityError as exc:
        raise Conflict(
            _("This post is already on “%(board)s”.") % {"board": board.name},
            code="already_saved",
            field="mention",
        ) from exc
    return item


@transaction.atomic
def board_remove_mention(*, actor: Membership, board: Board, mention: Mention) -> None:
    check_capability(actor, Capability.MANAGE_LISTENING)
    _check_board(actor, board)
    item = BoardItem.objects.filter(board=board, mention=mention).first()
    if item is None:
        raise NotFound(_("This post is not on this board."), field="mention")
    _audit(
        actor,
        _item_target(board, mention),
        {"mention": mention.pk, "uri": mention.uri, "note": item.note},
        None,
    )
    item.delete()


def mention_open_in_inbox(
    *, actor: Membership, mention: Mention, account: SocialAccount
) -> Conversation:
    """The inbox conversation of `account` holding this mention as its first message, made
    the first time (see `inbox.services.conversation_open_for_post`): the member answers it
    there with the inbox's reply. Needs the `reply` level on the account."""
    if mention.workspace_id != actor.workspace_id:
        raise NotFound(_("No such post."))
    post = Interaction(
        kind="mention",
        remote_id=mention.uri,
        author_handle=mention.author,
        created_at=mention.posted_at,
        text=mention.text,
        url=mention.url,
    )
    return conversation_open_for_post(
        actor=actor, account=account, network=mention.network, post=post
    )
