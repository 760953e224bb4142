"""Reads of the inbox: the filtered list, one conversation, contacts, response figures.

The list is keyset-paginated on (last_message_at, id), newest first, and every filter
lines up with one of the indexes on `Conversation`, so a page costs the same at a
thousand conversations or a million. The figures are one function used by the inbox's
dashboard and the API alike, so a number means the same thing everywhere.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership, Team
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import NotFound
from chorus.inbox.analysis import search_form
from chorus.inbox.models import Activity, Contact, Conversation, ConversationStatus, Message
from chorus.inbox.services import inbox_settings
from chorus.networks.models import AccountGrant, AccountStatus, SocialAccount

PAGE_SIZE = 50
VIEWS = ("mine", "unassigned", "all")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class InboxFilters:
    view: str = "all"  # mine, unassigned, all
    status: str = "open"  # open, pending, closed, or "" for any
    account_id: int | None = None
    team_id: int | None = None
    tag: str = ""
    language: str = ""
    sentiment: str = ""
    kind: str = ""
    query: str = ""


def conversations(membership: Membership, filters: InboxFilters) -> QuerySet[Conversation]:
    found = Conversation.objects.filter(workspace_id=membership.workspace_id)
    if filters.status in ConversationStatus.values:
        found = found.filter(status=filters.status)
    if filters.view == "mine":
        found = found.filter(assignee=membership)
    elif filters.view == "unassigned":
        found = found.filter(assignee__isnull=True, team__isnull=True)
    if filters.account_id:
        found = found.filter(account_id=filters.account_id)
    if filters.team_id:
        found = found.filter(team_id=filters.team_id)
    if filters.tag:
        found = found.filter(tags__name=filters.tag.strip().lower())
    if filters.language:
        found = found.filter(language=filters.language)
    if filters.sentiment:
        found = found.filter(sentiment=filters.sentiment)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.query.strip():
        words = search_form(filters.query).split(" ")
        for word in words:
            found = found.filter(search_text__contains=word)
        if connection.vendor == "sqlite":
            found = _sqlite_index_narrows(found, words)
    return found.order_by("-last_message_at", "-id")


# migration 0010: an FTS5 trigram index of the search text, SQLite only
FTS_MATCH = "SELECT rowid FROM inbox_conversation_fts WHERE inbox_conversation_fts MATCH %s"
FTS_COUNT_UP_TO = (
    "SELECT count(*) FROM (SELECT rowid FROM inbox_conversation_fts"
    " WHERE inbox_conversation_fts MATCH %s LIMIT %s)"
)
TRIGRAM = 3
FTS_DENSE = 2000  # more matches than this: walking newest first finds a page of them sooner


def _sqlite_index_narrows(found: QuerySet[Conversation], words: list[str]) -> QuerySet:
    """Only the conversations the FTS5 trigram index holds every word of.

    Words under three characters have no trigram, and the LIKE of each word stays the rule
    of what matches, so the results are the same with or without the index. A search the
    index finds in more than `FTS_DENSE` conversations keeps the walk of the list's index
    newest first, which meets a page of matches soon; sorting all of them would cost more."""
    phrases = ['"' + word.replace('"', '""') + '"' for word in words if len(word) >= TRIGRAM]
    if not phrases:
        return found  # e.g. a two-letter search: the scan of the filtered rows
    expression = " AND ".join(phrases)
    with connection.cursor() as cursor:
        cursor.execute(FTS_COUNT_UP_TO, [expression, FTS_DENSE + 1])
        (matches,) = cursor.fetchone()
    if matches > FTS_DENSE:
        return found
    return found.filter(id__in=RawSQL(FTS_MATCH, [expression]))  # noqa: S611 (bound values)


@dataclass
class Page:
    items: list[Conversation]
    next_cursor: str = ""


def page_of(
    membership: Membership,
    filters: InboxFilters,
    *,
    after: str = "",
    size: int = PAGE_SIZE,
    with_tags: bool = True,
) -> Page:
    """One page of the list; `after` is the previous page's `next_cursor`. The HTML list
    shows no tags, so it asks without them (`with_tags=False`)."""
    found = conversations(membership, filters)
    if after:
        micros, _sep, pk = after.partition("-")
        at = EPOCH + timedelta(microseconds=int(micros)) if micros.isdigit() else None
        if at is not None and pk.isdigit():
            found = found.filter(Q(last_message_at__lt=at) | Q(last_message_at=at, id__lt=int(pk)))
    found = found.select_related("account", "contact", "assignee__user", "team")
    if with_tags:
        found = found.prefetch_related("tags")
    items = list(found[: size + 1])
    cursor = ""
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        since_epoch = last.last_message_at - EPOCH
        micros = (since_epoch.days * 86400 + since_epoch.seconds) * 1_000_000
        cursor = f"{micros + since_epoch.microseconds}-{last.pk}"  # URL-safe as it is
    return Page(items=items, next_cursor=cursor)


def accounts_to_reply_as(
    membership: Membership, networks=None, *, connected: bool = True
) -> QuerySet[SocialAccount]:
    """Accounts the member may answer as (the `reply` level; admins and owners every
    account), connected ones unless `connected` is False, on the given networks if any, in
    one query."""
    accounts = SocialAccount.objects.filter(workspace_id=membership.workspace_id)
    if connected:
        accounts = accounts.filter(status=AccountStatus.ACTIVE)
    if networks is not None:
        accounts = accounts.filter(provider__in=list(networks))
    if not role_can(membership.role, Capability.WORK_INBOX):
        return accounts.none()
    if not role_can(membership.role, Capability.MANAGE_ACCOUNTS):
        granted = AccountGrant.every.filter(membership=membership, reply=True)
        accounts = accounts.filter(pk__in=granted.values("socialaccount_id"))
    return accounts.order_by("provider", "handle", "pk")


def access_conversation(*, membership: Membership, conversation_id: int) -> Conversation:
    found = (
        Conversation.objects.filter(workspace_id=membership.workspace_id, pk=conversation_id)
        .select_related("account", "contact", "assignee__user", "team", "variant")
        .first()
    )
    if found is None:
        raise NotFound(_("No such conversation."))
    return found


def timeline(conversation: Conversation) -> list:
    """Messages and internal notes of a conversation, oldest first."""
    messages = list(
        conversation.messages.select_related("contact", "author__user").order_by("created_at", "pk")
    )
    notes = list(conversation.notes.select_related("author__user"))
    for note in notes:
        note.is_note = True
    return sorted(messages + notes, key=lambda entry: entry.created_at)


def menu_choices(membership: Membership) -> dict[str, list]:
    """Accounts, members and teams as the inbox's filters and assignment menus show them:
    a label and an id each, so no prefetch of who may use an account or who is in a team
    (the general selectors' prefetches were half of the page's queries)."""
    workspace_id = membership.workspace_id
    return {
        "accounts": list(
            SocialAccount.objects.filter(workspace_id=workspace_id)
            .exclude(status=AccountStatus.DISCONNECTED)
            .order_by("provider", "handle")
        ),
        "members": list(
            Membership.objects.filter(workspace_id=workspace_id)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        ),
        "teams": list(Team.objects.filter(workspace_id=workspace_id).order_by("name")),
    }


COUNT_UP_TO = 1000  # tabs say "1000+" beyond this: counting further costs time per row


def counts(membership: Membership) -> dict[str, str]:
    """Open conversations per view, for the view tabs (bounded: "1000+")."""
    open_ = Conversation.objects.filter(
        workspace_id=membership.workspace_id, status=ConversationStatus.OPEN
    )

    def bounded(query) -> str:
        found = query.order_by()[: COUNT_UP_TO + 1].count()
        return f"{COUNT_UP_TO}+" if found > COUNT_UP_TO else str(found)

    return {
        "mine": bounded(open_.filter(assignee=membership)),
        "unassigned": bounded(open_.filter(assignee__isnull=True, team__isnull=True)),
        "all": bounded(open_),
        "suggested": bounded(open_suggestions(membership)),
    }


def contact_activity(contact: Contact) -> dict[str, int]:
    rows = Activity.objects.filter(contact=contact).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def post_activity(variant_ids: list[int]) -> dict[int, dict[str, int]]:
    """Likes, reposts (and replies stored) per published variant."""
    result: dict[int, dict[str, int]] = {pk: {} for pk in variant_ids}
    rows = (
        Activity.objects.filter(variant_id__in=variant_ids)
        .values("variant_id", "kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        result[row["variant_id"]][row["kind"]] = row["n"]
    replies = (
        Message.objects.filter(variant_id__in=variant_ids)
        .values("variant_id")
        .annotate(n=Count("id"))
    )
    for row in replies:
        result[row["variant_id"]]["reply"] = row["n"]
    return result


# --------------------------------------------------------------------------- response figures


@dataclass
class ResponseFigures:
    conversations: int = 0
    answered: int = 0
    within_target: int = 0
    target_minutes: int = 60
    median_first_response: float | None = None  # seconds
    p90_first_response: float | None = None
    median_time_to_close: float | None = None
    rows: list[dict] = field(default_factory=list)  # per agent or account

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.conversations if self.conversations else None

    @property
    def on_target_rate(self) -> float | None:
        return self.within_target / self.conversations if self.conversations else None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return float(ordered[index])


def _figures(rows: list[tuple], target_seconds: int, target_minutes: int) -> ResponseFigures:
    firsts = [r[0] for r in rows if r[0] is not None]
    closes = [(r[1] - r[2]).total_seconds() for r in rows if r[1] is not None]
    return ResponseFigures(
        conversations=len(rows),
        answered=len(firsts),
        within_target=sum(1 for s in firsts if s <= target_seconds),
        target_minutes=target_minutes,
        median_first_response=statistics.median(firsts) if firsts else None,
        p90_first_response=_percentile(firsts, 0.9),
        median_time_to_close=statistics.median(closes) if closes else None,
    )


def response_figures(
    membership: Membership,
    *,
    since: datetime,
    until: datetime,
    by: str = "",  # "", "agent" or "account"
    account_id: int | None = None,
) -> ResponseFigures:
    """Response rate, first-response time (median, p90), time to close and the share
    answered within the workspace's target, for conversations that began in [since, until)."""
    target = inbox_settings(membership.workspace_id).first_response_minutes
    found = Conversation.objects.filter(
        workspace_id=membership.workspace_id,
        created_at__gte=since,
        created_at__lt=until,
        spam=False,
        opened_by_us=False,  # a thank-you for a repost answered nobody
    )
    if account_id:
        found = found.filter(account_id=account_id)
    rows = list(
        found.values_list(
            "first_response_seconds", "closed_at", "created_at", "first_responder_id", "account_id"
        )
    )
    total = _figures(rows, target * 60, target)
    if by in ("agent", "account"):
        index = 3 if by == "agent" else 4
        groups: dict = {}
        for row in rows:
            if by == "agent" and row[3] is None:
                continue
            groups.setdefault(row[index], []).append(row)
        labels = _labels(by, list(groups))
        for key, group in sorted(groups.items(), key=lambda kv: labels.get(kv[0], "")):
            figures = _figures(group, target * 60, target)
            total.rows.append({"id": key, "label": labels.get(key, "?"), "figures": figures})
    return total


def _labels(by: str, keys: list) -> dict:
    if by == "agent":
        members = Membership.objects.filter(pk__in=keys).select_related("user")
        return {m.pk: m.user.display_name for m in members}
    return {a.pk: a.label for a in SocialAccount.objects.filter(pk__in=keys)}


def open_suggestions(membership: Membership):
    """Thank-yous and follow-ups waiting for a person: suggested, or waiting for approval."""
    from chorus.inbox.models import Suggestion, SuggestionState

    return (
        Suggestion.objects.filter(
            workspace_id=membership.workspace_id,
            state__in=[SuggestionState.SUGGESTED, SuggestionState.AWAITING_APPROVAL],
        )
        .select_related("account", "contact", "conversation", "variant", "drafted_by__user")
        .order_by("-created_at", "-id")
    )
