"""Replying from the inbox, exactly once.

The same ideas as the dispatcher's, on a smaller scale:

- **The row first.** `reply_create` checks everything (role, the account's reply level,
  the network's length limits through publishing's validation, blocking compliance
  policies), then commits a `Reply` in `sending` with its own idempotency key before the
  network is called; the send runs after commit.
- **One sender at a time.** A send claims the row with a conditional UPDATE that sets a
  lease; a worker that dies leaves the lease to run out and the reconciler takes it again.
- **Uncertain means look, not resend.** From the second attempt on (a timeout, a lost
  answer, a lease taken over) a threaded reply first asks the network for the reply already
  made (`Provider.find_published` from the first attempt, leaving out ids we recorded) and
  records that copy; it sends only when the network confirms there is none. Direct messages
  rely on the provider's promise that the same idempotency key never sends twice.
- **Typed outcomes.** `RateLimited` and `Transient` keep the reply `sending` and retry after
  a back-off; `Rejected` or a lost permission make it `failed` with the reason, and
  `AuthExpired` too (the account needs reconnecting); `reply_retry` sends a failed one
  again, reconciling first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import NotAllowed, NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.inbox.models import (
    Conversation,
    ConversationKind,
    ConversationStatus,
    Direction,
    Message,
    Reply,
    ReplyState,
)
from chorus.networks.models import AccessLevel, AccountStatus, SocialAccount
from chorus.networks.providers.base import (
    AuthExpired,
    PostDraft,
    ProviderError,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.selectors import account_levels

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
MAX_REPLY = 10_000


def check_may_reply(actor: Membership, conversation: Conversation) -> None:
    """Working the inbox, and the `reply` level on the conversation's account."""
    check_capability(actor, Capability.WORK_INBOX)
    if conversation.workspace_id != actor.workspace_id:
        raise NotFound(_("No such conversation."))
    check_may_reply_as(actor, conversation.account)


def check_may_reply_as(actor: Membership, account: SocialAccount) -> None:
    check_capability(actor, Capability.WORK_INBOX)
    if AccessLevel.REPLY not in account_levels(actor, account):
        raise NotAllowed(_("You may not reply as %(handle)s.") % {"handle": account.handle})


def may_reply(actor: Membership, conversation: Conversation) -> bool:
    try:
        check_may_reply(actor, conversation)
    except ServiceError:
        return False
    return True


def may_reply_as(actor: Membership, account: SocialAccount) -> bool:
    try:
        check_may_reply_as(actor, account)
    except ServiceError:
        return False
    return True


def check_reply_text(account: SocialAccount, text: str) -> None:
    """The network's limits (the account's own server's) and blocking policies."""
    from chorus.governance.services import policy_check
    from chorus.publishing.validation import check_variant

    if not text.strip():
        raise ServiceError(_("Write the reply first."), field="text")
    problems = check_variant(provider_key=account.provider, text=text, account=account)
    if problems:
        raise ServiceError(problems[0].message, field="text")
    blocking = [
        v for v in policy_check(workspace=account.workspace, text=text, account=account) if v.blocks
    ]
    if blocking:
        raise ServiceError(blocking[0].message, code="policy_blocked", field="text")


def _answering(conversation: Conversation) -> Message | None:
    """The message a reply answers: the latest incoming one."""
    return (
        conversation.messages.filter(direction=Direction.INCOMING)
        .order_by("-created_at", "-pk")
        .first()
    )


def reply_create(
    *,
    actor: Membership,
    conversation: Conversation,
    text: str,
    reply_to: RemoteRef | None = None,
) -> Reply:
    """Check and record the reply; it is sent right after the commit. It answers the latest
    incoming message, or `reply_to` (a thank-you for a repost answers our own post)."""
    from chorus.inbox import tasks

    check_may_reply(actor, conversation)
    text = text.strip()[:MAX_REPLY]
    check_reply_text(conversation.account, text)
    if conversation.account.status != AccountStatus.ACTIVE:
        raise ServiceError(
            _("Reconnect %(handle)s to reply.") % {"handle": conversation.account.handle},
            code="needs_reconnect",
        )
    answering = _answering(conversation) if reply_to is None else None
    if reply_to is None and answering is None:
        raise ServiceError(_("There is no message to answer yet."))
    direct = conversation.kind == ConversationKind.DIRECT and answering is not None
    with transaction.atomic():
        reply = Reply.objects.create(
            conversation=conversation,
            author=actor,
            text=text,
            reply_to_remote_id=answering.remote_id if answering else reply_to.remote_id,
            reply_to_url=answering.url if answering else reply_to.url,
            direct_conversation_id=answering.remote_conversation_id if direct else "",
        )
        transaction.on_commit(lambda: tasks.send_reply(reply.pk))
    return reply


def reply_retry(*, actor: Membership, reply: Reply) -> Reply:
    """Send a failed reply again (the same row and key: it is reconciled first)."""
    from chorus.inbox import tasks

    check_may_reply(actor, reply.conversation)
    if reply.state != ReplyState.FAILED:
        raise ServiceError(_("Only a failed reply can be sent again."), code="conflict")
    Reply.objects.filter(pk=reply.pk, state=ReplyState.FAILED).update(
        state=ReplyState.SENDING, lease_until=None, error=""
    )
    transaction.on_commit(lambda: tasks.send_reply(reply.pk))
    reply.refresh_from_db()
    return reply


def replies_to_reconcile(now: datetime) -> list[int]:
    """Replies still `sending` whose lease ran out (or that were never claimed)."""
    return list(
        Reply.objects.filter(state=ReplyState.SENDING)
        .filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True, created_at__lt=now - LEASE))
        .values_list("pk", flat=True)[:500]
    )


def _claim(reply_id: int, now: datetime) -> Reply | None:
    claimed = (
        Reply.objects.filter(pk=reply_id, state=ReplyState.SENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return None
    reply = Reply.objects.select_related("conversation__account", "author__user").get(pk=reply_id)
    reply.attempts += 1
    reply.uncertain_since = reply.uncertain_since or now  # from now on it may have gone out
    reply.save(update_fields=["attempts", "uncertain_since"])
    return reply


def _draft(reply: Reply) -> PostDraft:
    direct = reply.conversation.kind == ConversationKind.DIRECT
    return PostDraft(
        text=reply.text,
        idempotency_key=str(reply.idempotency_key),
        reply_to=RemoteRef(reply.reply_to_remote_id, url=reply.reply_to_url),
        visibility="direct" if direct else "public",
    )


def _send(provider, reply: Reply) -> RemoteRef:
    if reply.direct_conversation_id:
        return provider.send_direct_message(
            reply.direct_conversation_id, reply.text, idempotency_key=str(reply.idempotency_key)
        )
    draft = _draft(reply)
    if reply.attempts > 1:  # an earlier attempt may have gone out: look before sending
        recorded = frozenset(
            Message.objects.filter(account=reply.conversation.account, direction=Direction.OURS)
            .exclude(remote_id="")
            .values_list("remote_id", flat=True)
        )
        found = provider.find_published(draft, since=reply.uncertain_since, exclude=recorded)
        if found is not None:
            return found.ref
    return provider.publish(draft).ref


def _fail(reply: Reply, message: str) -> None:
    Reply.objects.filter(pk=reply.pk).update(
        state=ReplyState.FAILED, error=message[:2000], lease_until=None
    )


def reply_deliver(*, reply_id: int, now: datetime | None = None) -> Reply | None:
    """Send one claimed reply and record the outcome; None when another sender holds it."""
    from chorus.networks.services import provider_for

    now = now or timezone.now()
    reply = _claim(reply_id, now)
    if reply is None:
        return None
    conversation = reply.conversation
    if reply.author is None or not may_reply(reply.author, conversation):
        _fail(reply, _("The author may no longer reply as this account."))
        return reply
    try:
        with provider_for(conversation.account) as provider:
            ref = _send(provider, reply)
    except (RateLimited, Transient) as exc:
        delay = exc.retry_after if isinstance(exc, RateLimited) else 30 * 2**reply.attempts
        if reply.attempts >= MAX_ATTEMPTS:
            _fail(reply, exc.message)
        else:
            Reply.objects.filter(pk=reply.pk).update(
                error=exc.message[:2000], lease_until=now + timedelta(seconds=delay)
            )
        return reply
    except (Rejected, AuthExpired) as exc:
        _fail(reply, exc.message)
        return reply
    except ProviderError as exc:
        _fail(reply, exc.message)
        return reply
    _record_sent(reply, ref, now)
    return reply


def _record_sent(reply: Reply, ref: RemoteRef, now: datetime) -> None:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=reply.conversation_id)
        conversation.account = reply.conversation.account
        updated = Reply.objects.filter(pk=reply.pk, state=ReplyState.SENDING).update(
            state=ReplyState.SENT,
            remote_id=ref.remote_id[:500],
            url=ref.url[:1000],
            sent_at=now,
            lease_until=None,
            error="",
        )
        if not updated:
            return
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation,
                    account=conversation.account,
                    remote_id=ref.remote_id[:500],
                    direction=Direction.OURS,
                    kind="direct_message"
                    if conversation.kind == ConversationKind.DIRECT
                    else "reply",
                    author=reply.author,
                    text=reply.text,
                    url=ref.url[:1000],
                    subject_remote_id=reply.reply_to_remote_id,
                    remote_conversation_id=reply.direct_conversation_id,
                    created_at=now,
                )
            ],
            ignore_conflicts=True,
        )
        fields = ["message_count", "last_message_at", "status"]
        conversation.message_count += 1
        conversation.last_message_at = max(conversation.last_message_at, now)
        if conversation.status == ConversationStatus.OPEN:
            conversation.status = ConversationStatus.PENDING  # waiting for the customer
        if conversation.first_response_at is None:
            conversation.first_response_at = now
            conversation.first_response_seconds = max(
                0, int((now - conversation.created_at).total_seconds())
            )
            conversation.first_responder = reply.author
            fields += ["first_response_at", "first_response_seconds", "first_responder"]
        conversation.save(update_fields=fields)
        audit_record(
            action=AuditAction.REPLY_SENT,
            actor=reply.author,
            workspace=conversation.workspace_id,
            target=("inbox.conversation", conversation.pk, conversation.preview[:80]),
            changes={
                "after": {
                    "account": conversation.account.handle,
                    "remote_id": ref.remote_id,
                    "text": reply.text[:500],
                }
            },
        )
