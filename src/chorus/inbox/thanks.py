"""Thank-you and follow-up suggestions (seed 003).

- **When.** On arrival (`suggest_on_arrival`, called by `ingest.store_page` in the page's
  transaction): someone reposts one of our posts, quotes it, or replies to it and the reply
  reads positive (`chorus.text.sentiment_of`: English, Thai, Khmer, Armenian, Swahili; never a
  guess in another language). After closing
  (`suggest_follow_ups`, every ten minutes): a conversation we answered, closed for the
  workspace's delay (default 24 hours), gets a follow-up. Both only when the workspace named
  the saved reply to draft them from (`InboxSettings.thank_you_reply`, `follow_up_reply`).
- **What.** The saved reply in the conversation's language (for a repost, the language of
  our post), else its any-language version, with {name} and {handle} filled in; {agent} is
  filled by whoever sends it. A thank-you for a repost answers *our own post* in a reply
  that mentions the reposter (a repost is not a post one can answer, and a public thank-you
  is what Sprout Social and Agorapulse send; a DM would need the person's permission).
- **Once.** One suggestion per (account, key): `thanks:<our post>:<contact>` (a person
  thanked once per post, whether they reposted, quoted and replied) and `follow:<conversation>`.
  Sending takes the row under a lock and moves it to `sent` with its `Reply`, so a double
  click or two workers create one reply; the reply itself goes through the exactly-once path
  of `replies`.
- **Who.** Sending needs the `reply` level on the account, as any reply does. A member who
  may only draft (a contributor, or "draft" without "publish" on the account) sends it for
  approval instead; a member who may publish there approves (sends) or dismisses it. Nothing
  is sent without a person's say unless a workspace admin turns on auto-send (audited); then
  new suggestions are sent as that admin.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.accounts.services import check_capability
from chorus.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.inbox import analysis, replies
from chorus.inbox.models import (
    Activity,
    ActivityKind,
    Conversation,
    ConversationKind,
    ConversationStatus,
    Direction,
    InboxSettings,
    Message,
    SavedReply,
    Suggestion,
    SuggestionKind,
    SuggestionReason,
    SuggestionState,
)
from chorus.inbox.services import fill_variables, inbox_settings
from chorus.networks.models import AccessLevel, SocialAccount
from chorus.networks.providers.base import RemoteRef
from chorus.networks.selectors import account_levels
from chorus.text import sentiment_of

log = logging.getLogger(__name__)

OPEN_STATES = (SuggestionState.SUGGESTED, SuggestionState.AWAITING_APPROVAL)
FOLLOW_UP_WINDOW = timedelta(days=7)  # closed longer ago than delay + this: not followed up
MAX_FOLLOW_UP_HOURS = 30 * 24
AUTO_SEND_BATCH = 200


# --------------------------------------------------------------------------- drafting


def _saved_text(workspace_id: int, name: str, language: str) -> tuple[str, str] | None:
    """The saved reply `name` in `language`, else its any-language version."""
    found = dict(
        SavedReply.objects.filter(
            workspace_id=workspace_id, name=name, language__in={language, ""}
        ).values_list("language", "text")
    )
    if language in found:
        return found[language], language
    return (found[""], "") if "" in found else None


def _mentioning(text: str, contact) -> str:
    """A reply to our own post reaches the reposter only through a mention of them."""
    handle = f"@{contact.handle}"
    return text if handle in text else f"{handle} {text}"


def _draft(settings: InboxSettings, name: str, language: str, contact, **fields) -> Suggestion:
    saved = _saved_text(settings.workspace_id, name, language)
    if saved is None:
        return None
    text = fill_variables(saved[0], contact, None)
    if fields.get("reason") == SuggestionReason.REPOST:
        text = _mentioning(text, contact)
    return Suggestion(
        workspace_id=settings.workspace_id,
        contact=contact,
        language=saved[1] or language,
        text=text,
        created_at=timezone.now(),
        **fields,
    )


def suggest_on_arrival(
    account: SocialAccount, message_ids: list[str], activity_ids: list[str]
) -> int:
    """Thank-you suggestions for what just arrived (called inside store_page's transaction)."""
    if not message_ids and not activity_ids:
        return 0
    settings = InboxSettings.objects.filter(workspace_id=account.workspace_id).first()
    if settings is None or not settings.thank_you_reply:
        return 0
    found: dict[str, tuple] = {}  # key -> (language, contact, fields)
    reposts = Activity.objects.filter(
        account=account,
        remote_id__in=activity_ids,
        kind=ActivityKind.REPOST,
        variant__isnull=False,
        contact__isnull=False,
    ).select_related("contact", "variant")
    for activity in reposts if activity_ids else ():
        key = f"thanks:{activity.subject_remote_id}:{activity.contact_id}"
        language = analysis.language_of(activity.variant.text)
        found.setdefault(
            key,
            (
                language,
                activity.contact,
                {
                    "reason": SuggestionReason.REPOST,
                    "variant": activity.variant,
                    "subject_remote_id": activity.subject_remote_id,
                    "subject_url": activity.variant.remote_url,
                    "conversation": None,
                },
            ),
        )
    messages = Message.objects.filter(
        account=account,
        remote_id__in=message_ids,
        direction=Direction.INCOMING,
        variant__isnull=False,
        contact__isnull=False,
        kind__in=("quote", "reply", "mention"),
    ).select_related("contact", "conversation")
    for message in messages if message_ids else ():
        if message.kind != "quote":
            language = analysis.language_of(message.text)
            if sentiment_of(message.text, language) != "positive":
                continue
        key = f"thanks:{message.subject_remote_id}:{message.contact_id}"
        reason = SuggestionReason.QUOTE if message.kind == "quote" else SuggestionReason.POSITIVE
        fields = {
            "reason": reason,
            "variant_id": message.variant_id,
            "subject_remote_id": message.subject_remote_id,
            "conversation": message.conversation,
        }
        found.setdefault(key, (message.conversation.language, message.contact, fields))
    drafts = []
    for key, (language, contact, fields) in found.items():
        draft = _draft(
            settings,
            settings.thank_you_reply,
            language,
            contact,
            account=account,
            key=key[:600],
            kind=SuggestionKind.THANKS,
            **fields,
        )
        if draft is not None:
            drafts.append(draft)
    return _store(settings, drafts)


def _store(settings: InboxSettings, drafts: list[Suggestion]) -> int:
    if not drafts:
        return 0
    Suggestion.objects.bulk_create(drafts, ignore_conflicts=True)  # one per key, ever
    if settings.auto_send:
        from chorus.inbox import tasks

        workspace_id = settings.workspace_id
        transaction.on_commit(lambda: tasks.auto_send_suggestions(workspace_id))
    return len(drafts)


def suggest_follow_ups(now: datetime) -> int:
    """A follow-up for each conversation we answered that has been closed for the delay."""
    made = 0
    for settings in InboxSettings.objects.exclude(follow_up_reply=""):
        due = now - timedelta(hours=settings.follow_up_hours)
        closed = (
            Conversation.objects.filter(
                workspace_id=settings.workspace_id,
                status=ConversationStatus.CLOSED,
                spam=False,
                opened_by_us=False,
                first_response_at__isnull=False,
                contact__isnull=False,
                closed_at__lte=due,
                closed_at__gt=due - FOLLOW_UP_WINDOW,
            )
            .exclude(
                Exists(
                    Suggestion.objects.filter(
                        kind=SuggestionKind.FOLLOW_UP, conversation=OuterRef("pk")
                    )
                )
            )
            .select_related("contact")[:500]
        )
        drafts = []
        for conversation in closed:
            draft = _draft(
                settings,
                settings.follow_up_reply,
                conversation.language,
                conversation.contact,
                account_id=conversation.account_id,
                key=f"follow:{conversation.pk}",
                kind=SuggestionKind.FOLLOW_UP,
                reason=SuggestionReason.CLOSED,
                conversation=conversation,
                variant_id=conversation.variant_id,
            )
            if draft is not None:
                drafts.append(draft)
        with transaction.atomic():
            made += _store(settings, drafts)
    return made


# --------------------------------------------------------------------------- deciding


def needs_approval(actor: Membership, account: SocialAccount) -> bool:
    """A member who may only draft: a contributor, or "draft" without "publish" here."""
    if not role_can(actor.role, Capability.PUBLISH_POSTS):
        return True
    levels = account_levels(actor, account)
    return AccessLevel.DRAFT in levels and AccessLevel.PUBLISH not in levels


def _locked(actor: Membership, suggestion_id: int) -> Suggestion:
    found = (
        Suggestion.objects.select_for_update(of=("self",))
        .select_related("account", "contact", "conversation__account", "drafted_by__user")
        .filter(pk=suggestion_id, workspace_id=actor.workspace_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such suggestion."))
    return found


def _check_open(suggestion: Suggestion) -> None:
    if suggestion.state not in OPEN_STATES:
        raise Conflict(_("This suggestion was already sent or dismissed."))


def _conversation_for(suggestion: Suggestion, now: datetime) -> Conversation:
    """Where a thank-you for a repost is kept: the conversation a reply of theirs to our
    post would join (so their answer to the thank-you lands beside it)."""
    conversation, _created = Conversation.objects.get_or_create(
        account=suggestion.account,
        key=f"post:{suggestion.subject_remote_id}:{suggestion.contact.handle}"[:600],
        defaults={
            "workspace_id": suggestion.workspace_id,
            "kind": ConversationKind.THREAD,
            "contact": suggestion.contact,
            "variant_id": suggestion.variant_id,
            "status": ConversationStatus.CLOSED,
            "closed_at": now,
            "created_at": now,
            "last_message_at": now,
            "language": suggestion.language,
            "opened_by_us": True,
        },
    )
    return conversation


def suggestion_send(
    *, actor: Membership, suggestion_id: int, text: str | None = None
) -> Suggestion:
    """Send the suggestion (its text, or `text` as edited) as a reply; a member who may only
    draft sends it for approval, and one who may publish approves it by sending."""
    with transaction.atomic():
        suggestion = _locked(actor, suggestion_id)
        account = suggestion.account
        replies.check_may_reply_as(actor, account)
        _check_open(suggestion)
        text = (suggestion.text if text is None else text).strip()
        replies.check_reply_text(account, fill_variables(text, suggestion.contact, actor))
        now = timezone.now()
        if needs_approval(actor, account):
            if suggestion.state == SuggestionState.AWAITING_APPROVAL:
                raise NotAllowed(
                    _("A member who may publish to %(handle)s approves this reply.")
                    % {"handle": account.handle}
                )
            suggestion.state = SuggestionState.AWAITING_APPROVAL
            suggestion.drafted_by, suggestion.text = actor, text
            suggestion.save(update_fields=["state", "drafted_by", "text"])
            return suggestion
        author = suggestion.drafted_by or actor
        conversation = suggestion.conversation or _conversation_for(suggestion, now)
        reply_to = None
        if suggestion.reason == SuggestionReason.REPOST:
            reply_to = RemoteRef(suggestion.subject_remote_id, url=suggestion.subject_url)
        reply = replies.reply_create(
            actor=author,
            conversation=conversation,
            text=fill_variables(text, suggestion.contact, author),
            reply_to=reply_to,
        )
        suggestion.state, suggestion.reply, suggestion.text = SuggestionState.SENT, reply, text
        suggestion.conversation, suggestion.decided_by, suggestion.decided_at = (
            conversation,
            actor,
            now,
        )
        suggestion.save(
            update_fields=["state", "reply", "text", "conversation", "decided_by", "decided_at"]
        )
    return suggestion


def suggestion_dismiss(*, actor: Membership, suggestion_id: int) -> Suggestion:
    check_capability(actor, Capability.WORK_INBOX)
    with transaction.atomic():
        suggestion = _locked(actor, suggestion_id)
        _check_open(suggestion)
        suggestion.state, suggestion.decided_by = SuggestionState.DISMISSED, actor
        suggestion.decided_at = timezone.now()
        suggestion.save(update_fields=["state", "decided_by", "decided_at"])
    return suggestion


def auto_send(workspace_id: int) -> int:
    """Send the workspace's new suggestions as the admin who turned auto-send on."""
    settings = InboxSettings.objects.filter(workspace_id=workspace_id).first()
    if settings is None or not settings.auto_send or settings.auto_send_by is None:
        return 0
    pending = Suggestion.objects.filter(
        workspace_id=workspace_id, state=SuggestionState.SUGGESTED
    ).values_list("pk", flat=True)[:AUTO_SEND_BATCH]
    sent = 0
    for suggestion_id in list(pending):
        try:
            suggestion_send(actor=settings.auto_send_by, suggestion_id=suggestion_id)
        except ServiceError as exc:  # left in the Suggested view for a person to decide
            log.info("auto-send of suggestion %s refused: %s", suggestion_id, exc.message)
        else:
            sent += 1
    return sent


# --------------------------------------------------------------------------- settings

SETTING_FIELDS = ["thank_you_reply", "follow_up_reply", "follow_up_hours", "auto_send"]


def thanks_settings_update(
    *,
    actor: Membership,
    thank_you_reply: str,
    follow_up_reply: str,
    follow_up_hours: int,
    auto_send: bool,
) -> InboxSettings:
    """Which saved replies the suggestions are drafted from, the follow-up delay, and
    auto-send (admins only, as every inbox setting; audited)."""
    check_capability(actor, Capability.MANAGE_INBOX)
    names = set(
        SavedReply.objects.filter(workspace_id=actor.workspace_id).values_list("name", flat=True)
    )
    for field, name in (("thank_you_reply", thank_you_reply), ("follow_up_reply", follow_up_reply)):
        if name and name not in names:
            raise NotFound(_("No such saved reply."), field=field)
    if not 1 <= follow_up_hours <= MAX_FOLLOW_UP_HOURS:
        raise ServiceError(_("Choose between 1 hour and 30 days."), field="follow_up_hours")
    found = inbox_settings(actor.workspace_id)
    before = {name: getattr(found, name) for name in SETTING_FIELDS}
    found.thank_you_reply, found.follow_up_reply = thank_you_reply, follow_up_reply
    found.follow_up_hours, found.auto_send = follow_up_hours, auto_send
    if auto_send and not before["auto_send"]:
        found.auto_send_by = actor
    with transaction.atomic():
        found.save(update_fields=[*SETTING_FIELDS, "auto_send_by"])
        audit_record(
            action=AuditAction.INBOX_RULE_CHANGED,
            actor=actor,
            workspace=actor.workspace_id,
            target=("inbox.inboxsettings", found.pk, "thank-you and follow-up"),
            changes={"before": before, "after": {n: getattr(found, n) for n in SETTING_FIELDS}},
        )
    return found
