"""Storing what the networks send, never losing any of it.

`store_page` writes one fetched page in one transaction: contacts, conversations, messages,
activity and the account's new cursor together. The cursor therefore only moves past
messages that are committed; a crash before the commit leaves the old cursor, the next poll
fetches the same page again, and the unique (account, remote id) keys make that harmless:
inserts ignore conflicts and counts grow only for rows that were really new.

`poll_account` is the poller around it: it charges the background budget first
(`networks.budgets.reserve_background`, so polling never starves publishing), calls the
network through `networks.services.provider_for` (which records the account's health),
turns a 429 or 5xx into a visible poll health with a back-off, and picks the next interval:
short while messages arrive, doubling while the account is quiet.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from chorus.inbox import analysis, routing, thanks
from chorus.inbox.models import (
    Activity,
    Contact,
    Conversation,
    ConversationKind,
    ConversationStatus,
    Direction,
    Message,
    PollHealth,
    PollState,
    Priority,
)
from chorus.networks import budgets
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers.base import (
    AuthExpired,
    Interaction,
    InteractionPage,
    ProviderError,
    RateLimited,
)
from chorus.publishing.models import Variant
from chorus.text import sentiment_of

log = logging.getLogger(__name__)

ACTIVITY_KINDS = {"like", "repost", "follow"}
MESSAGE_KINDS = {"reply", "mention", "quote", "direct_message"}
BACKFILL_DAYS = 14
FASTEST = 60  # seconds between polls while messages arrive
SLOWEST = 15 * 60  # while the account is quiet
LEASE = timedelta(minutes=5)  # a poll claimed by a worker that died is taken again after this
SEARCH_KEEP = 20_000  # characters of folded text kept per conversation for search
PREVIEW = 300


@dataclass
class Stored:
    messages: int = 0
    activities: int = 0
    conversations: int = 0


def _state(account: SocialAccount, now: datetime) -> PollState:
    state, _created = PollState.objects.get_or_create(
        account=account, defaults={"next_poll_at": now}
    )
    return state


def conversation_key(item: Interaction) -> tuple[str, str]:
    """(key, kind) of the conversation an incoming message belongs to, before looking at
    our own replies: a DM exchange per remote conversation (else per author), replies and
    quotes per (our post, author), anything else on its own."""
    if item.kind == "direct_message":
        return f"dm:{item.conversation_id or item.author_handle}", ConversationKind.DIRECT
    if item.subject is not None and item.subject.remote_id:
        return f"post:{item.subject.remote_id}:{item.author_handle}", ConversationKind.THREAD
    return f"msg:{item.remote_id}", ConversationKind.THREAD


def _fresh(items, account: SocialAccount, model, since: datetime | None) -> list[Interaction]:
    """Items not stored yet for the account (one query), each remote id once, none older
    than `since` (the backfill's bound)."""
    unique: dict[str, Interaction] = {}
    for item in items:
        if item.remote_id and (since is None or item.created_at >= since):
            unique.setdefault(item.remote_id[:500], item)
    if not unique:
        return []
    known = set(
        model.objects.filter(account=account, remote_id__in=list(unique)).values_list(
            "remote_id", flat=True
        )
    )
    return [item for remote_id, item in unique.items() if remote_id not in known]


def _contacts(account: SocialAccount, items: list[Interaction]) -> dict[str, Contact]:
    """The contact of every author, created when new; names and avatars kept current."""
    latest: dict[str, Interaction] = {}
    for item in items:
        handle = analysis.clean(item.author_handle)[:255] or "?"
        if handle not in latest or item.created_at >= latest[handle].created_at:
            latest[handle] = item
    stamp = connection.ops.adapt_datetimefield_value
    _insert_ignoring_duplicates(
        Contact,
        [
            "workspace_id",
            "network",
            "handle",
            "display_name",
            "avatar_url",
            "first_seen_at",
            "last_seen_at",
            "messages_count",
            "activity_count",
        ],
        [
            (
                account.workspace_id,
                account.provider,
                handle,
                analysis.clean(item.author_name)[:255],
                item.author_avatar_url[:1000],
                stamp(item.created_at),
                stamp(item.created_at),
                0,
                0,
            )
            for handle, item in latest.items()
        ],
    )
    found = {
        c.handle: c
        for c in Contact.objects.filter(
            workspace_id=account.workspace_id, network=account.provider, handle__in=list(latest)
        )
    }
    changed = []
    for handle, item in latest.items():
        contact = found[handle]
        if item.created_at > contact.last_seen_at:
            contact.last_seen_at = item.created_at
            contact.display_name = analysis.clean(item.author_name)[:255] or contact.display_name
            contact.avatar_url = item.author_avatar_url[:1000] or contact.avatar_url
            changed.append(contact)
    _execute_many(
        f"UPDATE {Contact._meta.db_table} SET last_seen_at = %s, display_name = %s,"  # noqa: S608
        " avatar_url = %s WHERE id = %s",
        [(stamp(c.last_seen_at), c.display_name, c.avatar_url, c.pk) for c in changed],
    )
    return found


def _count(contacts: dict[str, Contact], items: list[Interaction], field_name: str) -> None:
    per_contact: dict[int, int] = defaultdict(int)
    for item in items:
        per_contact[contacts[analysis.clean(item.author_handle)[:255] or "?"].pk] += 1
    table = Contact._meta.db_table
    _execute_many(
        f"UPDATE {table} SET {field_name} = {field_name} + %s WHERE id = %s",  # noqa: S608
        [(amount, pk) for pk, amount in sorted(per_contact.items())],
    )


def _execute_many(sql: str, rows: list[tuple]) -> None:  # SQL names come from model metadata
    """One prepared statement for many rows: far cheaper than Django's bulk_update (a CASE
    per field) at thousands of rows, on SQLite and on PostgreSQL (psycopg pipelines it)."""
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _variants(account: SocialAccount, subjects: set[str]) -> dict[str, int]:
    """Our published variants among these remote ids: {remote id: variant id}."""
    if not subjects:
        return {}
    return dict(
        Variant.objects.filter(account=account, remote_id__in=list(subjects)).values_list(
            "remote_id", "pk"
        )
    )


def _store_activity(account, items, contacts, variants) -> int:
    stamp = connection.ops.adapt_datetimefield_value
    rows = [
        (
            account.pk,
            item.remote_id[:500],
            item.kind,
            contacts[analysis.clean(item.author_handle)[:255] or "?"].pk,
            item.subject.remote_id[:500] if item.subject else "",
            variants.get(item.subject.remote_id) if item.subject else None,
            stamp(item.created_at),
        )
        for item in items
    ]
    _insert_ignoring_duplicates(
        Activity,
        [
            "account_id",
            "remote_id",
            "kind",
            "contact_id",
            "subject_remote_id",
            "variant_id",
            "created_at",
        ],
        rows,
    )
    _count(contacts, items, "activity_count")
    return len(rows)


def _insert_ignoring_duplicates(model, columns: list[str], rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) as one prepared
    statement: a row whose unique key is already stored is skipped, never duplicated."""
    table = model._meta.db_table
    _execute_many(
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
        " ON CONFLICT DO NOTHING",
        rows,
    )


class _Row(SimpleNamespace):
    """A conversation as ingest and routing need it: the fields they read and set, without
    building a model instance per row (a page touches hundreds)."""


LIGHT_FIELDS = (
    "id",
    "key",
    "message_count",
    "created_at",
    "last_message_at",
    "preview",
    "language",
    "sentiment",
    "status",
    "closed_at",
    "assignee_id",
    "team_id",
    "priority",
    "spam",
)


def _light(query) -> list[_Row]:
    return [_Row(pk=row["id"], **row) for row in query.values(*LIGHT_FIELDS)]


def _conversations(account, items, contacts, variants) -> tuple[dict[str, Conversation], set]:
    """The conversation of each message (by remote id), created when new. A reply to one
    of our own replies joins the conversation that reply was sent in."""
    subjects = {i.subject.remote_id for i in items if i.subject and i.subject.remote_id}
    ours = dict(
        Message.objects.filter(
            account=account, direction=Direction.OURS, remote_id__in=list(subjects)
        ).values_list("remote_id", "conversation_id")
        if subjects
        else []
    )
    keys: dict[str, tuple[str, str]] = {}
    for item in items:
        if item.kind != "direct_message" and item.subject and item.subject.remote_id in ours:
            keys[item.remote_id] = (f"#{ours[item.subject.remote_id]}", ConversationKind.THREAD)
        else:
            keys[item.remote_id] = conversation_key(item)
    wanted = {key[:600] for key, _kind in keys.values() if not key.startswith("#")}
    existing = {
        c.key: c for c in _light(Conversation.objects.filter(account=account, key__in=list(wanted)))
    }
    new_rows = {}
    for item in items:
        key, kind = keys[item.remote_id]
        key = key[:600]
        if key.startswith("#") or key in existing or key in new_rows:
            continue
        subject = item.subject.remote_id if item.subject else ""
        at = connection.ops.adapt_datetimefield_value(item.created_at)
        new_rows[key] = (
            account.workspace_id,
            account.pk,
            key,
            kind.value,
            contacts[analysis.clean(item.author_handle)[:255] or "?"].pk,
            variants.get(subject),
            ConversationStatus.OPEN.value,
            Priority.NORMAL.value,
            "",
            "unknown",
            False,
            "",
            "",
            0,
            at,
            at,
        )
    created: set[int] = set()
    if new_rows:
        _insert_ignoring_duplicates(
            Conversation,
            [
                "workspace_id",
                "account_id",
                "key",
                "kind",
                "contact_id",
                "variant_id",
                "status",
                "priority",
                "language",
                "sentiment",
                "spam",
                "preview",
                "search_text",
                "message_count",
                "created_at",
                "last_message_at",
            ],
            list(new_rows.values()),
        )
        fresh = Conversation.objects.filter(account=account, key__in=list(new_rows))
        for conversation in _light(fresh):
            existing[conversation.key] = conversation
            if conversation.message_count == 0:
                created.add(conversation.pk)
    by_pk = {c.pk: c for c in existing.values()}
    extra = {pk for pk in ours.values() if pk not in by_pk}
    for conversation in _light(Conversation.objects.filter(pk__in=extra)):
        by_pk[conversation.pk] = conversation
    result = {}
    for item in items:
        key = keys[item.remote_id][0]
        result[item.remote_id] = by_pk[int(key[1:])] if key.startswith("#") else existing[key[:600]]
    return result, created


def _store_messages(account, items, contacts, variants) -> tuple[int, int]:
    conversations, created = _conversations(account, items, contacts, variants)
    stamp = connection.ops.adapt_datetimefield_value
    rows = []
    touched: dict[int, list[tuple[Interaction, str]]] = defaultdict(list)
    for item in items:
        text = analysis.clean(item.text)
        subject = item.subject.remote_id[:500] if item.subject else ""
        conversation = conversations[item.remote_id]
        rows.append(
            (
                conversation.pk,
                account.pk,
                item.remote_id[:500],
                Direction.INCOMING.value,
                item.kind if item.kind in MESSAGE_KINDS else "other",
                contacts[analysis.clean(item.author_handle)[:255] or "?"].pk,
                text,
                item.url[:1000],
                subject,
                (item.conversation_id or "")[:500],
                variants.get(subject),
                stamp(item.created_at),
            )
        )
        touched[conversation.pk].append((item, text))
    _insert_ignoring_duplicates(
        Message,
        [
            "conversation_id",
            "account_id",
            "remote_id",
            "direction",
            "kind",
            "contact_id",
            "text",
            "url",
            "subject_remote_id",
            "remote_conversation_id",
            "variant_id",
            "created_at",
        ],
        rows,
    )
    _count(contacts, items, "messages_count")
    _update_conversations(account, conversations, touched, created)
    return len(rows), len(created)


UPDATED = [  # columns a page of arrivals sets on a conversation (routing included)
    "message_count",
    "created_at",
    "last_message_at",
    "preview",
    "language",
    "sentiment",
    "status",
    "closed_at",
    "assignee_id",
    "team_id",
    "priority",
    "spam",
]


def _update_conversations(account, conversations, touched, created) -> None:
    """Latest time, preview, language, sentiment and search text of every conversation
    that received messages; closed or pending ones reopen; rules run on new ones."""
    by_pk = {c.pk: c for c in conversations.values()}
    reopened = []
    folded: dict[int, str] = {}
    for pk, arrivals in touched.items():
        conversation = by_pk[pk]
        arrivals.sort(key=lambda pair: pair[0].created_at)
        latest_item, latest_text = arrivals[-1]
        conversation.message_count += len(arrivals)
        conversation.created_at = min(conversation.created_at, arrivals[0][0].created_at)
        if latest_item.created_at >= conversation.last_message_at or pk in created:
            conversation.last_message_at = latest_item.created_at
            conversation.preview = latest_text[:PREVIEW]
            spoken = " ".join(text for _item, text in arrivals if text)
            language = analysis.language_of(spoken)
            if language or not conversation.language:
                conversation.language = language
                conversation.sentiment = sentiment_of(latest_text, language)
        folded[pk] = " ".join(analysis.search_form(text) for _item, text in arrivals if text)
        customer_wrote_again = conversation.status != ConversationStatus.OPEN and pk not in created
        if customer_wrote_again and not conversation.spam:
            conversation.status = ConversationStatus.OPEN
            conversation.closed_at = None
            reopened.append(conversation)
    changed = [by_pk[pk] for pk in touched]
    arriving = [by_pk[pk] for pk in created] + reopened
    kinds = {pk: {item.kind for item, _text in touched[pk]} for pk in touched}
    texts = {pk: " ".join(text for _item, text in touched[pk]) for pk in touched}
    routing.apply_rules(account, arriving, kinds=kinds, texts=texts, folded=folded)
    stamp = connection.ops.adapt_datetimefield_value
    _execute_many(
        f"UPDATE {Conversation._meta.db_table} SET "  # noqa: S608
        + ", ".join(f"{name} = %s" for name in UPDATED)
        + f", search_text = substr(search_text || ' ' || %s, 1, {SEARCH_KEEP}) WHERE id = %s",
        [
            (
                c.message_count,
                stamp(c.created_at),
                stamp(c.last_message_at),
                c.preview,
                c.language,
                c.sentiment,
                c.status,
                stamp(c.closed_at) if c.closed_at else None,
                c.assignee_id,
                c.team_id,
                c.priority,
                c.spam,
                folded[c.pk],
                c.pk,
            )
            for c in sorted(changed, key=lambda c: c.pk)
        ],
    )
    routing.save_tags(arriving)


def _apply_changes(account: SocialAccount, items: list[Interaction], now: datetime) -> None:
    """Edits and deletions the network reports for messages already stored: an edit
    replaces the text, a deletion is marked and the message kept (what was said stays)."""
    for item in items:
        stored = Message.objects.filter(account=account, remote_id=item.remote_id[:500])
        if item.deleted:
            stored.filter(deleted_at=None).update(deleted_at=now)
        else:
            stored.update(text=analysis.clean(item.text), edited_at=item.edited_at)


def store_page(
    account: SocialAccount,
    page: InteractionPage,
    *,
    now: datetime,
    state: PollState | None = None,
    advance: bool = True,
) -> Stored:
    """Store one fetched page and advance the account's cursor, in one transaction.
    Pushed items (`advance=False`) leave the cursor where it is: the poller still reads
    past them, and finds them stored."""
    with transaction.atomic():
        state = PollState.objects.select_for_update().get(
            pk=(state or _state(account, now)).pk
        )  # one writer per account at a time: counts stay exact
        since = None if state.backfill_done else now - timedelta(days=BACKFILL_DAYS)
        items = [i for i in page.items if isinstance(i, Interaction) and i.created_at]
        _apply_changes(account, [i for i in items if i.deleted or i.edited_at], now)
        stored = _store_items(account, [i for i in items if not i.deleted], since)
        if advance:
            state.cursor = page.cursor
            state.notice = " ".join(page.warnings)[:2000]
        state.stored += stored.messages + stored.activities
        if not state.backfill_done:
            state.backfilled += stored.messages + stored.activities
        state.save(update_fields=["cursor", "notice", "stored", "backfilled"])
    return stored


def _store_items(account: SocialAccount, items: list[Interaction], since) -> Stored:
    talk = _fresh([i for i in items if i.kind not in ACTIVITY_KINDS], account, Message, since)
    acts = _fresh([i for i in items if i.kind in ACTIVITY_KINDS], account, Activity, since)
    stored = Stored()
    if talk or acts:
        contacts = _contacts(account, talk + acts)
        subjects = {i.subject.remote_id for i in talk + acts if i.subject}
        variants = _variants(account, subjects)
        if acts:
            stored.activities = _store_activity(account, acts, contacts, variants)
        if talk:
            stored.messages, stored.conversations = _store_messages(
                account, talk, contacts, variants
            )
        thanks.suggest_on_arrival(
            account, [i.remote_id[:500] for i in talk], [i.remote_id[:500] for i in acts]
        )
    return stored


def store_post(account: SocialAccount, item: Interaction, *, now: datetime) -> Message:
    """Store one public post found elsewhere (a listened mention) in the account's inbox
    as polling stores one: its author's contact, its conversation (routing rules, search
    text) and the message; the cursor stays where it is and no age bound applies. A post
    already stored is left as it is. Returns the message."""
    with transaction.atomic():
        PollState.objects.select_for_update().get(pk=_state(account, now).pk)  # one writer
        _store_items(account, [item], None)
        return Message.objects.select_related("conversation").get(
            account=account, remote_id=item.remote_id[:500]
        )


# --------------------------------------------------------------------------- polling


def accounts_due(now: datetime) -> list[int]:
    """Connected accounts whose next poll is due (new accounts get their state here)."""
    active = SocialAccount.objects.filter(status=AccountStatus.ACTIVE)
    missing = active.exclude(pk__in=PollState.objects.values("account_id")).values_list(
        "pk", flat=True
    )
    PollState.objects.bulk_create(
        [PollState(account_id=pk, next_poll_at=now) for pk in missing], ignore_conflicts=True
    )
    return list(
        PollState.objects.filter(next_poll_at__lte=now, account__status=AccountStatus.ACTIVE)
        .order_by("next_poll_at")
        .values_list("account_id", flat=True)
    )


def _claim(account: SocialAccount, now: datetime) -> PollState | None:
    """Take the account's due poll for LEASE, so two workers never poll it at once. The
    claim also sets `last_poll_at` (the finished poll writes the same time), so a poll
    under way is recognisable: see `under_way`."""
    state = _state(account, now)
    claimed = PollState.objects.filter(pk=state.pk, next_poll_at__lte=now).update(
        next_poll_at=now + LEASE, last_poll_at=now
    )
    if not claimed:
        return None
    state.refresh_from_db()
    return state


def under_way(next_poll_at: datetime, last_poll_at: datetime | None) -> bool:
    """Is a worker polling the account now (its claim's LEASE still running)?"""
    return last_poll_at is not None and next_poll_at - last_poll_at == LEASE


def _finish(state: PollState, now: datetime, **fields) -> None:
    fields.setdefault("last_poll_at", now)
    for name, value in fields.items():
        setattr(state, name, value)
    state.save(update_fields=list(fields))


def poll_account(*, account_id: int, now: datetime | None = None) -> Stored | None:
    """Poll one account if it is due; returns what was stored, or None if nothing was
    fetched (not due, out of budget, or the network failed: see the account's state)."""
    from chorus.networks.services import provider_for

    now = now or timezone.now()
    account = SocialAccount.objects.filter(pk=account_id, status=AccountStatus.ACTIVE).first()
    if account is None:
        return None
    state = _claim(account, now)
    if state is None:
        return None
    wait = budgets.reserve_background(account, 1, now)
    if wait is not None:
        _finish(state, now, next_poll_at=max(wait, now + timedelta(seconds=FASTEST)))
        return None
    try:
        with provider_for(account) as provider:
            page = provider.fetch_interactions(state.cursor)
    except RateLimited as exc:
        _failed(state, now, PollHealth.RATE_LIMITED, exc, max(exc.retry_after, FASTEST))
        return None
    except AuthExpired as exc:
        _failed(state, now, PollHealth.RECONNECT, exc, SLOWEST)
        return None
    except ProviderError as exc:
        backoff = min(FASTEST * 2 ** min(state.failures, 6), SLOWEST)
        _failed(state, now, PollHealth.FAILING, exc, backoff)
        return None
    stored = store_page(account, page, now=now, state=state)
    state.refresh_from_db()
    busy = stored.messages + stored.activities > 0
    interval = FASTEST if busy else min(max(state.interval_seconds, FASTEST) * 2, SLOWEST)
    _finish(
        state,
        now,
        interval_seconds=interval,
        next_poll_at=now + timedelta(seconds=interval),
        health=PollHealth.OK,
        last_error="",
        failures=0,
        backfill_done=True,
    )
    return stored


def _failed(state, now, health, error: ProviderError, seconds: float) -> None:
    log.info("inbox poll of account %s failed: %s", state.account_id, error.message)
    _finish(
        state,
        now,
        health=health,
        last_error=error.message[:2000],
        failures=state.failures + 1,
        next_poll_at=now + timedelta(seconds=seconds),
    )


def poll_states(workspace_id: int):
    """Poll health of the workspace's accounts (for the inbox's status strip)."""
    return (
        PollState.objects.filter(account__workspace_id=workspace_id)
        .filter(~Q(account__status=AccountStatus.DISCONNECTED))
        .select_related("account")
    )
