"""Working the inbox: statuses, assignment, tags, notes, bulk actions, routing rules, saved
replies and the response target. Every write checks the actor's role here, so the web UI
and the API answer alike; assignments and rule changes go to the audit log."""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership, Team
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import NotFound, ServiceError
from chorus.governance.audit import audit_record, snapshot
from chorus.governance.models import AuditAction
from chorus.inbox.models import (
    Conversation,
    ConversationStatus,
    InboxSettings,
    Note,
    Priority,
    RoutingRule,
    SavedReply,
    Sentiment,
    Tag,
)
from chorus.inbox.routing import MESSAGE_KINDS_FOR_RULES
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers.base import Interaction, ProviderError, RemoteRef
from chorus.text import TermMatcher
from chorus.text.language import known_languages

MAX_TAG = 60
MAX_BULK = 500


def _check_same_workspace(actor: Membership, conversation: Conversation) -> None:
    if conversation.workspace_id != actor.workspace_id:
        raise NotFound(_("No such conversation."))


def conversation_set_status(*, actor: Membership, conversation: Conversation, status: str):
    check_capability(actor, Capability.WORK_INBOX)
    _check_same_workspace(actor, conversation)
    if status not in ConversationStatus.values:
        raise ServiceError(_("Choose open, pending or closed."), field="status")
    conversation.status = status
    conversation.closed_at = timezone.now() if status == ConversationStatus.CLOSED else None
    conversation.save(update_fields=["status", "closed_at"])
    return conversation


def _member(actor: Membership, member_id: int | None) -> Membership | None:
    if not member_id:
        return None
    member = Membership.objects.filter(pk=member_id, workspace_id=actor.workspace_id).first()
    if member is None:
        raise NotFound(_("No such member."), field="assignee")
    return member


def _team(actor: Membership, team_id: int | None) -> Team | None:
    if not team_id:
        return None
    team = Team.objects.filter(pk=team_id, workspace_id=actor.workspace_id).first()
    if team is None:
        raise NotFound(_("No such team."), field="team")
    return team


def conversation_assign(
    *,
    actor: Membership,
    conversation: Conversation,
    assignee_id: int | None,
    team_id: int | None = None,
    note: str = "",
) -> Conversation:
    """Give the conversation to a member and/or a team (None: nobody), with a note."""
    check_capability(actor, Capability.WORK_INBOX)
    _check_same_workspace(actor, conversation)
    member, team = _member(actor, assignee_id), _team(actor, team_id)
    before = {"assignee": conversation.assignee_id, "team": conversation.team_id}
    with transaction.atomic():
        conversation.assignee, conversation.team = member, team
        conversation.save(update_fields=["assignee", "team"])
        if note.strip():
            Note.objects.create(conversation=conversation, author=actor, text=note.strip())
        audit_record(
            action=AuditAction.CONVERSATION_ASSIGNED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.conversation", conversation.pk, conversation.preview[:80]),
            changes={
                "before": before,
                "after": {"assignee": member.pk if member else None, "team": team_id or None},
                "note": note.strip()[:500],
            },
        )
    return conversation


def _clean_tags(tags) -> list[str]:
    cleaned = []
    for tag in tags:
        name = " ".join(str(tag).split()).lower()[:MAX_TAG]
        if name and name not in cleaned:
            cleaned.append(name)
    return cleaned


def conversation_tag(*, actor: Membership, conversation: Conversation, add=(), remove=()):
    check_capability(actor, Capability.WORK_INBOX)
    _check_same_workspace(actor, conversation)
    Tag.objects.bulk_create(
        [Tag(conversation=conversation, name=name) for name in _clean_tags(add)],
        ignore_conflicts=True,
    )
    if remove:
        conversation.tags.filter(name__in=_clean_tags(remove)).delete()
    return conversation


def conversation_set_priority(*, actor: Membership, conversation: Conversation, priority: int):
    check_capability(actor, Capability.WORK_INBOX)
    _check_same_workspace(actor, conversation)
    if priority not in Priority.values:
        raise ServiceError(_("Choose a priority from the list."), field="priority")
    conversation.priority = priority
    conversation.save(update_fields=["priority"])
    return conversation


def note_add(*, actor: Membership, conversation: Conversation, text: str) -> Note:
    check_capability(actor, Capability.WORK_INBOX)
    _check_same_workspace(actor, conversation)
    if not text.strip():
        raise ServiceError(_("Write the note first."), field="text")
    return Note.objects.create(conversation=conversation, author=actor, text=text.strip()[:5000])


BULK_ACTIONS = ("assign", "close", "open", "tag")


def conversations_bulk(
    *,
    actor: Membership,
    ids: list[int],
    action: str,
    assignee_id: int | None = None,
    team_id: int | None = None,
    tag: str = "",
) -> int:
    """One action on many conversations of the actor's workspace; returns how many."""
    check_capability(actor, Capability.WORK_INBOX)
    if action not in BULK_ACTIONS:
        raise ServiceError(_("Choose an action."), field="action")
    if not ids:
        raise ServiceError(_("Select at least one conversation."), field="ids")
    if len(ids) > MAX_BULK:
        raise ServiceError(
            _("Select at most %(count)s conversations at once.") % {"count": MAX_BULK},
            field="ids",
        )
    conversations = list(Conversation.objects.filter(workspace_id=actor.workspace_id, pk__in=ids))
    if action == "tag" and not _clean_tags([tag]):
        raise ServiceError(_("Name the tag."), field="tag")
    with transaction.atomic():
        for conversation in conversations:
            if action == "assign":
                conversation_assign(
                    actor=actor, conversation=conversation, assignee_id=assignee_id, team_id=team_id
                )
            elif action == "tag":
                conversation_tag(actor=actor, conversation=conversation, add=[tag])
            else:
                status = ConversationStatus.CLOSED if action == "close" else ConversationStatus.OPEN
                conversation_set_status(actor=actor, conversation=conversation, status=status)
    return len(conversations)


# --------------------------------------------------------------------------- setup (admins)

RULE_FIELDS = [
    "name",
    "position",
    "is_active",
    "stop",
    "networks",
    "account_ids",
    "kinds",
    "languages",
    "sentiments",
    "keywords",
    "assign_to_id",
    "assign_team_id",
    "add_tags",
    "set_priority",
    "close_as_spam",
]


def _lines(values) -> list[str]:
    return [" ".join(str(v).split()) for v in values if str(v).strip()]


def _check_rule(actor: Membership, data: dict) -> dict:
    from chorus.networks.providers import PROVIDERS

    name = " ".join(str(data.get("name", "")).split())
    if not name:
        raise ServiceError(_("Name the rule."), field="name")
    clean = {"name": name[:120], "position": int(data.get("position") or 0)}
    clean["is_active"] = bool(data.get("is_active", True))
    clean["stop"] = bool(data.get("stop", False))
    clean["networks"] = [n for n in _lines(data.get("networks", [])) if n in PROVIDERS]
    accounts = [int(a) for a in data.get("account_ids", [])]
    if accounts and SocialAccount.objects.filter(
        workspace_id=actor.workspace_id, pk__in=accounts
    ).count() != len(set(accounts)):
        raise NotFound(_("No such social account."), field="account_ids")
    clean["account_ids"] = sorted(set(accounts))
    clean["kinds"] = [k for k in _lines(data.get("kinds", [])) if k in MESSAGE_KINDS_FOR_RULES]
    languages = _lines(data.get("languages", []))
    unknown = [code for code in languages if code not in known_languages()]
    if unknown:
        raise ServiceError(
            _("“%(code)s” is not a language code Chorus knows.") % {"code": unknown[0]},
            field="languages",
        )
    clean["languages"] = languages
    clean["sentiments"] = [s for s in _lines(data.get("sentiments", [])) if s in Sentiment.values]
    keywords = _lines(data.get("keywords", []))
    try:
        TermMatcher(keywords)
    except ValueError:
        raise ServiceError(_("A keyword is empty."), field="keywords") from None
    clean["keywords"] = keywords
    clean["assign_to_id"] = (
        _member(actor, data.get("assign_to_id")).pk if data.get("assign_to_id") else None
    )
    clean["assign_team_id"] = (
        _team(actor, data.get("assign_team_id")).pk if data.get("assign_team_id") else None
    )
    clean["add_tags"] = _clean_tags(data.get("add_tags", []))
    priority = data.get("set_priority")
    if priority not in (None, "") and int(priority) not in Priority.values:
        raise ServiceError(_("Choose a priority from the list."), field="set_priority")
    clean["set_priority"] = None if priority in (None, "") else int(priority)
    clean["close_as_spam"] = bool(data.get("close_as_spam", False))
    return clean


def rule_save(*, actor: Membership, data: dict, rule: RoutingRule | None = None) -> RoutingRule:
    check_capability(actor, Capability.MANAGE_INBOX)
    if rule is not None and rule.workspace_id != actor.workspace_id:
        raise NotFound(_("No such rule."))
    clean = _check_rule(actor, data)
    before = snapshot(rule, RULE_FIELDS) if rule else None
    with transaction.atomic():
        rule = rule or RoutingRule(workspace_id=actor.workspace_id)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save()
        audit_record(
            action=AuditAction.INBOX_RULE_CHANGED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.routingrule", rule.pk, rule.name),
            changes={"before": before, "after": snapshot(rule, RULE_FIELDS)},
        )
    return rule


def rule_delete(*, actor: Membership, rule: RoutingRule) -> None:
    check_capability(actor, Capability.MANAGE_INBOX)
    if rule.workspace_id != actor.workspace_id:
        raise NotFound(_("No such rule."))
    with transaction.atomic():
        audit_record(
            action=AuditAction.INBOX_RULE_CHANGED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.routingrule", rule.pk, rule.name),
            changes={"before": snapshot(rule, RULE_FIELDS), "after": None},
        )
        rule.delete()


def saved_reply_save(
    *, actor: Membership, name: str, text: str, language: str = "", saved=None
) -> SavedReply:
    check_capability(actor, Capability.MANAGE_INBOX)
    if saved is not None and saved.workspace_id != actor.workspace_id:
        raise NotFound(_("No such saved reply."))
    name = " ".join(name.split())[:120]
    if not name:
        raise ServiceError(_("Name the saved reply."), field="name")
    if not text.strip():
        raise ServiceError(_("Write the reply."), field="text")
    if language and language not in known_languages():
        raise ServiceError(
            _("“%(code)s” is not a language code Chorus knows.") % {"code": language},
            field="language",
        )
    clash = SavedReply.objects.filter(workspace_id=actor.workspace_id, name=name, language=language)
    if saved is not None:
        clash = clash.exclude(pk=saved.pk)
    if clash.exists():
        raise ServiceError(_("A saved reply with this name and language exists."), field="name")
    saved = saved or SavedReply(workspace_id=actor.workspace_id)
    saved.name, saved.text, saved.language = name, text.strip(), language
    with transaction.atomic():
        saved.save()
        audit_record(
            action=AuditAction.INBOX_RULE_CHANGED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.savedreply", saved.pk, saved.name),
            changes={"after": snapshot(saved, ["name", "language", "text"])},
        )
    return saved


def saved_reply_delete(*, actor: Membership, saved: SavedReply) -> None:
    check_capability(actor, Capability.MANAGE_INBOX)
    if saved.workspace_id != actor.workspace_id:
        raise NotFound(_("No such saved reply."))
    with transaction.atomic():
        audit_record(
            action=AuditAction.INBOX_RULE_CHANGED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.savedreply", saved.pk, saved.name),
            changes={"before": snapshot(saved, ["name", "language", "text"]), "after": None},
        )
        saved.delete()


def fill_variables(text: str, contact, agent: Membership | None) -> str:
    """{name}, {handle} and {agent} filled in (nothing else expands); without an agent,
    {agent} stays for whoever sends it (a suggestion drafted before anyone picked it up)."""
    values = {
        "{name}": (contact.display_name or contact.handle) if contact else "",
        "{handle}": f"@{contact.handle}" if contact else "",
    }
    if agent is not None:
        values["{agent}"] = agent.user.display_name
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def saved_reply_render(saved: SavedReply, conversation: Conversation, agent: Membership) -> str:
    """The saved text with {name}, {handle} and {agent} filled in (nothing else expands)."""
    return fill_variables(saved.text, conversation.contact, agent)


def inbox_settings(workspace_id: int) -> InboxSettings:
    found, _created = InboxSettings.objects.get_or_create(workspace_id=workspace_id)
    return found


def target_update(
    *, actor: Membership, first_response_minutes: int, business_hours: dict | None = None
) -> InboxSettings:
    """The first-response target and, when given, the business hours its clock runs in
    ({"0": ["09:00", "17:00"], …}, weekday 0 = Monday; {} = around the clock)."""
    from chorus.inbox.targets import parse_hours

    check_capability(actor, Capability.MANAGE_INBOX)
    if not 1 <= first_response_minutes <= 7 * 24 * 60:
        raise ServiceError(_("Choose between 1 minute and 7 days."), field="first_response_minutes")
    found = inbox_settings(actor.workspace_id)
    before = {"first_response_minutes": found.first_response_minutes}
    after = {"first_response_minutes": first_response_minutes}
    fields = ["first_response_minutes"]
    if business_hours is not None:
        parsed = parse_hours(business_hours)
        if len(parsed) != len(business_hours):
            raise ServiceError(
                _("Each open day needs an opening time before its closing time."),
                field="business_hours",
            )
        before["business_hours"] = found.business_hours
        after["business_hours"] = found.business_hours = {
            str(day): [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
            for day, (opens, closes) in sorted(parsed.items())
        }
        fields.append("business_hours")
    with transaction.atomic():
        found.first_response_minutes = first_response_minutes
        found.save(update_fields=fields)
        audit_record(
            action=AuditAction.INBOX_RULE_CHANGED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.inboxsettings", found.pk, "first response target"),
            changes={"before": before, "after": after},
        )
    return found


def conversation_open_for_post(
    *, actor: Membership, account: SocialAccount, network: str, post: Interaction
) -> Conversation:
    """Open a public post found elsewhere (a listened mention) in the inbox of one of our
    accounts on its network, to answer it there: the post becomes the first message of a
    conversation with its author as the contact, stored as polling stores a mention.
    Opening it again gives the same conversation (and a post already in the inbox, the
    conversation it is in). Needs the `reply` level on the account."""
    from chorus.inbox import ingest
    from chorus.inbox.replies import check_may_reply_as
    from chorus.networks.services import provider_for

    if account.workspace_id != actor.workspace_id:
        raise NotFound(_("No such account."), field="account")
    check_may_reply_as(actor, account)
    if account.provider != network:
        raise ServiceError(
            _("Answer from an account on the post's network."),
            code="wrong_network",
            field="account",
        )
    if account.status != AccountStatus.ACTIVE:
        raise ServiceError(
            _("Reconnect %(handle)s to reply.") % {"handle": account.handle},
            code="needs_reconnect",
            field="account",
        )
    try:
        with provider_for(account) as provider:
            ref = provider.resolve_post(RemoteRef(post.remote_id, url=post.url))
    except ProviderError as exc:
        raise ServiceError(
            _("%(handle)s could not find this post: %(reason)s")
            % {"handle": account.handle, "reason": exc.message},
            code="post_not_found",
        ) from exc
    post = dataclasses.replace(post, remote_id=ref.remote_id, url=ref.url or post.url)
    return ingest.store_post(account, post, now=timezone.now()).conversation
