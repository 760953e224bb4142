"""Routing rules, evaluated on arrival in order: a rule whose conditions all hold applies
its actions (assign a member or a team, add tags, set the priority, close as spam).

Keywords match whole words with `chorus.text.TermMatcher`, the matcher compliance policies
use, so a Thai or Khmer keyword is found inside an unspaced sentence but not inside a
longer word. Matchers are built once per rule and batch.
"""

from __future__ import annotations

from django.utils import timezone

from chorus.inbox.analysis import search_form
from chorus.inbox.models import Conversation, ConversationStatus, RoutingRule, Tag
from chorus.text import TermMatcher


def _matcher(rule: RoutingRule) -> TermMatcher | None:
    terms = [k for k in rule.keywords if isinstance(k, str) and k.strip()]
    if not terms:
        return None
    try:
        return TermMatcher(terms)
    except ValueError:
        return None


def _may_contain(rule: RoutingRule, folded: str | None) -> bool:
    """False when no keyword's folded letters occur in the folded text at all: then no
    whole-word match is possible, and the (costlier) word matcher is skipped."""
    if folded is None:
        return True
    return any(
        all(piece in folded for piece in search_form(keyword).split(" "))
        for keyword in rule.keywords
        if isinstance(keyword, str)
    )


def matches(
    rule: RoutingRule, conversation: Conversation, account, kinds, text, matcher, folded=None
) -> bool:
    """Every condition the rule sets holds for this conversation (empty lists: any)."""
    if rule.networks and account.provider not in rule.networks:
        return False
    if rule.account_ids and account.pk not in rule.account_ids:
        return False
    if rule.kinds and not kinds & set(rule.kinds):
        return False
    if rule.languages and conversation.language not in rule.languages:
        return False
    if rule.sentiments and conversation.sentiment not in rule.sentiments:
        return False
    return not rule.keywords or bool(
        matcher is not None and _may_contain(rule, folded) and matcher.find(text)
    )


def act(rule: RoutingRule, conversation: Conversation) -> None:
    if rule.assign_to_id:
        conversation.assignee_id = rule.assign_to_id
    if rule.assign_team_id:
        conversation.team_id = rule.assign_team_id
    if rule.set_priority is not None:
        conversation.priority = rule.set_priority
    if rule.add_tags:
        pending = getattr(conversation, "_new_tags", [])
        conversation._new_tags = pending + [t for t in rule.add_tags if t not in pending]
    if rule.close_as_spam:
        conversation.spam = True
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = timezone.now()


def apply_rules(
    account, conversations: list[Conversation], *, kinds: dict, texts: dict, folded=None
) -> None:
    """Run the workspace's active rules over conversations that just arrived or reopened
    (changes are made on the objects; the caller saves them, then `save_tags`)."""
    if not conversations:
        return
    rules = list(RoutingRule.objects.filter(workspace_id=account.workspace_id, is_active=True))
    if not rules:
        return
    matchers = {rule.pk: _matcher(rule) for rule in rules}
    for conversation in conversations:
        for rule in rules:
            if matches(
                rule,
                conversation,
                account,
                kinds.get(conversation.pk, set()),
                texts.get(conversation.pk, ""),
                matchers[rule.pk],
                (folded or {}).get(conversation.pk),
            ):
                act(rule, conversation)
                if rule.stop:
                    break


def save_tags(conversations: list[Conversation]) -> None:
    rows = [
        Tag(conversation_id=c.pk, name=name[:60])
        for c in conversations
        for name in getattr(c, "_new_tags", [])
    ]
    if rows:
        Tag.objects.bulk_create(rows, ignore_conflicts=True)


# Message kinds a rule may name (ingest stores unknown kinds as "other")
MESSAGE_KINDS_FOR_RULES = ("reply", "mention", "quote", "direct_message", "other")
