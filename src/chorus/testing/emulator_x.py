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
`metrics` (set a post's public metrics), `tier` ("free": no reading of mentions, search or
timelines, as X's free tier), `daily_cap` (posts per user per 24 hours).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chorus.testing.emulator_telegram import _params as request_params
from chorus.networks.providers.x_wire import replace_links
from chorus.text import count

if TYPE_CHECKING:
    from chorus.testing.emulator import Emulator, FaultStep, _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
PUBLISH_ROUTES = frozenset({"x.tweets.create"})
MAX_WEIGHTED = 280
CHUNK_LIMIT = 5 * 1024 * 1024
SIZE_LIMITS = {"tweet_image": 5 * 1024 * 1024, "tweet_gif": 15 * 1024 * 1024}
VIDEO_LIMIT = 512 * 1024 * 1024
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


class Html(str):
    """An answer sent as an HTML page (the consent page)."""

    content_type = "text/html; charset=utf-8"


class Problem(Exception):
    """Ends a request with a problem-details refusal."""

    def __init__(self, status: int, detail: str = "", headers=None, **more: Any):
        super().__init__(detail)
        self.reply: Reply = (status, problem(status, detail, **more), list(headers or []))


def problem(status: int, detail: str = "", **more: Any) -> dict[str, Any]:
    """docs.x.com/x-api/fundamentals/response-codes-and-errors: problem details."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status,
            **more}


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


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class XApi:
    """State and handlers; `Emulator` owns one and routes `/2/...` and `/i/oauth2/...` here."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, str] = {}
        self.codes: dict[str, dict[str, Any]] = {}
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
                "public_metrics": {"followers_count": 0, "following_count": 0, "tweet_count": 0,
                                   "listed_count": 0, "like_count": 0},
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
        from chorus.testing.emulator import _Reply

        try:
            self.emulator._consume(request, user["username"])
        except _Reply as limited:
            raise Problem(429, "Too Many Requests", headers=limited.reply[2]) from None
        return user

    def _needs_tier(self) -> None:
        if self.tier == "free":
            raise Problem(403, **_FORBIDDEN_TIER)

    # ----------------------------------------------------------------- OAuth 2.0

    def authorize_page(self, request: _Request, _: str) -> Reply:
        """docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (step 1):
        the consent page; here the person picks the account name to sign in as."""
        q = {name: request.arg(name) for name in (
            "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
            "code_challenge_method")}
        if q["response_type"] != "code" or not q["client_id"] or not q["redirect_uri"]:
            return 400, Html("<p>Something went wrong: invalid request.</p>"), []
        if not q["code_challenge"] or q["code_challenge_method"] not in ("S256", "plain"):
            return 400, Html("<p>Something went wrong: PKCE code_challenge required.</p>"), []
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
            for k, v in q.items()
        )
        page = (
            "<!doctype html><title>Authorize app</title><h1>Authorize app</h1>"
            f"<p>An app wants access to your X account: {html.escape(q['scope'])}</p>"
            f'<form method="post">{hidden}<label>Account <input name="username" '
            'value="chorus_user"></label><button name="decision" value="allow">Authorize app'
            '</button><button name="decision" value="deny">Cancel</button></form>'
        )
        return 200, Html(page), []

    def authorize_answer(self, request: _Request, _: str) -> Reply:
        form = request.json()
        redirect = str(form.get("redirect_uri") or "")
        sep = "&" if "?" in redirect else "?"
        if form.get("decision") != "allow":
            query = {"error": "access_denied", "state": form.get("state", "")}
            return 302, None, [("Location", f"{redirect}{sep}{urlencode(query)}")]
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "client_id": form.get("client_id"),
            "redirect_uri": redirect,
            "challenge": form.get("code_challenge"),
            "method": form.get("code_challenge_method"),
            "user": self.user(str(form.get("username") or "chorus_user"))["id"],
            "scope": form.get("scope", ""),
            "expires": time.time() + 30,
        }
        query = {"state": form.get("state", ""), "code": code}
        return 302, None, [("Location", f"{redirect}{sep}{urlencode(query)}")]

    def token(self, request: _Request, _: str) -> Reply:
        """docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code: the code
        (with its PKCE verifier) or a refresh token for a new pair; the old refresh token
        stops working at once."""
        form = request.json()
        client_id = str(form.get("client_id") or "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            pair = base64.b64decode(basic[6:]).decode("utf-8", "replace")
            client_id = client_id or pair.partition(":")[0]
            if pair.partition(":")[0] != client_id:
                return 401, {"error": "unauthorized_client",
                             "error_description": "Missing valid authorization header"}, []
        invalid = (400, {"error": "invalid_request",
                         "error_description": "Value passed for the token was invalid."}, [])
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(str(form.get("code") or ""), None)
            if entry is None or entry["expires"] < time.time() or entry["client_id"] != client_id:
                return invalid
            verifier = str(form.get("code_verifier") or "")
            expected = verifier if entry["method"] == "plain" else _challenge(verifier)
            if entry["redirect_uri"] != form.get("redirect_uri") or expected != entry["challenge"]:
                return invalid
            user, scope = entry["user"], entry["scope"]
        elif grant == "refresh_token":
            entry = self.refresh_tokens.pop(str(form.get("refresh_token") or ""), None)
            if entry is None or entry["client_id"] != client_id:
                return invalid
            user, scope = entry["user"], entry["scope"]
        else:
            return 400, {"error": "unsupported_grant_type"}, []
        ttl = self.emulator.settings.access_ttl_s
        access = secrets.token_urlsafe(32)
        self.tokens[access] = {"user": user, "expires": time.time() + ttl}
        answer = {"token_type": "bearer", "expires_in": int(ttl), "access_token": access,
                  "scope": scope}
        if "offline.access" in scope.split():
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = {"user": user, "client_id": client_id, "scope": scope}
            answer["refresh_token"] = refresh
        return 200, answer, []

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
        cap = [("x-user-limit-24hour-limit", str(self.daily_cap)),
               ("x-user-limit-24hour-reset", str(reset))]
        if len(posted) >= self.daily_cap:
            raise Problem(429, "Too Many Requests",
                          headers=[*cap, ("x-user-limit-24hour-remaining", "0")])
        body = request.json()
        text = str(body.get("text") or "")
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
        if not text.strip() and not media_ids:
            raise Problem(400, "Invalid Request: One or more parameters to your request was "
                          "invalid.", errors=[{"message": "text or media is required"}])
        if count(text, "x-weighted") > MAX_WEIGHTED:
            raise Problem(400, "Your Tweet text is too long.")
        self._check_media(user, media_ids)
        poll = self._check_poll(body.get("poll"))
        if poll and media_ids:
            raise Problem(400, "A post carries a poll or media, not both.")
        post_id = self._next_id()
        stored = self._stored_text(text, media_ids)
        if any(p["author_id"] == user["id"] and p["text"] == stored
               and p["created"] > now - 86400 for p in self.posts.values()):
            raise Problem(403, "You are not allowed to create a Tweet with duplicate content.")
        post = {"id": post_id, "text": stored, "author_id": user["id"], "created": now,
                "conversation_id": post_id,
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                                   "quote_count": 0, "bookmark_count": 0,
                                   "impression_count": 0}}
        reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        if reply_to:
            parent = self.posts.get(reply_to)
            if parent is None:
                raise Problem(403, "You attempted to reply to a Tweet that is deleted or not "
                              "visible to you.")
            post.update(conversation_id=parent["conversation_id"],
                        in_reply_to_user_id=parent["author_id"],
                        referenced_tweets=[{"type": "replied_to", "id": reply_to}])
            parent["public_metrics"]["reply_count"] += 1
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
        return 201, {"data": {"id": post_id, "text": stored,
                              "edit_history_tweet_ids": [post_id]}}, headers

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
            raise Problem(400, "Invalid Request: poll options must be 2 to 4, of 1 to 25 "
                          "characters.")
        if not 5 <= minutes <= 10080:
            raise Problem(400, "Invalid Request: duration_minutes must be 5 to 10080.")
        return {"options": [{"position": i + 1, "label": o, "votes": 0}
                            for i, o in enumerate(options)], "duration_minutes": minutes}

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in post.items() if k != "created"}
        view["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(post["created"]))
        view["edit_history_tweet_ids"] = [post["id"]]
        return view

    def _page(self, request: _Request, posts: list[dict[str, Any]]) -> dict[str, Any]:
        """Newest first, `since_id`, `start_time`, `max_results`, `pagination_token`."""
        since = request.arg("since_id")
        if since:
            posts = [p for p in posts if (len(p["id"]), p["id"]) > (len(since), since)]
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
            answer["includes"] = {"users": [self._user_view(self.users[a], request.arg(
                "user.fields")) for a in sorted(authors)]}
        return answer

    def get_post(self, request: _Request, post_id: str) -> Reply:
        """docs.x.com/x-api/posts/get-post-by-id"""
        self._caller(request)
        post = self.posts.get(post_id)
        if post is None:
            return 200, {"errors": [{"value": post_id, "detail": f"Could not find tweet with "
                                     f"id: [{post_id}].", "title": "Not Found Error",
                                     "resource_type": "tweet", "parameter": "id",
                                     "resource_id": post_id,
                                     "type": "https://api.twitter.com/2/problems/"
                                     "resource-not-found"}]}, []
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
        return 200, self._page(request, [p for p in self.posts.values()
                                         if p["author_id"] == user_id]), []

    def mentions(self, request: _Request, user_id: str) -> Reply:
        """docs.x.com/x-api/users/get-mentions"""
        self._caller(request)
        self._needs_tier()
        user = self.users.get(user_id)
        if user is None:
            raise Problem(400, f"The `id` query parameter value [{user_id}] is not valid")
        handle = "@" + user["username"].lower()
        found = [p for p in self.posts.values() if p["author_id"] != user_id
                 and (handle in p["text"].lower() or p.get("in_reply_to_user_id") == user_id)]
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
        return 200, self._page(request, [p for p in self.posts.values()
                                         if p["conversation_id"] == conversation
                                         and p["created"] >= week]), []

    # ----------------------------------------------------------------- media

    def initialize(self, request: _Request, _: str) -> Reply:
        """docs.x.com/x-api/media/quickstart/media-upload-chunked (INIT)."""
        user = self._caller(request)
        body = request.json()
        kind, total = str(body.get("media_type") or ""), int(body.get("total_bytes") or 0)
        category = str(body.get("media_category") or "tweet_image")
        limit = SIZE_LIMITS.get(category, VIDEO_LIMIT)
        if not kind or total <= 0:
            raise Problem(400, "media_type and total_bytes are required.")
        if total > limit:
            raise Problem(400, f"File size exceeds {limit} bytes.")
        media_id = self._next_id()
        self.media[media_id] = {"owner": user["id"], "type": kind, "total": total,
                                "category": category, "chunks": {}, "state": "uploading",
                                "key": f"3_{media_id}", "checks": 0}
        return 200, {"data": {"id": media_id, "media_key": f"3_{media_id}",
                              "expires_after_secs": 86400}}, []

    def _own_media(self, request: _Request, media_id: str) -> dict[str, Any]:
        user = self._caller(request)
        item = self.media.get(media_id)
        if item is None or item["owner"] != user["id"]:
            raise Problem(400, "Invalid media_id.")
        return item

    def append(self, request: _Request, media_id: str) -> Reply:
        """(APPEND) multipart `media` and `segment_index`, at most 5 MB a chunk."""
        item = self._own_media(request, media_id)
        params = request_params(request)
        chunk, index = params.get("media"), params.get("segment_index")
        if not isinstance(chunk, bytes) or index is None:
            raise Problem(400, "media and segment_index are required.")
        if len(chunk) > CHUNK_LIMIT:
            raise Problem(400, "Segment size exceeds 5 MB.")
        item["chunks"][int(index)] = len(chunk)
        return 200, {"data": {"expires_at": int(time.time()) + 86400}}, []

    def finalize(self, request: _Request, media_id: str) -> Reply:
        """(FINALIZE) images are ready at once; video and GIFs are processed."""
        item = self._own_media(request, media_id)
        if sum(item["chunks"].values()) != item["total"]:
            raise Problem(400, "File size mismatch: the segments do not add up to total_bytes.")
        checks = self.emulator.settings.media_processing_checks
        item["checks"] = checks if item["category"] != "tweet_image" else 0
        item["state"] = "pending" if item["checks"] else "succeeded"
        return 200, {"data": self._media_view(media_id, item)}, []

    def media_status(self, request: _Request, _: str) -> Reply:
        """(STATUS) `GET /2/media/upload?command=STATUS&media_id=`."""
        if request.arg("command") != "STATUS":
            raise Problem(400, "command must be STATUS")
        item = self._own_media(request, request.arg("media_id"))
        if item["checks"] > 0:
            item["checks"] -= 1
            item["state"] = "in_progress" if item["checks"] else "succeeded"
        return 200, {"data": self._media_view(request.arg("media_id"), item)}, []

    @staticmethod
    def _media_view(media_id: str, item: dict[str, Any]) -> dict[str, Any]:
        view: dict[str, Any] = {"id": media_id, "media_key": item["key"], "size": item["total"],
                                "expires_after_secs": 86400}
        if item["category"] != "tweet_image":
            view["processing_info"] = {"state": item["state"], "check_after_secs": 1}
        return view

    def metadata(self, request: _Request, _: str) -> Reply:
        """docs.x.com/x-api/media/create-media-metadata: alt text up to 1,000 characters."""
        body = request.json()
        item = self._own_media(request, str(body.get("id") or ""))
        alt = str(((body.get("metadata") or {}).get("alt_text") or {}).get("text") or "")
        if len(alt) > 1000:
            raise Problem(400, "alt_text is longer than 1000 characters.")
        item["alt"] = alt
        return 200, {"data": {"id": body["id"], "associated_metadata": True}}, []

    # ----------------------------------------------------------------- control

    def control(self, action: str, body: dict[str, Any]) -> Reply:
        if action == "post":  # another user posts (mentions, replies, quotes)
            author = self.user(str(body["username"]))
            post_id = self._next_id()
            post: dict[str, Any] = {"id": post_id, "text": str(body["text"]),
                                    "author_id": author["id"], "created": time.time(),
                                    "conversation_id": post_id,
                                    "public_metrics": {"retweet_count": 0, "reply_count": 0,
                                                       "like_count": 0, "quote_count": 0,
                                                       "bookmark_count": 0,
                                                       "impression_count": 0}}
            if body.get("in_reply_to"):
                parent = self.posts[str(body["in_reply_to"])]
                post.update(conversation_id=parent["conversation_id"],
                            in_reply_to_user_id=parent["author_id"],
                            referenced_tweets=[{"type": "replied_to", "id": parent["id"]}])
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
        if action == "tier":
            self.tier = str(body["tier"])
            return 200, {"ok": True}, []
        if action == "daily_cap":
            self.daily_cap = int(body["cap"])
            return 200, {"ok": True}, []
        if action == "expire":  # every access token of a user expires now
            user_id = self.user(str(body["username"]))["id"]
            for entry in self.tokens.values():
                if entry["user"] == user_id:
                    entry["expires"] = 0
            return 200, {"ok": True}, []
        return 404, {"error": f"no control endpoint x/{action}"}, []
