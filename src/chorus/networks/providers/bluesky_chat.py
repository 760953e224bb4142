"""Bluesky direct messages: the `chat.bsky.convo.*` API, through the account's PDS.

Chat lives on its own service, not on the PDS or the AppView. A client calls its PDS with
the header `atproto-proxy: did:web:api.bsky.chat#bsky_chat` and the PDS forwards the call
with a service token (docs.bsky.app/docs/advanced-guides/service-auth and the
`chat.bsky.convo.*` lexicons, docs.bsky.app/docs/api/chat-bsky-convo-get-log). The PDS only
does so for sessions allowed to: an app password made without "Allow access to your direct
messages" gets `400 InvalidToken "Bad token method"`, which we turn into a message saying
which kind of app password to make.

Reading. `chat.bsky.convo.getLog` is the chat service's event log: called with no cursor it
answers the current cursor; called with one it answers the events after it, oldest first,
and a new cursor. The first read therefore pins the cursor and takes each conversation's
latest message from `listConvos`, so a new inbox starts with something; later reads follow
the log (`logCreateMessage` is a message, `logDeleteMessage` a deletion) and never skip an
event. Messages we sent ourselves are left out: they are what the inbox sent.

Sending. `chat.bsky.convo.sendMessage` takes no idempotency key. Before sending, we read the
conversation's latest messages: if the newest one is ours, with the same text, sent within
`RESEND_WINDOW`, it is taken as the earlier attempt of this same send and returned instead of
sending again. The price: the same words sent twice in a row on purpose within that window
go out once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from chorus.text.received import scrub

from .base import AuthExpired, Interaction, Rejected, RemoteRef, Transient

if TYPE_CHECKING:
    from .bluesky import Bluesky

CHAT_SERVICE = "did:web:api.bsky.chat#bsky_chat"
APP_MESSAGES_URL = "https://bsky.app/messages"
RESEND_WINDOW = timedelta(minutes=10)
NO_DM_ACCESS = (
    "this Bluesky app password has no access to direct messages: in Bluesky, Settings > "
    "Privacy and security > App passwords, create one with “Allow access to your direct "
    "messages” ticked, then reconnect the account with it"
)
_MESSAGE = "chat.bsky.convo.defs#messageView"
_DELETED = "chat.bsky.convo.defs#deletedMessageView"
_LOG_CREATE = "chat.bsky.convo.defs#logCreateMessage"
_LOG_DELETE = "chat.bsky.convo.defs#logDeleteMessage"
_FIRST_CONVOS = 20


def chat_refusal(response: httpx.Response, error: tuple[str, str]) -> None:
    """Chat-specific refusals in plain words; returns for the generic mapping to handle."""
    name, message = error
    if response.status_code < 400:
        return
    if name == "InvalidToken" and "method" in message.lower():
        raise AuthExpired(NO_DM_ACCESS)
    if name == "InvalidConvo":
        raise Rejected("this Bluesky conversation no longer exists or you have left it")
    if name == "ConvoLocked":
        raise Rejected("this Bluesky conversation is locked: no more messages can be sent")
    if "recipient" in message.lower() or "incoming messages" in message.lower():
        raise Rejected(f"the other account does not take these messages (Bluesky: {message})")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Chat:
    """One account's conversations; every call goes through `provider.chat_call`."""

    def __init__(self, provider: Bluesky):
        self.provider = provider
        self.profiles: dict[str, dict[str, Any]] = {}

    def _call(self, nsid: str, **kwargs: Any) -> dict[str, Any]:
        return self.provider.chat_call(nsid, **kwargs)

    # ------------------------------------------------------------------ reading

    def read(self, cursor: str | None, *, max_pages: int) -> tuple[list[Interaction], str]:
        """Messages after `cursor` (None: the first read) and the cursor to keep."""
        if cursor is None:
            pinned = str(self._call("chat.bsky.convo.getLog").get("cursor") or "")
            return self._latest(), pinned
        items: list[Interaction] = []
        for _ in range(max_pages):
            page = self._call("chat.bsky.convo.getLog", params={"cursor": cursor} if cursor else {})
            logs = [log for log in page.get("logs") or [] if isinstance(log, dict)]
            for log in logs:
                self._learn(log.get("relatedProfiles"))
                item = self._from_log(log)
                if item is not None:
                    items.append(item)
            after = str(page.get("cursor") or "")
            if not logs or not after or after == cursor:
                break
            cursor = after
        return items, cursor or ""

    def _latest(self) -> list[Interaction]:
        answer = self._call("chat.bsky.convo.listConvos", params={"limit": _FIRST_CONVOS})
        items = []
        for convo in answer.get("convos") or []:
            if not isinstance(convo, dict) or not convo.get("id"):
                continue
            self._learn(convo.get("members"))
            item = self._from_message(str(convo["id"]), _dict(convo.get("lastMessage")))
            if item is not None:
                items.append(item)
        return items

    def _learn(self, profiles: Any) -> None:
        for profile in profiles if isinstance(profiles, list) else []:
            if isinstance(profile, dict) and isinstance(profile.get("did"), str):
                self.profiles[profile["did"]] = profile

    def _profile(self, convo_id: str, did: str) -> dict[str, Any]:
        if did not in self.profiles:
            try:
                convo = self._call("chat.bsky.convo.getConvo", params={"convoId": convo_id})
            except Rejected:
                convo = {}
            self._learn(_dict(convo.get("convo")).get("members"))
        return self.profiles.get(did, {"did": did})

    def _from_log(self, log: dict[str, Any]) -> Interaction | None:
        kind, convo_id = log.get("$type"), str(log.get("convoId") or "")
        message = _dict(log.get("message"))
        if not convo_id or not message.get("id"):
            return None
        if kind == _LOG_DELETE or (kind == _LOG_CREATE and message.get("$type") == _DELETED):
            return Interaction(
                kind="direct_message",
                remote_id=str(message["id"]),
                author_handle="",
                created_at=_time(message.get("sentAt")) or datetime.now(UTC),
                conversation_id=convo_id,
                visibility="direct",
                deleted=True,
            )
        if kind == _LOG_CREATE:
            return self._from_message(convo_id, message)
        return None  # reads, reactions, joins, mutes...: not inbox items

    def _from_message(self, convo_id: str, message: dict[str, Any]) -> Interaction | None:
        """A message someone else sent, or None (ours, system messages, unknown shapes)."""
        sender = str(_dict(message.get("sender")).get("did") or "")
        sent_at = _time(message.get("sentAt"))
        if message.get("$type", _MESSAGE) != _MESSAGE or not message.get("id") or not sender:
            return None
        if sender == self.provider.did or sent_at is None:
            return None
        profile = self._profile(convo_id, sender)
        reply = _dict(message.get("replyTo"))
        return Interaction(
            kind="direct_message",
            remote_id=str(message["id"]),
            author_handle=str(profile.get("handle") or sender),
            created_at=sent_at,
            author_name=scrub(str(profile.get("displayName") or "")),
            author_avatar_url=str(profile.get("avatar") or ""),
            text=scrub(str(message.get("text") or "")),
            url=f"{APP_MESSAGES_URL}/{convo_id}",
            conversation_id=convo_id,
            in_reply_to=str(reply.get("id") or ""),
            visibility="direct",
        )

    # ------------------------------------------------------------------ sending

    def send(self, convo_id: str, text: str) -> RemoteRef:
        if not text.strip():
            raise Rejected("the message is empty")
        earlier = self._earlier_attempt(convo_id, text)
        if earlier is not None:
            return self._ref(convo_id, earlier)
        try:
            sent = self._call(
                "chat.bsky.convo.sendMessage", body={"convoId": convo_id, "message": {"text": text}}
            )
        except Transient:
            earlier = self._earlier_attempt(convo_id, text)
            if earlier is None:
                raise
            return self._ref(convo_id, earlier)
        if not sent.get("id"):
            raise Transient("Bluesky accepted the message but sent no message id")
        return self._ref(convo_id, sent)

    def _earlier_attempt(self, convo_id: str, text: str) -> dict[str, Any] | None:
        """The newest message, if it is this same message sent by us moments ago."""
        try:
            page = self._call(
                "chat.bsky.convo.getMessages", params={"convoId": convo_id, "limit": 20}
            )
        except Transient:
            return None
        for message in page.get("messages") or []:
            if not isinstance(message, dict) or message.get("$type", _MESSAGE) != _MESSAGE:
                continue
            sender = str(_dict(message.get("sender")).get("did") or "")
            sent_at = _time(message.get("sentAt"))
            recent = sent_at is not None and datetime.now(UTC) - sent_at < RESEND_WINDOW
            if sender == self.provider.did and message.get("text") == text and recent:
                return message
            return None  # only the newest message counts
        return None

    @staticmethod
    def _ref(convo_id: str, message: dict[str, Any]) -> RemoteRef:
        return RemoteRef(
            remote_id=str(message["id"]),
            url=f"{APP_MESSAGES_URL}/{convo_id}",
            extra={"convo_id": convo_id},
        )
