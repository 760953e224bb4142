"""The emulated Threads API (graph.threads.net and the threads.net authorization window),
served under `/threads/` so its `/v1.0/` paths never meet Meta's Graph API beside it.

Point Chorus at it with CHORUS_THREADS_GRAPH_URL and CHORUS_THREADS_AUTH_URL set to
`{emulator}/threads`. Control: POST /_emulator/threads/<action> (configure, user, reply,
expire, account, state). Each route cites the page of developers.facebook.com/docs/threads
it follows. Faults (`configure {"faults": [...]}`, Meta's Graph error steps, see
`emulator_meta`) match `threads.publish` (or `*`); tokens given to the emulator's `revoke`
answer code 190, as Threads does once the person removes the app.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chorus.testing.emulator_answers import HtmlPage
from chorus.testing.emulator_meta_wire import GraphError, MetaFault, form_params, graph_time

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
PREFIX = "/threads/"
LONG_LIVED_S = 60 * 86400
QUOTA_WINDOW_S = 86400
MEDIA_TYPES = {"TEXT", "IMAGE", "VIDEO", "CAROUSEL"}


class ThreadsError(Exception):
    """A Graph-shaped refusal (developers.facebook.com/docs/threads/troubleshooting)."""

    def __init__(self, status: int, code: int, message: str, subcode: int | None = None):
        super().__init__(message)
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        self.reply: Reply = (status, {"error": {**error, "fbtrace_id": "emulator"}}, [])


class ThreadsApi:
    """All Threads state; touched only from the emulator's event loop."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.quota_total = 250
        self.reply_quota_total = 1000
        self.processing_checks = 0  # status reads that answer IN_PROGRESS before FINISHED
        self.container_error = ""  # when set, new containers end in ERROR with this message
        self.lose_answers = 0  # publishes that succeed but answer 503 (a lost answer)
        self.faults: list[MetaFault] = []
        self.users: dict[str, dict[str, Any]] = {}  # id -> {id, username, followers}
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (user id, redirect_uri)
        self.tokens: dict[str, dict[str, Any]] = {}  # token -> {user, long, expires}
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(17_800_000_000_000_000)

    # ----------------------------------------------------------------- control

    def control(self, name: str, body: dict[str, Any]) -> Reply:
        if name == "configure":
            for key in ("quota_total", "reply_quota_total", "processing_checks", "lose_answers"):
                if key in body:
                    setattr(self, key, int(body[key]))
            if "container_error" in body:
                self.container_error = str(body["container_error"])
            if "faults" in body:
                self.faults = [MetaFault(**step) for step in body["faults"]]
            return 200, {"ok": True}, []
        if name == "user":
            return 200, self.add_user(str(body["username"])), []
        if name == "account":  # a person who has already allowed the app (load tests)
            user = self.add_user(str(body["username"]))
            token = self._grant(user["id"], long=True)
            return 200, {"token": token, "user_id": user["id"], "username": user["username"]}, []
        if name == "reply":  # someone else answers one of the posts
            post = self.posts[str(body["post"])]
            reply = self._store(
                str(body.get("username") or "someone"), str(body.get("text") or ""), "TEXT_POST"
            )
            reply["reply_to"], reply["by_other"] = post["id"], True
            return 200, {"id": reply["id"]}, []
        if name == "expire":  # every token stops working (code 190)
            for grant in self.tokens.values():
                grant["expires"] = 0.0
            return 200, {"ok": True}, []
        if name == "state":
            return 200, {"posts": list(self.posts.values()), "containers": len(self.containers)}, []
        raise KeyError(name)

    def add_user(self, username: str) -> dict[str, Any]:
        for user in self.users.values():
            if user["username"] == username:
                return user
        user = {"id": str(next(self._ids)), "username": username, "followers": 42}
        self.users[user["id"]] = user
        return user

    # ----------------------------------------------------------------- routing

    @staticmethod
    def owns(request: _Request) -> bool:
        return request.path.startswith(PREFIX)

    async def handle(self, request: _Request) -> Reply:
        path = request.path.removeprefix(PREFIX).strip("/")
        publishing = request.method == "POST" and path.endswith("/threads_publish")
        fault = self._take_fault("threads.publish") if publishing else None
        if fault is None:
            return self._answer(request, path)
        if not fault.after_commit:
            await asyncio.sleep(fault.delay_s)
            if fault.status:
                return fault.error().reply
        reply = self._answer(request, path)
        if fault.after_commit:
            await asyncio.sleep(fault.delay_s)
            if fault.status:
                return fault.error().reply
        return reply

    def _answer(self, request: _Request, path: str) -> Reply:
        params = form_params(request)
        self.emulator.counters[f"route:threads.{path.split('/')[0]}"] += 1
        try:
            if path == "oauth/authorize":
                return self._authorize(request.method, params)
            if path == "oauth/access_token" and request.method == "POST":
                return self._access_token(params)
            if path in ("access_token", "refresh_access_token"):
                return self._long_lived(path, params)
            if path.startswith("v1.0/"):
                return self._graph(request.method, path[5:].split("/"), params)
        except (ThreadsError, GraphError) as refusal:
            return refusal.reply
        return 404, {"error": {"message": "Unknown path", "code": 803}}, []

    # ----------------------------------------------------------------- sign-in

    def _authorize(self, method: str, params: dict[str, Any]) -> Reply:
        """developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions
        (Authorization Window): the person allows or refuses, then is redirected back with
        `code` (Threads adds `#_`) or `error=access_denied`."""
        wanted = ("client_id", "redirect_uri", "scope", "response_type", "state")
        query = {name: str(params.get(name) or "") for name in wanted}
        if query["response_type"] != "code" or not query["client_id"] or not query["redirect_uri"]:
            return 400, HtmlPage("<p>Invalid request.</p>"), []
        if method == "GET":
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
                for k, v in query.items()
            )
            page = (
                "<!doctype html><title>Threads</title><h1>Allow access to Threads?</h1>"
                f"<p>Permissions: {html.escape(query['scope'])}</p>"
                f'<form method="post">{hidden}'
                '<label>Username <input name="username" value="brand_threads"></label>'
                '<button name="decision" value="allow">Allow</button>'
                '<button name="decision" value="deny">Cancel</button></form>'
            )
            return 200, HtmlPage(page), []
        back = {"state": query["state"]}
        if params.get("decision") != "allow":
            back |= {"error": "access_denied", "error_reason": "user_denied"}
            return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}")]
        user = self.add_user(str(params.get("username") or "brand_threads"))
        code = secrets.token_urlsafe(16)
        self.codes[code] = (user["id"], query["redirect_uri"])
        back["code"] = code
        return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}#_")]

    def _access_token(self, params: dict[str, Any]) -> Reply:
        """Same page, step 2: POST /oauth/access_token -> a one-hour token and user_id."""
        if not params.get("client_id") or not params.get("client_secret"):
            raise ThreadsError(400, 101, "Missing client_id or client_secret")
        found = self.codes.pop(str(params.get("code") or ""), None)
        if found is None or found[1] != params.get("redirect_uri"):
            raise ThreadsError(400, 100, "Invalid verification code format.", 36008)
        return 200, {"access_token": self._grant(found[0], long=False), "user_id": found[0]}, []

    def _long_lived(self, path: str, params: dict[str, Any]) -> Reply:
        """developers.facebook.com/docs/threads/get-started/long-lived-tokens: exchange a
        short-lived token (th_exchange_token) or renew a long-lived one (th_refresh_token)."""
        grant = self._grant_of(str(params.get("access_token") or ""))
        exchange = path == "access_token"
        if exchange and (params.get("grant_type") != "th_exchange_token" or grant["long"]):
            raise ThreadsError(400, 100, "Invalid grant_type or token for th_exchange_token")
        if exchange and not params.get("client_secret"):
            raise ThreadsError(400, 101, "Missing client_secret")
        if not exchange and (params.get("grant_type") != "th_refresh_token" or not grant["long"]):
            raise ThreadsError(400, 190, "Only long-lived tokens can be refreshed")
        token = self._grant(grant["user"], long=True)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_S}, []

    def _grant(self, user: str, *, long: bool) -> str:
        token = "TH" + secrets.token_urlsafe(24)
        lifetime = LONG_LIVED_S if long else 3600
        self.tokens[token] = {"user": user, "long": long, "expires": time.time() + lifetime}
        return token

    def _grant_of(self, token: str) -> dict[str, Any]:
        grant = self.tokens.get(token)
        if grant is None:
            raise ThreadsError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if token in self.emulator.revoked:
            self.emulator.counters["auth_rejected"] += 1
            raise ThreadsError(
                400, 190, "Error validating access token: The user has not authorized application."
            )
        if grant["expires"] <= time.time():
            raise ThreadsError(400, 190, "Error validating access token: Session has expired", 463)
        return grant

    # ----------------------------------------------------------------- graph

    def _graph(self, method: str, parts: list[str], params: dict[str, Any]) -> Reply:
        grant = self._grant_of(str(params.get("access_token") or ""))
        user = self.users[grant["user"]]
        node = user["id"] if parts[0] == "me" else parts[0]
        edge = parts[1] if len(parts) > 1 else ""
        own = node == user["id"]
        if own and edge == "threads" and method == "POST":
            return 200, {"id": self._container(user, params)}, []
        if own and edge == "threads_publish" and method == "POST":
            post_id = self._publish(user, str(params.get("creation_id") or ""))
            if self.lose_answers > 0:
                self.lose_answers -= 1
                raise ThreadsError(503, 2, "Service temporarily unavailable")
            return 200, {"id": post_id}, []
        if own and edge in ("threads", "replies") and method == "GET":
            return 200, self._list(user, reply=edge == "replies"), []
        if own and edge == "threads_publishing_limit":
            return 200, self._limit(user), []
        if own and edge == "threads_insights":
            return 200, self._user_insights(user, str(params.get("metric") or "")), []
        if own and not edge:
            return (
                200,
                {
                    "id": user["id"],
                    "username": user["username"],
                    "name": user["username"].replace("_", " ").title(),
                    "threads_profile_picture_url": f"https://emulator.invalid/{user['id']}.jpg",
                },
                [],
            )
        if node in self.containers and not edge:
            return 200, self._status(self.containers[node]), []
        post = self.posts.get(node)
        if post is None or post.get("deleted"):
            raise ThreadsError(400, 100, "Object does not exist or missing permissions", 33)
        if (
            not edge and method == "DELETE"
        ):  # developers.facebook.com/docs/threads/posts/delete-posts
            if post["owner"] != user["id"]:
                raise ThreadsError(400, 10, "Application does not have permission")
            post["deleted"] = True
            return 200, {"success": True, "deleted_id": post["id"]}, []
        if not edge:
            return 200, self._view(post), []
        if edge == "replies":  # developers.facebook.com/docs/threads/retrieve-and-manage-replies
            replies = [
                {**self._view(p), "is_reply_owned_by_me": p["owner"] == user["id"]}
                for p in self.posts.values()
                if p.get("reply_to") == node and not p.get("deleted")
            ]
            return 200, {"data": replies}, []
        if edge == "insights":
            return 200, self._post_insights(post, str(params.get("metric") or "")), []
        raise ThreadsError(400, 100, f"Unsupported {method} request")

    def _take_fault(self, route: str) -> MetaFault | None:
        fault = next((f for f in self.faults if f.route in ("*", route)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            self.emulator.counters["faults_injected"] += 1
        return fault

    def _container(self, user: dict[str, Any], params: dict[str, Any]) -> str:
        """developers.facebook.com/docs/threads/posts (step 1) and #carousel-posts."""
        kind = str(params.get("media_type") or "")
        if kind not in MEDIA_TYPES:
            raise ThreadsError(400, 100, "Param media_type must be one of TEXT, IMAGE, VIDEO")
        text = str(params.get("text") or "")
        if len(text.encode("utf-16-le")) // 2 > 500:
            raise ThreadsError(400, 100, "Param text must be at most 500 characters long.")
        needed = {"IMAGE": "image_url", "VIDEO": "video_url"}.get(kind)
        if needed and not str(params.get(needed) or "").startswith(("http://", "https://")):
            raise ThreadsError(400, 100, f"Param {needed} is required for {kind}")
        children = [c for c in str(params.get("children") or "").split(",") if c]
        if kind == "CAROUSEL" and not 2 <= len(children) <= 20:
            raise ThreadsError(400, 100, "A carousel needs 2 to 20 children")
        if any(self.containers.get(c, {}).get("carousel_item") is not True for c in children):
            raise ThreadsError(400, 100, "Each child must be a carousel item container")
        reply_to = str(params.get("reply_to_id") or "")
        if reply_to and reply_to not in self.posts:
            raise ThreadsError(400, 100, "The post you are replying to does not exist", 33)
        container = {
            "id": str(next(self._ids)),
            "owner": user["id"],
            "kind": kind,
            "text": text,
            "reply_to": reply_to,
            "carousel_item": str(params.get("is_carousel_item")) == "true",
            "checks": self.processing_checks,
            "error": self.container_error,
            "status": "IN_PROGRESS",
        }
        self.containers[container["id"]] = container
        return container["id"]

    def _status(self, container: dict[str, Any]) -> dict[str, Any]:
        """developers.facebook.com/docs/threads/troubleshooting (Publishing Does Not Return a
        Media ID): IN_PROGRESS, then FINISHED or ERROR (with error_message)."""
        if container["status"] == "IN_PROGRESS":
            if container["checks"] > 0:
                container["checks"] -= 1
            else:
                container["status"] = "ERROR" if container["error"] else "FINISHED"
        answer = {"id": container["id"], "status": container["status"]}
        if container["status"] == "ERROR":
            answer["error_message"] = container["error"]
        return answer

    def _publish(self, user: dict[str, Any], creation_id: str) -> str:
        """developers.facebook.com/docs/threads/posts (step 2)."""
        container = self.containers.get(creation_id)
        if container is None or container["owner"] != user["id"]:
            raise ThreadsError(400, 100, "Invalid creation_id", 33)
        if container["status"] != "FINISHED" or container["carousel_item"]:
            raise ThreadsError(400, 9007, "The media is not ready for publishing", 2207027)
        reply = bool(container["reply_to"])
        spent = self._used(user, reply=reply)
        if spent >= (self.reply_quota_total if reply else self.quota_total):
            raise ThreadsError(400, 4, "Application request limit reached", 2207051)
        kind = {"TEXT": "TEXT_POST", "CAROUSEL": "CAROUSEL_ALBUM"}.get(container["kind"])
        post = self._store(user["username"], container["text"], kind or container["kind"])
        post["owner"], post["reply_to"] = user["id"], container["reply_to"]
        container["status"] = "PUBLISHED"
        self.emulator.counters["threads_published"] += 1
        self.emulator._published(
            "threads", user["username"], "", post["id"], time.time(), container["text"]
        )
        return post["id"]

    def _store(self, username: str, text: str, kind: str) -> dict[str, Any]:
        post = {
            "id": str(next(self._ids)),
            "owner": "",
            "username": username,
            "text": text,
            "media_type": kind,
            "at": time.time(),
            "reply_to": "",
        }
        self.posts[post["id"]] = post
        return post

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": post["id"],
            "text": post["text"],
            "username": post["username"],
            "media_type": post["media_type"],
            "timestamp": graph_time(post["at"]),
            "permalink": f"https://www.threads.net/@{post['username']}/post/{post['id']}",
            "is_reply": bool(post["reply_to"]),
        }

    def _list(self, user: dict[str, Any], *, reply: bool) -> dict[str, Any]:
        """GET /me/threads and /me/replies, newest first (developers.facebook.com/docs/
        threads/threads-media#retrieve-a-list-of-all-a-user-s-threads)."""
        own = [
            p
            for p in self.posts.values()
            if p["owner"] == user["id"] and bool(p["reply_to"]) == reply and not p.get("deleted")
        ]
        own.sort(key=lambda p: p["at"], reverse=True)
        return {"data": [self._view(p) for p in own], "paging": {"cursors": {}}}

    def _used(self, user: dict[str, Any], *, reply: bool) -> int:
        since = time.time() - QUOTA_WINDOW_S
        return sum(
            1
            for p in self.posts.values()
            if p["owner"] == user["id"] and p["at"] >= since and bool(p["reply_to"]) == reply
        )

    def _limit(self, user: dict[str, Any]) -> dict[str, Any]:
        """developers.facebook.com/docs/threads/troubleshooting#retrieve-publishing-quota-limit"""
        day = {"quota_duration": QUOTA_WINDOW_S}
        return {
            "data": [
                {
                    "quota_usage": self._used(user, reply=False),
                    "config": {"quota_total": self.quota_total, **day},
                    "reply_quota_usage": self._used(user, reply=True),
                    "reply_config": {"quota_total": self.reply_quota_total, **day},
                }
            ]
        }

    def _post_insights(self, post: dict[str, Any], metrics: str) -> dict[str, Any]:
        """developers.facebook.com/docs/threads/insights#media-insights"""
        replies = sum(1 for p in self.posts.values() if p.get("reply_to") == post["id"])
        values = {"views": 100, "likes": 7, "replies": replies, "reposts": 2, "quotes": 1}
        values["shares"] = 0
        data = [
            {"name": name, "period": "lifetime", "values": [{"value": values[name]}]}
            for name in metrics.split(",")
            if name in values
        ]
        return {"data": data}

    def _user_insights(self, user: dict[str, Any], metrics: str) -> dict[str, Any]:
        """developers.facebook.com/docs/threads/insights#user-insights"""
        if "followers_count" not in metrics.split(","):
            return {"data": []}
        series = {"name": "followers_count", "total_value": {"value": user["followers"]}}
        return {"data": [series]}
