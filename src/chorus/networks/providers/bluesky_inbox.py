"""Reading a Bluesky account's inbox: the notification cursor and thread context.

Pure functions, no HTTP: `bluesky.Bluesky` fetches and passes the JSON in.

The cursor. `app.bsky.notification.listNotifications` pages from the newest item down; its
own `cursor` only leads to older pages, and `seenAt`/`updateSeen` mark what a person has
seen, which is not ours to change (docs.bsky.app/docs/api/app-bsky-notification-list-
notifications). Bluesky dates each item with min(createdAt, indexedAt), so an item indexed
late can land just below the newest one already seen. Our cursor therefore holds the newest
date seen plus the URIs seen within `overlap` of it; each read goes back to that date minus
`overlap` and skips what it already returned. Direct messages have a cursor of their own,
the chat log's (see bluesky_chat), kept in the same cursor as `chat`: one opaque string.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.text.received import scrub

from .base import Interaction, InteractionKind, Rejected, RemoteRef

APP_URL = "https://bsky.app"
CURSOR_URIS = 500  # keeps the cursor small even for an account that gets many likes
_THREAD_POST = "app.bsky.feed.defs#threadViewPost"
NOT_FOUND_POST = "app.bsky.feed.defs#notFoundPost"


def iso(moment: datetime) -> str:
    """The datetime format atproto records use: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def split_at_uri(uri: str) -> tuple[str, str, str]:
    """(repo DID, collection, record key) of an `at://` URI; Rejected if it is not one."""
    parts = uri.removeprefix("at://").split("/") if uri.startswith("at://") else []
    if len(parts) != 3 or not all(parts):
        raise Rejected(f"{uri!r} is not a Bluesky post address (at://did/collection/key)")
    return parts[0], parts[1], parts[2]


def post_url(author: str, uri: str) -> str:
    """The bsky.app page of a post; `author` is a handle or a DID."""
    return f"{APP_URL}/profile/{author}/post/{split_at_uri(uri)[2]}"


def profile_url(author: str) -> str:
    return f"{APP_URL}/profile/{author}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- the cursor


def decode_cursor(
    cursor: str, overlap: timedelta
) -> tuple[datetime | None, dict[str, datetime], str | None]:
    """(oldest date still worth reading, {URI: date} already returned, chat log cursor or
    None when DMs were never read); bad cursors start afresh.

    A full cursor (CURSOR_URIS entries) only vouches for items from its oldest entry on.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii"))) if cursor else {}
    except (ValueError, UnicodeError):
        data = {}
    data = data if isinstance(data, dict) else {}
    chat = data.get("chat") if isinstance(data.get("chat"), str) else None
    seen_data = data.get("seen")
    seen = {
        uri: at
        for uri, value in (seen_data.items() if isinstance(seen_data, dict) else ())
        if (at := parse_time(value)) is not None
    }
    if not seen:
        return None, seen, chat
    floor = max(seen.values()) - overlap
    return (max(floor, min(seen.values())) if len(seen) >= CURSOR_URIS else floor), seen, chat


def encode_cursor(seen: dict[str, datetime], overlap: timedelta, chat: str | None = None) -> str:
    """Keep the URIs dated within `overlap` of the newest one (at most CURSOR_URIS)."""
    data: dict[str, Any] = {}
    if seen:
        newest = max(seen.values())
        recent = sorted(
            ((at, uri) for uri, at in seen.items() if at >= newest - overlap), reverse=True
        )[:CURSOR_URIS]
        data["seen"] = {uri: iso(at) for at, uri in recent}
    if chat is not None:
        data["chat"] = chat
    if not data:
        return ""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


# --------------------------------------------------------------------------- notifications

# listNotifications reasons the inbox reads; others (starterpack-joined, verified,
# like-via-repost...) are skipped.
_NOTIFICATION_KINDS: dict[str, InteractionKind] = {
    "reply": "reply",
    "mention": "mention",
    "quote": "quote",
    "like": "like",
    "repost": "repost",
    "follow": "follow",
}


def _own_post(uri: Any, our_did: str, our_handle: str) -> RemoteRef | None:
    """The post a notification is about (`reasonSubject`), if it names one."""
    if not isinstance(uri, str):
        return None
    try:
        repo = split_at_uri(uri)[0]
    except Rejected:
        return None
    return RemoteRef(uri, url=post_url(our_handle if repo == our_did else repo, uri))


def notification_interaction(
    notification: dict[str, Any], our_did: str, our_handle: str
) -> Interaction | None:
    """One notification, or None for reasons and shapes the inbox does not read.

    Replies, mentions and quotes are conversations (the thread root's URI); likes, reposts
    and follows are activity, with no conversation.
    """
    kind = _NOTIFICATION_KINDS.get(str(notification.get("reason")))
    author = _dict(notification.get("author"))
    created_at = parse_time(notification.get("indexedAt"))
    uri = notification.get("uri")
    if kind is None or not author or created_at is None or not isinstance(uri, str):
        return None
    handle = str(author.get("handle") or author.get("did") or "")
    record = _dict(notification.get("record"))
    reply = _dict(record.get("reply"))
    text = conversation = in_reply_to = ""
    try:
        if kind in ("reply", "mention", "quote"):
            text, url = scrub(str(record.get("text") or "")), post_url(handle, uri)
            conversation = str(_dict(reply.get("root")).get("uri") or uri)
            in_reply_to = str(_dict(reply.get("parent")).get("uri") or "")
        else:
            url = profile_url(handle)
    except Rejected:  # not an at:// URI: nothing to link or answer
        return None
    subject = _own_post(notification.get("reasonSubject"), our_did, our_handle)
    return Interaction(
        kind=kind,
        remote_id=uri,
        author_handle=handle,
        created_at=created_at,
        author_name=scrub(str(author.get("displayName") or "")),
        author_avatar_url=str(author.get("avatar") or ""),
        text=text,
        url=url,
        subject=subject if kind != "mention" else None,
        conversation_id=conversation,
        in_reply_to=in_reply_to,
    )


# --------------------------------------------------------------------------- threads


def gone(uri: str) -> Interaction:
    """A post that no longer resolves: only its URI is known."""
    return Interaction(
        kind="reply", remote_id=uri, author_handle="", created_at=datetime.now(UTC), deleted=True
    )


def post_interaction(post: dict[str, Any], our_did: str, our_handle: str) -> Interaction | None:
    """An `app.bsky.feed.defs#postView` as an Interaction (None when it is malformed)."""
    uri, author = post.get("uri"), _dict(post.get("author"))
    record = _dict(post.get("record"))
    created_at = parse_time(record.get("createdAt")) or parse_time(post.get("indexedAt"))
    if not isinstance(uri, str) or not uri.startswith("at://") or created_at is None:
        return None
    handle = str(author.get("handle") or author.get("did") or "")
    reply = _dict(record.get("reply"))
    parent = str(_dict(reply.get("parent")).get("uri") or "")
    root = str(_dict(reply.get("root")).get("uri") or uri)
    subject = None
    if parent.startswith(f"at://{our_did}/"):
        subject = RemoteRef(parent, url=post_url(our_handle, parent))
    try:
        url = post_url(handle, uri)
    except Rejected:
        return None
    return Interaction(
        kind="reply" if parent else "mention",
        remote_id=uri,
        author_handle=handle,
        created_at=created_at,
        author_name=scrub(str(author.get("displayName") or "")),
        author_avatar_url=str(author.get("avatar") or ""),
        text=scrub(str(record.get("text") or "")),
        url=url,
        subject=subject,
        conversation_id=root,
        in_reply_to=parent,
    )


def thread_items(thread: dict[str, Any], our_did: str, our_handle: str) -> list[Interaction]:
    """The posts of an `app.bsky.feed.getPostThread` answer, oldest first: the parents,
    the post, then every reply below it by date. Parents that are gone come back as
    `deleted` items; blocked ones are left out."""
    parents: list[Interaction] = []
    node = _dict(thread.get("parent"))
    while node:
        if node.get("$type") == NOT_FOUND_POST and isinstance(node.get("uri"), str):
            parents.append(gone(node["uri"]))
        elif node.get("$type", _THREAD_POST) == _THREAD_POST:
            item = post_interaction(_dict(node.get("post")), our_did, our_handle)
            if item is not None:
                parents.append(item)
        node = _dict(node.get("parent"))
    parents.reverse()
    here = post_interaction(_dict(thread.get("post")), our_did, our_handle)
    replies: list[Interaction] = []
    stack = list(thread.get("replies") or [])
    while stack:
        reply = _dict(stack.pop())
        if reply.get("$type", _THREAD_POST) != _THREAD_POST:
            continue
        item = post_interaction(_dict(reply.get("post")), our_did, our_handle)
        if item is not None:
            replies.append(item)
        stack.extend(reply.get("replies") or [])
    replies.sort(key=lambda item: item.created_at)
    return parents + ([here] if here else []) + replies
