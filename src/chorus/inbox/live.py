"""Live update of an open inbox page: a change probe, and fast polling while it is open.

The page asks `GET /inbox/changes` every PROBE_SECONDS with the token it last saw. The
token sums what was stored for the workspace's accounts (`PollState.stored`, raised in the
same transaction as every page a poller or a stream stores) and, with a conversation open,
that conversation's state and who else has it open. One small query answers the list
(a row per account, read through the account's workspace index); the list fragment and
the timeline are rendered again only when their part of the token moved.

The probe is also the proof that someone is watching the workspace's inbox: each probe
makes every account WITHOUT an open push stream due for a poll once its last poll is
WATCHED_EVERY seconds old, and hands it to the worker at once. It charges the usual
budgets (`ingest.poll_account` reserves its request as always) and stops hurrying an
account while less than WATCHED_SHARE of its own rate window or its server's budget is
left, so watching never eats into what publishing needs; the account then keeps its
normal adaptive interval. Two probes (two tabs, two members) cannot both hurry an
account: the change of `next_poll_at` is conditional on the value each read, and only
the probe whose update matched enqueues the poll.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import connection

from chorus.accounts.models import Membership
from chorus.inbox import ingest, presence
from chorus.inbox.models import Conversation, Note, PollHealth, PollState, Presence, Reply, Tag
from chorus.networks import budgets
from chorus.networks.models import AccountStatus

PROBE_SECONDS = 1  # how often an open page asks
LIST_SAFETY_SECONDS = 15  # the list is fetched anyway (colleagues' changes to rows)
TIMELINE_SAFETY_SECONDS = 30  # the open conversation, likewise
WATCHED_EVERY = 3  # seconds between polls of a watched account without a stream
WATCHED_SHARE = 0.5  # hurry only while this share of the account's budgets is unspent
PRESENCE_RENEW = timedelta(seconds=5)  # the probe renews "is viewing" this often


def _digest(value) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=6).hexdigest()


def _state_sql() -> str:  # names from model metadata only
    """The open conversation's own fields and the counts of its notes, tags and unsettled
    replies, as one statement (built once: the ORM's compiler would cost more than the
    query)."""
    counts = [
        f"(SELECT COUNT(*) FROM {model._meta.db_table} x WHERE x.conversation_id = c.id{extra})"  # noqa: S608
        for model, extra in (
            (Note, ""),
            (Tag, ""),
            (Reply, " AND x.state = 'sending'"),
            (Reply, " AND x.state = 'failed'"),
        )
    ]
    return (
        "SELECT c.message_count, c.last_message_at, c.status, c.assignee_id, c.team_id,"  # noqa: S608
        f" c.priority, c.spam, {', '.join(counts)}"
        f" FROM {Conversation._meta.db_table} c WHERE c.id = %s AND c.workspace_id = %s"
    )


STATE_SQL = _state_sql()


def _conversation_part(membership: Membership, conversation_id: int, now: datetime) -> str:
    """The open conversation's state (one query) and the others viewing or typing (one,
    after a renewal of the member's own presence every PRESENCE_RENEW)."""
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, [conversation_id, membership.workspace_id])
        state = cursor.fetchone()
    if state is None:
        return "-"
    mine = Presence.objects.filter(conversation_id=conversation_id, member=membership)
    if not mine.filter(seen_at__gte=now - PRESENCE_RENEW).exists():
        conversation = Conversation(pk=conversation_id, workspace_id=membership.workspace_id)
        presence.presence_ping(actor=membership, conversation=conversation, now=now)
    since = now - timedelta(seconds=presence.PRESENCE_SECONDS)
    others = sorted(
        (member_id, typed_at is not None and typed_at >= since)
        for member_id, typed_at in Presence.objects.filter(
            conversation_id=conversation_id, seen_at__gte=since
        )
        .exclude(member=membership)
        .values_list("member_id", "typed_at")
    )
    return _digest((state, others))


def _states(workspace_id: int) -> list[PollState]:
    return list(
        PollState.objects.filter(account__workspace_id=workspace_id)
        .exclude(account__status=AccountStatus.DISCONNECTED)
        .select_related("account")
        .order_by("account_id")
    )


def probe(membership: Membership, *, conversation_id: int | None, now: datetime) -> tuple[str, str]:
    """(list part, conversation part) of the change token; hurries the polls of the
    workspace's watched accounts on the way (see the module's text)."""
    states = _states(membership.workspace_id)
    hurry_watched(states, now)
    listed = _digest([(s.account_id, s.stored) for s in states])
    return listed, _conversation_part(membership, conversation_id, now) if conversation_id else "-"


def wants_hurry(state: PollState, now: datetime) -> bool:
    """Should this watched account be polled now rather than at its adaptive interval?"""
    last = state.last_poll_at
    return (
        state.account.status == AccountStatus.ACTIVE
        and not state.streaming
        and state.health == PollHealth.OK
        and state.next_poll_at > now  # due already: a worker has it, or will within the minute
        and last is not None  # the first poll (the backfill) keeps to the minute's tick
        and now - last >= timedelta(seconds=WATCHED_EVERY)
        and not ingest.under_way(state.next_poll_at, last)
        and budgets.background_ample(state.account, now, WATCHED_SHARE)
    )


def hurry_watched(states: list[PollState], now: datetime) -> list[int]:
    """Make the accounts that want it due now and enqueue their polls; returns their ids."""
    from chorus.inbox import tasks

    hurried = []
    for state in states:
        if not wants_hurry(state, now):
            continue
        took = PollState.objects.filter(pk=state.pk, next_poll_at=state.next_poll_at).update(
            next_poll_at=now
        )
        if took:
            hurried.append(state.account_id)
            tasks.poll_account(state.account_id)
    return hurried
