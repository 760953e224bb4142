"""The X API v2 part of the network emulator: what the X connector speaks, on the wire X
documents, so the provider is tested against X's shapes with no X server to run.

Routes (each handler cites its documentation page): the OAuth 2.0 consent page and token
endpoint (authorization code with PKCE S256, refresh-token rotation), `users/me`, creating,
reading and deleting posts (replies, threads, polls, media), a user's posts, mentions,
recent search by `conversation_id`, and the chunked media upload (INIT, APPEND, FINALIZE,
STATUS, metadata). Refusals are problem details (`title`, `detail`, `type`, `status`);
answers carry `x-rate-limit-*` and, on posting, `x-user-limit-24hour-*`.

Like X it escapes `&<>` and rewrites links to t.co in stored text, and adds a t.co link
for attached media, so reconciliation is tested against what X really gives back. Control
endpoints under `/_emulator/x/`: `post` (another user posts: a mention, a reply, a quote),
`metrics` and `user_metrics` (set public metrics), `client` (an app's secret, then checked),
`tier` ("free": no reading of mentions, search or timelines, as X's free tier), `daily_cap`
(posts per user per 24 hours), `expire` (a user's access tokens expire now).
"""

from __future__ import annotations

import calendar
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chorus.networks.providers.x_wire import replace_links
from chorus.testing.emulator_x_media import XMedia
from chorus.testing.emulator_x_oauth import Problem, XOAuth, problem
from chorus.text import count

if TYPE_CHECKING:
    from chorus.testing.emulator import Emulator, FaultStep, _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
PUBLISH_ROUTES = frozenset({"x.tweets.create"})
MAX_WEIGHTED = 280
_ITEM = re.compile(r"^/2/(tweets|users|media/upload)/([^/]+)(?:/([a-z]+))?$")
_FORBIDDEN_TIER = {
    "title": "Client Forbidden",
    "detail": (
        "When authenticating requests to the Twitter API v2 endpoints, you must use keys and "
        "tokens from a Twitter developer App that is attached to a Project with the "
        "appropriate level of API access."
    ),
    "reason": "client-not-enrolled",
    "required_enrollment": "Appropriate Level of API Access",
    "registration_url": "https://developer.x.com/en/portal/product",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}


def error(status: int, text: str = "") -> Reply:
    return status, problem(status, text), []


def fault_reply(step: FaultStep, limit: int) -> Reply:
    """An injected fault as X sends it; a 429 carries `x-rate-limit-reset`."""
    headers: list[tuple[str, str]] = []
    if step.status == 429:
        reset = int(time.time() + (step.retry_after if step.retry_after is not None else 60))
        headers = rate_headers(limit, 0, reset)
    return step.status, problem(step.status, step.error), headers


def rate_headers(limit: int, remaining: int, reset: float) -> list[tuple[str, str]]:
    """docs.x.com/x-api/fundamentals/rate-limits: epoch seconds in x-rate-limit-reset."""
    return [
        ("x-rate-limit-limit", str(limit)),
        ("x-rate-limit-remaining", str(max(0, remaining))),
        ("x-rate-limit-reset", str(int(reset))),
    ]


class XApi(XOAuth, XMedia):
    """State and handlers; `Emulator` owns one and routes `/2/...` and `/i/oauth2/...` here."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, str] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.clients: dict[str, str] = {}  # client id -> secret, once registered by control
        self.tokens: dict[str, dict[str, Any]] = {}  # access token -> user id, expiry
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.posted: dict[str, list[float]] = {}  # user id -> times of posts (daily cap)
        self.tier = "basic"
        self.daily_cap = 100
        self._ids = int(time.time() * 1000) << 22

    def _next_id(self) -> str:
        self._ids += 1 + secrets.randbelow(1000)
        return str(self._ids)

    def user(self, username: str) -> dict[str, Any]:
        key = username.lower()
        if key not in self.by_name:
            user_id = self._next_id()
            self.by_name[key] = user_id
            self.users[user_id] = {
                "id": user_id,
                "username": username,
                "name": username.replace("_", " ").title(),
                "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}.jpg",
                "public_metrics": {
                    "followers_count": 0,
                    "following_count": 0,
                    "tweet_count": 0,
                    "listed_count": 0,
                    "like_count": 0,
                },
            }
        return self.users[self.by_name[key]]

    # ----------------------------------------------------------------- routing

    def resolve(self, request: _Request) -> tuple[Callable[[_Request, str], Reply] | None, str]:
        method, path = request.method, request.path.rstrip("/")
        exact = {
            ("GET", "/i/oauth2/authorize"): ("oauth2.authorize", self.authorize_page),
            ("POST", "/i/oauth2/authorize"): ("oauth2.authorize", self.authorize_answer),
            ("POST", "/2/oauth2/token"): ("oauth2.token", self.token),
            ("GET", "/2/users/me"): ("users.me", self.me),
            ("POST", "/2/tweets"): ("tweets.create", self.create),
            ("GET", "/2/tweets"): ("tweets.lookup", self.lookup),
            ("GET", "/2/tweets/search/recent"): ("tweets.search", self.search),
            ("POST", "/2/media/upload/initialize"): ("media.initialize", self.initialize),
            ("GET", "/2/media/upload"): ("media.status", self.media_status),
            ("POST", "/2/media/metadata"): ("media.metadata", self.metadata),
        }
        found = exact.get((method, path))
        arg = ""
        if found is None:
            match = _ITEM.match(path)
            if match:
                kind, arg, action = match.groups()
                found = {
                    ("GET", "tweets", None): ("tweets.get", self.get_post),
                    ("DELETE", "tweets", None): ("tweets.delete", self.delete),
                    ("GET", "users", "tweets"): ("users.tweets", self.timeline),
                    ("GET", "users", "mentions"): ("users.mentions", self.mentions),
                    ("POST", "media/upload", "append"): ("media.append", self.append),
                    ("POST", "media/upload", "finalize"): ("media.finalize", self.finalize),
                }.get((method, kind, action))
        if found is None:
            request.route = "x.unknown"
            return (lambda r, a: error(404, f"no route {method} {path}")), ""
        request.route = f"x.{found[0]}"
        handler = found[1]

        def run(req: _Request, value: str) -> Reply:
            try:
                return handler(req, value)
            except Problem as refused:
                return refused.reply

        return run, arg

    def account_of(self, request: _Request) -> str:
        entry = self.tokens.get(request.bearer)
        return self.users[entry["user"]]["username"] if entry else request.bearer

    def _caller(self, request: _Request) -> dict[str, Any]:
        """The user a bearer token acts for; 401 as X answers an expired or revoked one."""
        entry = self.tokens.get(request.bearer)
        if entry is None or entry["expires"] < time.time():
            self.emulator.counters["auth_rejected"] += 1
            raise Problem(401, "Unauthorized")
        user = self.users[entry["user"]]
        if user["username"] in self.emulator.revoked:
            self.emulator.counters["auth_rejected"] += 1
            raise Problem(401, "Unauthorized")
        from chorus.testing.emulator_http import _Reply

        try:
            self.emulator._consume(request, user["username"])
        except _Reply as limited:
            raise Problem(429, "Too Many Requests", headers=limited.reply[2]) from None
        return user

    def _needs_tier(self) -> None:
        if self.tier == "free":
            raise Problem(403, **_FORBIDDEN_TIER)

    # ----------------------------------------------------------------- users

    def me(self, request: _Request, _: str) -> Reply:
        """docs.x.com/x-api/users/get-my-user"""
        user = self._caller(request)
        return 200, {"data": self._user_view(user, request.arg("user.fields"))}, []

    @staticmethod
    def _user_view(user: dict[str, Any], fields: str) -> dict[str, Any]:
        wanted = {"id", "username", "name", *fields.split(",")}
        return {k: v for k, v in user.items() if k in wanted}

    # ----------------------------------------------------------------- posts

    def create(self, request: _Request, _: str) -> Reply:
        """docs.x.com/x-api/posts/create-post; the daily cap per user answers 429 with
        x-user-limit-24hour-* (docs.x.com/x-api/fundamentals/rate-limits)."""
        user = self._caller(request)
        now = time.time()
        posted = [t for t in self.posted.get(user["id"], []) if t > now - 86400]
        reset = int((posted[0] if posted else now) + 86400)
        cap = [
            ("x-user-limit-24hour-limit", str(self.daily_cap)),
            ("x-user-limit-24hour-reset", str(reset)),
        ]
        if len(posted) >= self.daily_cap:
            raise Problem(
                429, "Too Many Requests", headers=[*cap, ("x-user-limit-24hour-remaining", "0")]
            )
        body = request.json()
        text = str(body.get("text") or "")
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
        if not text.strip() and not media_ids:
            raise Problem(
                400,
                "Invalid Request: One or more parameters to your request was invalid.",
                errors=[{"message": "text or media is required"}],
            )
        if count(text, "x-weighted") > MAX_WEIGHTED:
            raise Problem(400, "Your Tweet text is too long.")
        self._check_media(user, media_ids)
        poll = self._check_poll(body.get("poll"))
        if poll and media_ids:
            raise Problem(400, "A post carries a poll or media, not both.")
        post_id = self._next_id()
        stored = self._stored_text(text, media_ids)
        if any(
            p["author_id"] == user["id"] and p["text"] == stored and p["created"] > now - 86400
            for p in self.posts.values()
        ):
            raise Problem(403, "You are not allowed to create a Tweet with duplicate content.")
        reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        if reply_to and reply_to not in self.posts:
            raise Problem(
                403, "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        post = self._new_post(post_id, stored, user["id"], reply_to)
        if media_ids:
            post["attachments"] = {"media_keys": [self.media[m]["key"] for m in media_ids]}
        if poll:
            post["poll"] = poll
        self.posts[post_id] = post
        self.posted[user["id"]] = [*posted, now]
        user["public_metrics"]["tweet_count"] += 1
        self.emulator._published("x", user["username"], "", post_id, now, text)
        left = self.daily_cap - len(posted) - 1
        headers = [*cap, ("x-user-limit-24hour-remaining", str(left))]
        return (
            201,
            {"data": {"id": post_id, "text": stored, "edit_history_tweet_ids": [post_id]}},
            headers,
        )

    def _new_post(self, post_id: str, text: str, author_id: str, reply_to: str) -> dict[str, Any]:
        """A post as X keeps it; a reply joins its parent's conversation."""
        metrics = ("retweet", "reply", "like", "quote", "bookmark", "impression")
        post: dict[str, Any] = {
            "id": post_id,
            "text": text,
            "author_id": author_id,
            "created": time.time(),
            "conversation_id": post_id,
            "public_metrics": {f"{name}_count": 0 for name in metrics},
        }
        parent = self.posts.get(reply_to) if reply_to else None
        if parent is not None:
            post.update(
                conversation_id=parent["conversation_id"],
                in_reply_to_user_id=parent["author_id"],
                referenced_tweets=[{"type": "replied_to", "id": reply_to}],
            )
            parent["public_metrics"]["reply_count"] += 1
        return post

    def _stored_text(self, text: str, media_ids: list[str]) -> str:
        """X escapes &<> and wraps links in t.co; attached media adds its own t.co link."""
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        linked = replace_links(escaped, lambda _link: "https://t.co/" + secrets.token_hex(5))
        return f"{linked} https://t.co/{secrets.token_hex(5)}" if media_ids else linked

    def _check_media(self, user: dict[str, Any], media_ids: list[str]) -> None:
        items = [self.media.get(m) for m in media_ids]
        if any(item is None or item["owner"] != user["id"] for item in items):
            raise Problem(400, "Your media IDs are invalid.")
        if any(item["state"] != "succeeded" for item in items):
            raise Problem(400, "Your media is not ready yet.")
        moving = [i for i in items if i["category"] != "tweet_image"]
        if len(items) > 4 or (moving and len(items) > 1):
            raise Problem(400, "Your media IDs are invalid: up to 4 images, or 1 video or GIF.")

    @staticmethod
    def _check_poll(poll: Any) -> dict[str, Any] | None:
        if not poll:
            return None
        options = [str(o) for o in poll.get("options") or []]
        minutes = int(poll.get("duration_minutes") or 0)
        if not 2 <= len(options) <= 4 or any(not 1 <= len(o) <= 25 for o in options):
            raise Problem(
                400, "Invalid Request: poll options must be 2 to 4, of 1 to 25 characters."
            )
        if not 5 <= minutes <= 10080:
            raise Problem(400, "Invalid Request: duration_minutes must be 5 to 10080.")
        return {
            "options": [{"position": i + 1, "label": o, "votes": 0} for i, o in enumerate(options)],
            "duration_minutes": minutes,
        }

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in post.items() if k != "created"}
        view["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(post["created"]))
        view["edit_history_tweet_ids"] = [post["id"]]
        return view

    def _page(self, request: _Request, posts: list[dict[str, Any]]) -> dict[str, Any]:
        """Newest first, `since_id`, `until_id`, `start_time`, `max_results`,
        `pagination_token`."""
        since = request.arg("since_id")
        if since:
            posts = [p for p in posts if (len(p["id"]), p["id"]) > (len(since), since)]
        until = request.arg("until_id")
        if until:
            posts = [p for p in posts if (len(p["id"]), p["id"]) < (len(until), until)]
        start = request.arg("start_time")
        if start:
            moment = calendar.timegm(time.strptime(start[:19], "%Y-%m-%dT%H:%M:%S"))
            posts = [p for p in posts if p["created"] >= moment]
        posts = sorted(posts, key=lambda p: (len(p["id"]), p["id"]), reverse=True)
        offset = int(request.arg("pagination_token") or 0)
        size = max(5, min(100, int(request.arg("max_results") or 10)))
        chunk = posts[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta.update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
        if offset + size < len(posts):
            meta["next_token"] = str(offset + size)
        answer: dict[str, Any] = {"meta": meta}
        if chunk:
            answer["data"] = [self._view(p) for p in chunk]
        if "author_id" in request.arg("expansions"):
            authors = {p["author_id"] for p in chunk}
            answer["includes"] = {
                "users": [
                    self._user_view(self.users[a], request.arg("user.fields"))
                    for a in sorted(authors)
                ]
            }
        return answer

    def get_post(self, request: _Request, post_id: str) -> Reply:
        """docs.x.com/x-api/posts/get-post-by-id"""
        self._caller(request)
        post = self.posts.get(post_id)
        if post is None:
            return (
                200,
                {
                    "errors": [
                        {
                            "value": post_id,
                            "detail": f"Could not find tweet with id: [{post_id}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": post_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
                [],
            )
        return 200, {"data": self._view(post)}, []

    def lookup(self, request: _Request, _: str) -> Reply:
        """docs.x.com/x-api/posts/get-posts-by-ids (up to 100 ids)."""
        self._caller(request)
        ids = [i for i in request.arg("ids").split(",") if i]
        if not 1 <= len(ids) <= 100:
            raise Problem(400, "The `ids` query parameter value must be 1 to 100 ids.")
        found = [self._view(self.posts[i]) for i in ids if i in self.posts]
        return 200, {"data": found} if found else {}, []

    def delete(self, request: _Request, post_id: str) -> Reply:
        """docs.x.com/x-api/posts/delete-post"""
        user = self._caller(request)
        post = self.posts.get(post_id)
        if post is None:
            raise Problem(404, f"Could not find tweet with id: [{post_id}].")
        if post["author_id"] != user["id"]:
            raise Problem(403, "You are not allowed to delete this Tweet.")
        del self.posts[post_id]
        self.emulator.counters["posts_deleted"] += 1
        return 200, {"data": {"deleted": True}}, []

    def timeline(self, request: _Request, user_id: str) -> Reply:
        """docs.x.com/x-api/users/get-posts"""
        self._caller(request)
        self._needs_tier()
        return (
            200,
            self._page(request, [p for p in self.posts.values() if p["author_id"] == user_id]),
            [],
        )

    def mentions(self, request: _Request, user_id: str) -> Reply:
        """docs.x.com/x-api/users/get-mentions"""
        self._caller(request)
        self._needs_tier()
        user = self.users.get(user_id)
        if user is None:
            raise Problem(400, f"The `id` query parameter value [{user_id}] is not valid")
        handle = "@" + user["username"].lower()
        found = [
            p
            for p in self.posts.values()
            if p["author_id"] != user_id
            and (handle in p["text"].lower() or p.get("in_reply_to_user_id") == user_id)
        ]
        return 200, self._page(request, found), []

    def search(self, request: _Request, _: str) -> Reply:
        """docs.x.com/x-api/posts/search-recent-posts; only `conversation_id:` queries."""
        self._caller(request)
        self._needs_tier()
        query = request.arg("query")
        if not query.startswith("conversation_id:"):
            raise Problem(400, "The emulator searches by conversation_id only.")
        conversation = query.partition(":")[2].strip()
        week = time.time() - 7 * 86400
        return (
            200,
            self._page(
                request,
                [
                    p
                    for p in self.posts.values()
                    if p["conversation_id"] == conversation and p["created"] >= week
                ],
            ),
            [],
        )

    # ----------------------------------------------------------------- control

    def control(self, action: str, body: dict[str, Any]) -> Reply:
        if action == "post":  # another user posts (mentions, replies, quotes)
            author = self.user(str(body["username"]))
            post_id = self._next_id()
            post = self._new_post(
                post_id, str(body["text"]), author["id"], str(body.get("in_reply_to") or "")
            )
            if body.get("quote_of"):
                post["referenced_tweets"] = [{"type": "quoted", "id": str(body["quote_of"])}]
            self.posts[post_id] = post
            return 200, {"id": post_id}, []
        if action == "metrics":
            self.posts[str(body.pop("id"))]["public_metrics"].update(body)
            return 200, {"ok": True}, []
        if action == "user_metrics":
            self.user(str(body.pop("username")))["public_metrics"].update(body)
            return 200, {"ok": True}, []
        if action == "client":  # X's developer console: an app and its secret
            self.clients[str(body["client_id"])] = str(body["client_secret"])
            return 200, {"ok": True}, []
        if action == "tier":
            self.tier = str(body["tier"])
            return 200, {"ok": True}, []
        if action == "daily_cap":
            self.daily_cap = int(body["cap"])
            return 200, {"ok": True}, []
        if action == "account":  # a user who has already authorized the app (load tests)
            user = self.user(str(body["username"]))
            token = "xat-" + secrets.token_urlsafe(24)
            self.tokens[token] = {"user": user["id"], "expires": time.time() + 30 * 86400}
            return 200, {"token": token, "user_id": user["id"], "username": user["username"]}, []
        if action == "expire":  # every access token of a user expires now
            user_id = self.user(str(body["username"]))["id"]
            for entry in self.tokens.values():
                if entry["user"] == user_id:
                    entry["expires"] = 0
            return 200, {"ok": True}, []
        return 404, {"error": f"no control endpoint x/{action}"}, []
