"""Reading Bluesky without signing in: public profiles and author feeds.

A Bluesky AppView answers `app.bsky.*` reads for anyone; Bluesky runs a public, cached one
at public.api.bsky.app (docs.bsky.app/docs/advanced-guides/api-directory, "Bluesky
Services"). CHORUS_ATPROTO_PUBLIC_APPVIEW points elsewhere (a private network's AppView).

- app.bsky.actor.getProfile (docs.bsky.app/docs/api/app-bsky-actor-get-profile): a
  profile and its follower, follows and post counts; an account that is gone answers 400
  with `AccountDeactivated`, `AccountTakedown` or "Profile not found".
- app.bsky.feed.getAuthorFeed (docs.bsky.app/docs/api/app-bsky-feed-get-author-feed):
  the account's posts, newest first, with `filter=posts_no_replies`; reposts of others come
  with a `reason` and are skipped. The same feed, read through the account's own PDS, lists
  a connected account's own posts for the analytics backfill.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from .base import PublicPost, Rejected, RemoteRef
from .bluesky_inbox import parse_time, post_url

PUBLIC_APPVIEW = "https://public.api.bsky.app"
FEED_PAGE = 100  # getAuthorFeed's largest `limit`
GONE_ERRORS = frozenset({"AccountDeactivated", "AccountTakedown", "BlockedActor"})
_HANDLE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}$")
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")


def public_appview() -> str:
    options = settings.CHORUS_NETWORK_OPTIONS.get("bluesky", {})
    return (options.get("public_appview") or PUBLIC_APPVIEW).rstrip("/")


def actor_of(address: str) -> str:
    """A handle or DID from what a user typed: `@brand.bsky.social`, a DID, or a bsky.app
    profile address (`https://bsky.app/profile/brand.bsky.social`)."""
    text = address.strip()
    if "://" in text:
        path = urlsplit(text).path.strip("/").split("/")
        text = path[1] if len(path) >= 2 and path[0] == "profile" else ""
    text = text.removeprefix("@")
    if _DID.match(text):
        return text
    if _HANDLE.match(text):
        return text.lower()
    raise Rejected(f"{address!r} is not a Bluesky handle (e.g. brand.bsky.social)")


def is_gone(status: int, error: str, message: str) -> bool:
    """Whether a getProfile/getAuthorFeed refusal says the account is not there."""
    return status == 400 and (error in GONE_ERRORS or "not found" in message.lower())


def feed_posts(feed: Any, did: str, limit: int) -> list[PublicPost]:
    """The account's own posts of a getAuthorFeed page (reposts and pins skipped)."""
    posts = []
    for item in feed if isinstance(feed, list) else []:
        if not isinstance(item, dict) or item.get("reason"):
            continue
        post = item.get("post") if isinstance(item.get("post"), dict) else {}
        author = post.get("author") if isinstance(post.get("author"), dict) else {}
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        uri, at = post.get("uri"), parse_time(record.get("createdAt"))
        if at is None:
            at = parse_time(post.get("indexedAt"))
        if not isinstance(uri, str) or author.get("did") != did or at is None:
            continue
        try:
            url = post_url(str(author.get("handle") or did), uri)
        except Rejected:
            continue
        posts.append(
            PublicPost(
                ref=RemoteRef(uri, url=url, extra={"cid": str(post.get("cid") or "")}),
                published_at=at,
                text=str(record.get("text") or ""),
                likes=int(post.get("likeCount") or 0),
                reposts=int(post.get("repostCount") or 0),
                replies=int(post.get("replyCount") or 0),
                quotes=int(post.get("quoteCount") or 0),
            )
        )
    return posts[:limit]


def author_feed(
    read: Callable[[dict[str, Any]], dict[str, Any]], did: str, limit: int
) -> list[PublicPost]:
    """Page through getAuthorFeed (`read` makes one call with these params) until `limit`
    own posts are found or the feed ends."""
    posts: list[PublicPost] = []
    params: dict[str, Any] = {"actor": did, "filter": "posts_no_replies", "limit": FEED_PAGE}
    for _page in range(1 + limit // FEED_PAGE):
        page = read(params)
        posts += feed_posts(page.get("feed"), did, limit - len(posts))
        cursor = page.get("cursor")
        if len(posts) >= limit or not isinstance(cursor, str) or not cursor:
            break
        params["cursor"] = cursor
    return posts
