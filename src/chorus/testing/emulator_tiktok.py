"""The emulated TikTok API (open.tiktokapis.com and the www.tiktok.com authorization page),
served under `/tiktok/`, on the wire TikTok documents, so the connector is tested against
TikTok's shapes with no TikTok to run.

Point Chorus at it with CHORUS_TIKTOK_API_URL and CHORUS_TIKTOK_AUTH_URL set to
`{emulator}/tiktok`. Every answer is TikTok's v2 envelope `{"data", "error": {"code",
"message", "log_id"}}` (developers.tiktok.com/doc/tiktok-api-v2-error-handling) with the
HTTP status that page gives each code, and an `x-tt-logid` header. Posting lives in
`emulator_tiktok_posting`. Control: POST /_emulator/tiktok/<action>:
`configure` (audited, processing_checks, moderation_checks, fail_reason, lose_answers,
privacy_options, max_duration, comment_disabled, verified_prefixes, inits_per_minute;
PULL_FROM_URL media is really fetched, as TikTok does, from Chorus's signed links),
`faults`: fault steps, see `_fault_step`), `fail` (one step: the next `times` requests of
`route` answer `code` with `status`), `account` (a person who has already allowed the
app, with a token: load tests), `metrics` (set a video's counts), `expire` (every access
token stops working), `state`. Tokens given to the emulator's `revoke` answer
access_token_invalid; each post that completes goes to the emulator's event log.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import itertools
import math
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chorus.testing.emulator_answers import HtmlPage
from chorus.testing.emulator_meta_wire import form_params
from chorus.testing.emulator_tiktok_posting import Posting, TikTokError, envelope

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
PREFIX = "/tiktok/"
ACCESS_TTL_S = 86400
REFRESH_TTL_S = 365 * 86400
_SCOPE_OF = {
    "user.info": "user.info.basic",
    "creator_info": "video.publish",
    "video.init": "video.publish",
    "content.init": "video.publish",
    "status": "video.publish",
    "video.list": "video.list",
    "video.query": "video.list",
}
_STATS = {"follower_count", "following_count", "likes_count", "video_count"}
ALL_SCOPES = (*dict.fromkeys(_SCOPE_OF.values()), "user.info.profile", "user.info.stats")
_ROUTES = {
    ("POST", "v2/post/publish/creator_info/query"): "creator_info",
    ("POST", "v2/post/publish/video/init"): "video.init",
    ("POST", "v2/post/publish/content/init"): "content.init",
    ("POST", "v2/post/publish/status/fetch"): "status",
    ("GET", "v2/user/info"): "user.info",
    ("POST", "v2/video/list"): "video.list",
    ("POST", "v2/video/query"): "video.query",
}
_HANDLERS = {
    "creator_info": "creator_info",
    "video.init": "video_init",
    "content.init": "content_init",
    "status": "status_fetch",
    "user.info": "user_info",
    "video.list": "video_list",
    "video.query": "video_query",
}


def _fault_step(body: dict[str, Any]) -> dict[str, Any]:
    """A fault step: the next `times` requests of `route` (or `*`) answer `status` with
    `code` (0: answer normally), after `delay_s`; with `after_commit` the request is carried
    out first and its answer lost."""
    step = {"route": "*", "times": 1, "status": 0, "code": "", "message": "", **body}
    step["delay_s"] = float(step.get("delay_s") or 0)
    step["after_commit"] = bool(step.get("after_commit"))
    step["retry_after"] = step.get("retry_after")
    return step


class TikTokApi(Posting):
    """All TikTok state; touched only from the emulator's event loop."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.clients: dict[str, str] = {}  # client key -> secret, once set by control
        self.users: dict[str, dict[str, Any]] = {}  # open_id -> user
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}  # access token -> {user, scopes, expires}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.failures: list[dict[str, Any]] = []
        self._ids = itertools.count(7_300_000_000_000_000_000)
        self.reset_posting()

    # ----------------------------------------------------------------- control

    def control(self, name: str, body: dict[str, Any]) -> Reply:
        if name == "configure":
            self.configure(body)
            if "faults" in body:
                self.failures = [_fault_step(step) for step in body["faults"]]
            return 200, {"ok": True}, []
        if name == "client":
            self.clients[str(body["client_key"])] = str(body["client_secret"])
            return 200, {"ok": True}, []
        if name == "fail":
            self.failures.append(_fault_step({"status": 400, **body}))
            return 200, {"ok": True}, []
        if name == "account":  # a person who has already allowed the app (load tests)
            user = self.user(str(body["username"]))
            access = "act." + secrets.token_urlsafe(32)
            self.tokens[access] = {
                "user": user["open_id"],
                "scopes": set(ALL_SCOPES),
                "expires": time.time() + ACCESS_TTL_S,
            }
            answer = {
                "access_token": access,
                "open_id": user["open_id"],
                "expires_in": ACCESS_TTL_S,
            }
            return 200, {**answer, "username": user["username"]}, []
        if name == "metrics":
            post = self.posts[str(body.pop("publish_id"))]
            post["counts"].update({k: int(v) for k, v in body.items()})
            return 200, {"ok": True}, []
        if name == "expire":
            for grant in self.tokens.values():
                grant["expires"] = 0.0
            return 200, {"ok": True}, []
        if name == "state":
            return 200, {"posts": [self.public_view(p) for p in self.posts.values()]}, []
        raise KeyError(name)

    def user(self, username: str) -> dict[str, Any]:
        for user in self.users.values():
            if user["username"] == username:
                return user
        open_id = "-000" + secrets.token_hex(12)
        user = {
            "open_id": open_id,
            "union_id": "u" + secrets.token_hex(8),
            "username": username,
            "display_name": username.replace("_", " ").title(),
            "avatar_url": f"https://p16-sign.tiktokcdn.com/{open_id}.jpeg",
            "follower_count": 120,
            "following_count": 8,
            "likes_count": 940,
        }
        self.users[open_id] = user
        return user

    # ----------------------------------------------------------------- routing

    @staticmethod
    def owns(request: _Request) -> bool:
        return request.path.startswith(PREFIX)

    async def handle(self, request: _Request) -> Reply:
        path = request.path.removeprefix(PREFIX).strip("/")
        method = request.method
        if path == "v2/auth/authorize":
            self._count("authorize")
            return self.authorize(method, form_params(request))
        if path == "v2/oauth/token" and method == "POST":
            self._count("token")
            return self.token(form_params(request))
        route = "upload" if (method, path) == ("PUT", "upload") else ""
        found = _ROUTES.get((method, path))
        if found is None and not route:
            return TikTokError(404, "invalid_params", f"No such endpoint: {method} /{path}/").reply
        route = route or found
        self._count(route)
        step = self._take_fault(route)
        if step is not None and not step["after_commit"]:
            await asyncio.sleep(step["delay_s"])
            if step["status"]:
                return self._fault_reply(step)
        try:
            reply = await self._answer(request, route)
        except TikTokError as refusal:
            reply = refusal.reply
        if step is not None and step["after_commit"]:
            await asyncio.sleep(step["delay_s"])
            if step["status"]:
                return self._fault_reply(step)
        return reply

    async def _answer(self, request: _Request, route: str) -> Reply:
        if route == "upload":
            return self.upload(request)
        user = self._grant(request, _SCOPE_OF[route])
        answer = getattr(self, _HANDLERS[route])(request, user)
        if inspect.isawaitable(answer):  # the inits that fetch media first
            answer = await answer
        return 200, envelope(answer), self._log_header()

    def _count(self, route: str) -> None:
        self.emulator.counters[f"route:tiktok.{route}"] += 1

    def _take_fault(self, route: str) -> dict[str, Any] | None:
        for step in self.failures:
            if step["route"] in (route, "*"):
                step["times"] -= 1
                if step["times"] <= 0:
                    self.failures.remove(step)
                self.emulator.counters["faults_injected"] += 1
                return step
        return None

    def _fault_reply(self, step: dict[str, Any]) -> Reply:
        """A scripted refusal in the v2 envelope; `retry_after` as a Retry-After header."""
        status = int(step["status"])
        code = step["code"] or ("rate_limit_exceeded" if status == 429 else "internal_error")
        status, payload, _ = TikTokError(status, code, step["message"]).reply
        wait = step["retry_after"]
        return status, payload, [] if wait is None else [("Retry-After", str(math.ceil(wait)))]

    @staticmethod
    def _log_header() -> list[tuple[str, str]]:
        return [("x-tt-logid", secrets.token_hex(16).upper())]

    def _grant(self, request: _Request, scope: str) -> dict[str, Any]:
        """developers.tiktok.com/doc/tiktok-api-v2-error-handling: access_token_invalid
        (401) for a missing, unknown or expired token; scope_not_authorized (401) when the
        person did not grant the scope."""
        grant = self.tokens.get(request.bearer)
        revoked = request.bearer in self.emulator.revoked
        if revoked:
            self.emulator.counters["auth_rejected"] += 1
        if grant is None or grant["expires"] <= time.time() or revoked:
            raise TikTokError(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if scope not in grant["scopes"]:
            raise TikTokError(
                401,
                "scope_not_authorized",
                f"The user did not authorize the scope required for completing this request "
                f"({scope}).",
            )
        return self.users[grant["user"]]

    # ----------------------------------------------------------------- Login Kit

    def authorize(self, method: str, params: dict[str, Any]) -> Reply:
        """developers.tiktok.com/doc/login-kit-web: the authorization page (GET), then the
        person's answer, redirected back with `code` and `scopes`, or with
        `error=access_denied`."""
        wanted = ("client_key", "scope", "response_type", "redirect_uri", "state")
        query = {name: str(params.get(name) or "") for name in wanted}
        if query["response_type"] != "code" or not query["client_key"]:
            return 400, HtmlPage("<p>Something went wrong: invalid request.</p>"), []
        if not query["redirect_uri"].startswith(("http://", "https://")):
            return 400, HtmlPage("<p>Something went wrong: redirect_uri.</p>"), []
        if method == "GET":
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
                for k, v in query.items()
            )
            page = (
                "<!doctype html><title>TikTok</title><h1>Log in to TikTok</h1>"
                f"<p>This app would like to: {html.escape(query['scope'])}</p>"
                f'<form method="post">{hidden}'
                '<label>Username <input name="username" value="brand_tiktok"></label>'
                '<button name="decision" value="allow">Authorize</button>'
                '<button name="decision" value="deny">Cancel</button></form>'
            )
            return 200, HtmlPage(page), []
        back = {"state": query["state"]}
        if params.get("decision") != "allow":
            back |= {"error": "access_denied", "error_description": "User cancelled"}
            return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}")]
        user = self.user(str(params.get("username") or "brand_tiktok"))
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "user": user["open_id"],
            "client_key": query["client_key"],
            "redirect_uri": query["redirect_uri"],
            "scopes": query["scope"],
            "expires": time.time() + 300,
        }
        back |= {"code": code, "scopes": query["scope"]}
        return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}")]

    def token(self, params: dict[str, Any]) -> Reply:
        """developers.tiktok.com/doc/oauth-user-access-token-management: a code (used once,
        same redirect_uri) or a refresh token for a new pair; refusals in the OAuth shape."""
        key, secret = str(params.get("client_key") or ""), str(params.get("client_secret") or "")
        if not key or not secret or self.clients.get(key, secret) != secret:
            return self._oauth_error("invalid_client", "Client key or secret is incorrect.")
        grant = params.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(str(params.get("code") or ""), None)
            if (
                entry is None
                or entry["expires"] < time.time()
                or entry["client_key"] != key
                or entry["redirect_uri"] != params.get("redirect_uri")
            ):
                return self._oauth_error("invalid_grant", "Authorization code is expired.")
        elif grant == "refresh_token":
            entry = self.refresh_tokens.pop(str(params.get("refresh_token") or ""), None)
            if entry is None or entry["expires"] < time.time() or entry["client_key"] != key:
                return self._oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        else:
            return self._oauth_error("unsupported_grant_type", "Grant type is not supported.")
        scopes = set(str(entry["scopes"]).split(","))
        access, refresh = "act." + secrets.token_urlsafe(32), "rft." + secrets.token_urlsafe(32)
        self.tokens[access] = {
            "user": entry["user"],
            "scopes": scopes,
            "expires": time.time() + ACCESS_TTL_S,
        }
        self.refresh_tokens[refresh] = {
            **entry,
            "client_key": key,
            "expires": time.time() + REFRESH_TTL_S,
        }
        answer = {
            "access_token": access,
            "expires_in": ACCESS_TTL_S,
            "open_id": entry["user"],
            "refresh_expires_in": REFRESH_TTL_S,
            "refresh_token": refresh,
            "scope": ",".join(sorted(scopes)),
            "token_type": "Bearer",
        }
        return 200, answer, self._log_header()

    @staticmethod
    def _oauth_error(error: str, description: str) -> Reply:
        log_id = secrets.token_hex(16).upper()
        return 400, {"error": error, "error_description": description, "log_id": log_id}, []

    # ----------------------------------------------------------------- Display API

    def user_info(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/tiktok-api-v2-get-user-info: the `fields` asked for;
        the counts need user.info.stats, username user.info.profile."""
        fields = [f for f in request.arg("fields").split(",") if f]
        if not fields:
            raise TikTokError(400, "invalid_params", "fields is required")
        scopes = self.tokens[request.bearer]["scopes"]
        if _STATS & set(fields) and "user.info.stats" not in scopes:
            raise TikTokError(401, "scope_not_authorized", "user.info.stats is required")
        counts = {
            "video_count": sum(1 for p in self.posts.values() if p["user"] == user["open_id"])
        }
        values = {**user, **counts, "profile_deep_link": f"https://vm.tiktok.com/{user['open_id']}"}
        return {"user": {f: values[f] for f in fields if f in values}}

    def video_list(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/tiktok-api-v2-video-list: the user's public videos,
        newest first, `max_count` (at most 20) a page, `cursor` a creation time in ms."""
        body = request.json()
        size = max(1, min(20, int(body.get("max_count") or 10)))
        cursor = int(body.get("cursor") or 0)
        for post in self.posts.values():
            if post["user"] == user["open_id"]:
                self.advance(post)
        listed = [
            p for p in self.posts.values() if p["user"] == user["open_id"] and p.get("post_id")
        ]
        listed.sort(key=lambda p: p["at"], reverse=True)
        if cursor:
            listed = [p for p in listed if p["at"] * 1000 < cursor]
        page = listed[:size]
        fields = [f for f in request.arg("fields").split(",") if f]
        return {
            "videos": [self._video(p, fields) for p in page],
            "cursor": int(page[-1]["at"] * 1000) if page else cursor,
            "has_more": len(listed) > size,
        }

    def video_query(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/tiktok-api-v2-video-query: up to 20 of the user's own
        videos by id."""
        ids = ((request.json().get("filters") or {}).get("video_ids")) or []
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
            raise TikTokError(400, "invalid_params", "video_ids must list 1 to 20 ids")
        fields = [f for f in request.arg("fields").split(",") if f]
        found = [
            p
            for p in self.posts.values()
            if p.get("post_id") in {str(i) for i in ids} and p["user"] == user["open_id"]
        ]
        return {"videos": [self._video(p, fields) for p in found]}

    def _video(self, post: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        username = self.users[post["user"]]["username"]
        values = {
            "id": post["post_id"],
            "title": post["caption"],
            "video_description": post["caption"],
            "create_time": int(post["at"]),
            "share_url": f"https://www.tiktok.com/@{username}/video/{post['post_id']}",
            **post["counts"],
        }
        return {f: values[f] for f in fields if f in values}
