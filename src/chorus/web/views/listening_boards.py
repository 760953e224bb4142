"""Listening boards (named collections of saved mentions) and answering a mention from the
inbox: the topic page's "Save to board" and "Answer in the inbox" forms post here."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.inbox.selectors import accounts_to_reply_as
from chorus.listening import boards, selectors
from chorus.listening.forms import BoardForm, SaveForm
from chorus.networks.selectors import access_account
from chorus.web.views.common import member_required, show_service_error

BOARD_PAGE_SIZE = 25


def _back(request, fallback):
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect(*fallback)


@member_required()
@require_http_methods(["GET", "POST"])
def listening_boards(request):
    """The workspace's boards, and the form for a new one."""
    can_manage = role_can(request.membership.role, Capability.MANAGE_LISTENING)
    form = BoardForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                board = boards.board_create(actor=request.membership, **form.cleaned_data)
            except ServiceError as exc:
                show_service_error(form, exc)
            else:
                messages.success(request, _("Board “%(name)s” created.") % {"name": board.name})
                return redirect("listening_board", board.pk)
    context = {
        "boards": selectors.boards_of(request.membership.workspace),
        "form": form,
        "can_manage": can_manage,
    }
    return render(request, "listening/boards.html", context, status=400 if form.errors else 200)


@member_required()
@require_http_methods(["GET"])
def listening_board(request, board_id: int):
    """One board's mentions, newest saved first."""
    board = selectors.access_board(workspace=request.membership.workspace, board_id=board_id)
    page = Paginator(selectors.board_items(board), BOARD_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "board": board,
        "page": page,
        "can_manage": role_can(request.membership.role, Capability.MANAGE_LISTENING),
        "form": BoardForm(initial={"name": board.name}),
    }
    return render(request, "listening/board.html", context)


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_board_edit(request, board_id: int):
    board = selectors.access_board(workspace=request.membership.workspace, board_id=board_id)
    form = BoardForm(request.POST)
    if form.is_valid():
        try:
            boards.board_rename(actor=request.membership, board=board, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Board saved."))
    else:
        messages.error(request, _("Give the board a name."))
    return redirect("listening_board", board.pk)


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_board_delete(request, board_id: int):
    board = selectors.access_board(workspace=request.membership.workspace, board_id=board_id)
    boards.board_delete(actor=request.membership, board=board)
    messages.success(request, _("Board “%(name)s” deleted.") % {"name": board.name})
    return redirect("listening_boards")


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_mention_save(request, mention_id: int):
    workspace = request.membership.workspace
    mention = selectors.access_mention(workspace=workspace, mention_id=mention_id)
    form = SaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a board."))
        return _back(request, ("listening_boards",))
    board = selectors.access_board(workspace=workspace, board_id=form.cleaned_data["board"])
    try:
        boards.board_save_mention(
            actor=request.membership, board=board, mention=mention, note=form.cleaned_data["note"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved to “%(board)s”.") % {"board": board.name})
    return _back(request, ("listening_board", board.pk))


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_board_remove(request, board_id: int, mention_id: int):
    workspace = request.membership.workspace
    board = selectors.access_board(workspace=workspace, board_id=board_id)
    mention = selectors.access_mention(workspace=workspace, mention_id=mention_id)
    try:
        boards.board_remove_mention(actor=request.membership, board=board, mention=mention)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Removed from the board."))
    return redirect("listening_board", board.pk)


@member_required(Capability.WORK_INBOX)
@require_POST
def listening_mention_open(request, mention_id: int):
    """Open the mention in the inbox of the chosen account and land on that conversation."""
    mention = selectors.access_mention(
        workspace=request.membership.workspace, mention_id=mention_id
    )
    account_id = request.POST.get("account", "")
    try:
        account = access_account(
            membership=request.membership, account_id=int(account_id) if account_id.isdigit() else 0
        )
        conversation = boards.mention_open_in_inbox(
            actor=request.membership, mention=mention, account=account
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _back(request, ("listening",))
    return redirect("conversation", conversation.pk)


def reply_accounts_by_network(membership, mentions) -> dict[str, list]:
    """{network: accounts the member may answer as} for the networks of a page of mentions
    (one query), for the topic page's "Answer in the inbox" forms."""
    found: dict[str, list] = {}
    for account in accounts_to_reply_as(membership, {m.network for m in mentions}):
        found.setdefault(account.provider, []).append(account)
    return found
