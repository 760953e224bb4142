"""Reading a bot's updates (core.telegram.org/bots/api#getupdates) as the inbox sees them.

A channel has no replies of its own: people comment in the channel's discussion group
(core.telegram.org/api/discussion). Telegram copies each channel post into that group as
an automatic forward (`is_automatic_forward`, `forward_origin` naming the channel post), and a
comment is a group message replying to that copy, or to another comment in its thread
(`message_thread_id` is the copy's id). So, for a channel account:

- a reply to the automatic forward of our post N -> a `reply` whose subject is post N;
- a reply to another comment under our post -> a `reply` in the same conversation;
- a reply to a message the bot itself sent in the group (our answer to a comment) -> a
  `reply` whose subject is that message.

For a group account, messages replying to the bot's messages are replies, and messages
naming the bot (`@bot_username`) are mentions. Everything else (chatter, service messages,
automatic forwards themselves) is not an interaction.

Interaction ids are `<chat id>:<message id>`: message ids are only unique within a chat,
and `publish` accepts that form as a reply target, so answering a comment lands in the
discussion group under it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .base import Interaction, InteractionKind, RemoteRef


def message_url(chat: dict[str, Any] | str, message_id: int | str) -> str:
    """The t.me link of a message: public chats by username, private ones by their id."""
    username = chat.get("username") if isinstance(chat, dict) else ""
    if username:
        return f"https://t.me/{username}/{message_id}"
    chat_id = str(chat.get("id") if isinstance(chat, dict) else chat)
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return ""


def _author(message: dict[str, Any]) -> tuple[str, str]:
    """Handle and name of whoever wrote it: a user, or a chat posting as itself."""
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("sender_chat") if isinstance(message.get("sender_chat"), dict) else None
    if chat:  # anonymous admins and channels write as a chat
        return str(chat.get("username") or chat.get("id") or ""), str(chat.get("title") or "")
    name = " ".join(
        str(sender.get(key) or "") for key in ("first_name", "last_name") if sender.get(key)
    )
    handle = str(sender.get("username") or "") or f"id{sender.get('id', '')}"
    return handle, name


def _origin_post(message: dict[str, Any], channel_id: str) -> str:
    """The channel post an automatic forward copies, if it copies one of ours."""
    if not message.get("is_automatic_forward"):
        return ""
    origin = message.get("forward_origin")
    if isinstance(origin, dict) and origin.get("type") == "channel":
        chat = origin.get("chat") if isinstance(origin.get("chat"), dict) else {}
        if str(chat.get("id")) == channel_id:
            return str(origin.get("message_id") or "")
    legacy = message.get("forward_from_chat")  # before Bot API 7.0
    if isinstance(legacy, dict) and str(legacy.get("id")) == channel_id:
        return str(message.get("forward_from_message_id") or "")
    return ""


def automatic_forward_of(update: dict[str, Any], channel_id: str) -> tuple[str, dict] | None:
    """(our channel post id, the group's copy) when this update is that copy."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    post = _origin_post(message, channel_id)
    return (post, message) if post else None


def interaction_of(update: dict[str, Any], identity: dict[str, Any]) -> Interaction | None:
    """The interaction an update carries for this account, or None (see the docstring)."""
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None
    chat = message["chat"]
    chat_id, own_chat = str(chat.get("id")), str(identity.get("chat_id", ""))
    group = str(identity.get("linked_chat_id") or "")
    bot_id = str(identity.get("bot_id", ""))
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    text = str(message.get("text") or message.get("caption") or "")
    if str(sender.get("id")) == bot_id or message.get("is_automatic_forward") or not text:
        return None
    parent = message.get("reply_to_message")
    parent = parent if isinstance(parent, dict) else None
    parent_from = parent.get("from") if parent and isinstance(parent.get("from"), dict) else {}
    kind: InteractionKind | None = None
    subject: RemoteRef | None = None
    url = message_url(chat, message.get("message_id", ""))
    thread = str(message.get("message_thread_id") or "")
    if group and chat_id == group:
        post = _origin_post(parent, own_chat) if parent else ""
        if post:
            kind, subject = "reply", RemoteRef(post, url=message_url(_channel(identity), post))
        elif parent and str(parent_from.get("id")) == bot_id:
            kind = "reply"
            subject = RemoteRef(f"{chat_id}:{parent.get('message_id')}")
        elif parent and thread:
            kind = "reply"  # an answer to another comment under one of our posts
        if kind and identity.get("username") and subject and subject.remote_id.isdigit():
            url = f"https://t.me/{identity['username']}/{post}?comment={message['message_id']}"
    elif chat_id == own_chat:
        if parent and str(parent_from.get("id")) == bot_id:
            kind, subject = "reply", RemoteRef(str(parent.get("message_id")))
        elif identity.get("bot_username") and f"@{identity['bot_username']}".lower() in (
            text.lower()
        ):
            kind = "mention"
    if kind is None:
        return None
    handle, name = _author(message)
    return Interaction(
        kind=kind,
        remote_id=f"{chat_id}:{message.get('message_id')}",
        author_handle=handle,
        author_name=name,
        created_at=datetime.fromtimestamp(int(message.get("date") or 0), UTC),
        text=text,
        url=url,
        subject=subject,
        conversation_id=f"{chat_id}:{thread}" if thread else "",
    )


def _channel(identity: dict[str, Any]) -> dict[str, Any]:
    return {"id": identity.get("chat_id", ""), "username": identity.get("username", "")}
