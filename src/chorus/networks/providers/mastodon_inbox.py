"""Reading a Mastodon account's inbox: notifications, statuses and threads as Interactions.

Pure mapping, no HTTP: the provider (`mastodon.Mastodon`) fetches and passes the JSON in.

Conversation ids are thread roots (the id of the first status of the thread). That is how
Mastodon itself groups direct messages in `/api/v1/conversations` (one conversation per
thread and set of participants: docs.joinmastodon.org/methods/conversations/), it works for
public replies too, and every server of the API serves the `/context` it is read from, while
the conversation ids of `/api/v1/conversations` have no way to be looked up one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from chorus.text.received import scrub

from .base import Interaction, InteractionKind, Rejected, RemoteRef

# Notification types the inbox reads (docs.joinmastodon.org/entities/Notification/#type):
# `update` is "a status you interacted with has been edited". Anything else is skipped.
NOTIFICATION_TYPES = ("mention", "quote", "reblog", "favourite", "follow", "update")
_ACTIVITY = {"favourite": "like", "reblog": "repost", "follow": "follow"}


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (what Mastodon sends) or Unix seconds (what some proxies send)."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError):
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: Any) -> str:
    """Status `content` is HTML; the inbox shows plain text (never the markup)."""
    parser = _TextExtractor()
    parser.feed(html if isinstance(html, str) else "")
    parser.close()
    return scrub("".join(parser.parts).strip())


def handle_of(account: dict[str, Any]) -> str:
    """`bob` on its home server reads `bob@example.social`, like remote accounts do."""
    acct = str(account.get("acct") or account.get("username") or "")
    if "@" in acct:
        return acct
    host = urlsplit(str(account.get("url") or "")).netloc
    return f"{acct}@{host}" if host else acct


def _name(account: dict[str, Any]) -> str:
    return scrub(str(account.get("display_name") or account.get("username") or ""))


def quoted_id(status: dict[str, Any]) -> str:
    quote = status.get("quote")
    if not isinstance(quote, dict):
        return ""
    quoted = quote.get("quoted_status")
    if isinstance(quoted, dict):
        return str(quoted.get("id") or "")
    return str(quote.get("quoted_status_id") or "")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class InboxMapper:
    """Turns Mastodon JSON into Interactions for the account `our_id`.

    `root_of(status)` gives a status's thread root id (the provider reads `/context`).
    """

    def __init__(self, our_id: str, root_of: Callable[[dict[str, Any]], str]):
        self.our_id = our_id
        self.root_of = root_of

    def from_notification(self, notification: dict[str, Any]) -> Interaction | None:
        """One notification, or None for types and shapes the inbox does not read."""
        account = _dict(notification.get("account"))
        status = _dict(notification.get("status"))
        created_at = parse_time(notification.get("created_at"))
        kind_name = notification.get("type")
        if not account or created_at is None or kind_name not in NOTIFICATION_TYPES:
            return None
        if kind_name in _ACTIVITY:
            kind: InteractionKind = _ACTIVITY[kind_name]  # type: ignore[assignment]
            subject = None
            if status.get("id"):
                subject = RemoteRef(str(status["id"]), url=str(status.get("url") or ""))
            return Interaction(
                kind=kind,
                remote_id=str(notification.get("id") or ""),
                author_handle=handle_of(account),
                created_at=created_at,
                author_name=_name(account),
                author_avatar_url=str(account.get("avatar") or ""),
                url=str(account.get("url") or ""),
                subject=subject,
            )
        if not status.get("id"):
            return None
        item = self.from_status(status, quote=kind_name == "quote")
        return replace(
            item,
            created_at=item.created_at if kind_name == "update" else created_at,
            author_handle=handle_of(account),
            author_name=_name(account),
            author_avatar_url=str(account.get("avatar") or ""),
        )

    def from_status(self, status: dict[str, Any], *, quote: bool = False) -> Interaction:
        """A status someone else wrote (a reply, mention, quote or direct message)."""
        account = _dict(status.get("account"))
        parent = str(status.get("in_reply_to_id") or "")
        replies_to_us = bool(parent) and str(status.get("in_reply_to_account_id")) == self.our_id
        visibility = str(status.get("visibility") or "")
        kind: InteractionKind
        if visibility == "direct":
            kind = "direct_message"
        elif quote:
            kind = "quote"
        elif replies_to_us:
            kind = "reply"
        else:
            kind = "mention"
        subject = None
        if kind == "quote" and quoted_id(status):
            subject = RemoteRef(quoted_id(status))
        elif replies_to_us:
            subject = RemoteRef(parent)
        created_at = parse_time(status.get("created_at")) or datetime.now(UTC)
        return Interaction(
            kind=kind,
            remote_id=str(status["id"]),
            author_handle=handle_of(account),
            created_at=created_at,
            author_name=_name(account),
            author_avatar_url=str(account.get("avatar") or ""),
            text=plain_text(status.get("content")),
            url=str(status.get("url") or status.get("uri") or ""),
            subject=subject,
            conversation_id=self.root_of(status),
            in_reply_to=parent,
            visibility=visibility,
            edited_at=parse_time(status.get("edited_at")),
        )


def deleted(remote_id: str, *, kind: InteractionKind = "mention") -> Interaction:
    """A status that is gone: only its id is known (a `delete` event, a 404)."""
    return Interaction(
        kind=kind, remote_id=remote_id, author_handle="", created_at=datetime.now(UTC), deleted=True
    )


def direct_reply(thread: list[dict[str, Any]], our_id: str, text: str) -> dict[str, Any]:
    """The status body answering a direct conversation: visibility `direct`, in reply to
    its latest direct status, mentioning everyone in it (Mastodon delivers a direct status
    only to the accounts it mentions) who is not mentioned in `text` already."""
    direct = [s for s in thread if s.get("visibility") == "direct"]
    if not direct:
        raise Rejected("this direct-message conversation no longer exists on Mastodon")
    people: dict[str, str] = {}
    for status in direct:
        mentions = status.get("mentions") if isinstance(status.get("mentions"), list) else []
        for account in [_dict(status.get("account")), *mentions]:
            if (
                isinstance(account, dict)
                and account.get("acct")
                and str(account.get("id")) != our_id
            ):
                people.setdefault(str(account.get("id")), str(account["acct"]))
    if not people:
        raise Rejected("nobody else is left in this conversation")
    lowered = text.lower()
    missing = [f"@{acct}" for acct in people.values() if f"@{acct}".lower() not in lowered]
    return {
        "status": " ".join([*missing, text]),
        "visibility": "direct",
        "in_reply_to_id": str(direct[-1]["id"]),
    }
