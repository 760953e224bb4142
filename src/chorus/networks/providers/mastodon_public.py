"""Reading Mastodon without signing in: an account's profile and statuses on its home server.

- GET /api/v1/accounts/lookup?acct= (docs.joinmastodon.org/methods/accounts/#lookup): the
  account, public, no token needed; 404 when there is none (410, or `suspended: true`,
  for a suspended one).
- GET /api/v1/accounts/:id/statuses (docs.joinmastodon.org/methods/accounts/#statuses):
  its statuses, newest first, 40 at most per page (older pages by `max_id`);
  `exclude_reblogs` leaves out boosts of others, `exclude_replies` its replies. A server
  in limited-federation or "disallow unauthenticated access" mode answers 401: it shows
  nothing to visitors.

The same statuses, read with the account's token, list a connected account's own posts for
the analytics backfill.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .base import PublicPost, Rejected, RemoteRef
from .mastodon_inbox import parse_time, plain_text

PAGE = 40  # the largest `limit` of an account's statuses


def split_address(address: str) -> tuple[str, str]:
    """(server address as typed, username) from `@user@server`, `user@server` or a profile
    address (`https://server/@user`)."""
    text = address.strip()
    if "://" in text:
        parts = urlsplit(text)
        user = parts.path.strip("/").split("/")[0].removeprefix("@")
        server = f"{parts.scheme}://{parts.netloc}"
    else:
        user, _, server = text.removeprefix("@").partition("@")
    if not user or not server or "@" in user or "/" in user:
        raise Rejected(f"{address!r} is not a Mastodon address (e.g. @brand@mastodon.social)")
    return server, user


def status_posts(statuses: Any, account_id: str) -> list[PublicPost]:
    posts = []
    for status in statuses if isinstance(statuses, list) else []:
        if not isinstance(status, dict) or status.get("reblog"):
            continue
        author = status.get("account") if isinstance(status.get("account"), dict) else {}
        at = parse_time(status.get("created_at"))
        if str(author.get("id")) != account_id or at is None or not status.get("id"):
            continue
        posts.append(
            PublicPost(
                ref=RemoteRef(
                    str(status["id"]), url=str(status.get("url") or status.get("uri") or "")
                ),
                published_at=at,
                text=plain_text(status.get("content")),
                likes=int(status.get("favourites_count") or 0),
                reposts=int(status.get("reblogs_count") or 0),
                replies=int(status.get("replies_count") or 0),
                quotes=int(status.get("quotes_count") or 0),
            )
        )
    return posts


def account_statuses(
    read: Callable[[dict[str, Any]], Any],
    account_id: str,
    limit: int,
    *,
    exclude_replies: bool,
) -> list[PublicPost]:
    """Page through the account's statuses (`read` makes one call with these params and
    returns the decoded list) until `limit` are found or the list ends."""
    posts: list[PublicPost] = []
    params: dict[str, Any] = {"exclude_reblogs": "true", "limit": PAGE}
    if exclude_replies:
        params["exclude_replies"] = "true"
    for _page in range(1 + limit // PAGE):
        page = read(params)
        posts += status_posts(page, account_id)
        rows = page if isinstance(page, list) else []
        ids = [str(s.get("id")) for s in rows if isinstance(s, dict)]
        numeric = [i for i in ids if i.isdigit()]
        if len(posts) >= limit or len(ids) < PAGE or not numeric:
            break
        params["max_id"] = min(numeric, key=int)
    return posts[:limit]
