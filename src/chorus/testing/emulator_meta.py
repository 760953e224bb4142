"""Meta's Graph API in the network emulator: Facebook Login, Pages and Instagram.

No local Graph API exists, so this speaks the documented wire format of what Chorus uses,
each route citing its page on developers.facebook.com/docs. It lives beside
`chorus.testing.emulator`, which hands it every request under `/v<N>.<M>/` and every
control call under `/_emulator/meta/`.

State: users (each managing Pages, some linked to an Instagram professional account),
one-use login codes, user and Page tokens, Page posts, photos, videos and comments,
Instagram containers, media and comments, the 24-hour publishing quota, and usage per
Page reported in X-Business-Use-Case-Usage (throttled with code 80001 when spent).
Instagram fetches every `image_url` / `video_url` itself, as the real one does: an
unreachable URL, or an image that is not a JPEG, is refused with Meta's own error.

Faults (`POST /_emulator/meta/configure {"faults": [...]}`): a step matches a route name
(`meta.feed`, `meta.photos`, `meta.videos`, `meta.comments.create`, `meta.media.create`,
`meta.media_publish`, `meta.node.get`, ...; the group `meta.publish`; or `*`) and answers
`status` with a Graph error `{code, error_subcode, message, is_transient}` and `headers`
for `times` requests; `after_commit` does the work first and then loses the answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

from chorus.testing.emulator import Reply, _PlainText, _Request

VERSION_PATH = re.compile(r"^/v\d+\.\d+/")
PUBLISH_ROUTES = frozenset(
    {
        "meta.feed",
        "meta.photos",
        "meta.videos",
        "meta.comments.create",
        "meta.media_publish",
        "meta.replies.create",
    }
)
APP_ID, APP_SECRET = "chorus-emulator-app", "chorus-emulator-secret"
QUOTA_WINDOW_S = 24 * 3600.0


class Html(_PlainText):
    """An answer sent as an HTML page (the login dialog)."""

    content_type = b"text/html; charset=utf-8"


class _GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        headers: list[tuple[str, str]] | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(8),
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        error.update(extra)
        self.reply: Reply = (status, {"error": error}, headers or [])


@dataclass
class MetaFault:
    route: str = "*"
    times: int = 1
    status: int = 400
    code: int = 2
    subcode: int | None = None
    message: str = "An unexpected error has occurred. Please retry your request later."
    is_transient: bool | None = None
    headers: dict[str, str] = field(default_factory=dict)
    after_commit: bool = False

    def matches(self, route: str) -> bool:
        if self.route == "meta.publish":
            return route in PUBLISH_ROUTES
        return self.route in ("*", route)

    def error(self) -> _GraphError:
        extra = {} if self.is_transient is None else {"is_transient": self.is_transient}
        return _GraphError(
            self.status, self.code, self.message, self.subcode, list(self.headers.items()), **extra
        )


def _now_s() -> float:
    return time.time()


def _graph_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _split_fields(spec: str) -> list[str]:
    """Top-level names of a `fields` list: `a,b.summary(x).limit(0),c{d,e}` -> a, b, c."""
    names, depth, current = [], 0, ""
    for char in spec:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [re.split(r"[.{(]", name.strip(), maxsplit=1)[0] for name in names if name.strip()]


def _form(request: _Request) -> dict[str, Any]:
    """Query, url-encoded and multipart parameters; files as bytes with their type."""
    values: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded") and request.body:
        values.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
    elif kind.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.default).parsebytes(
            f"Content-Type: {kind}\r\n\r\n".encode() + request.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                values[name] = {"data": payload, "type": part.get_content_type()}
            else:
                values[name] = payload.decode()
    return values


class MetaGraph:
    """The Graph API's state and routes; `emulator` is the host app (events, counters)."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.reset()

    def reset(self) -> None:
        self.faults: list[MetaFault] = []
        self.calls_per_hour = 4800
        self.quota_total = 100
        self.video_processing_checks = 1
        self.users: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.ig: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (user, redirect_uri)
        self.tokens: dict[str, dict[str, Any]] = {}  # token -> {user, page?, long}
        self.nodes: dict[str, dict[str, Any]] = {}  # posts, photos, videos, comments, media
        self.containers: dict[str, dict[str, Any]] = {}
        self.usage: dict[str, list[float]] = {}
        self._ids = itertools.count(int(time.time()) * 1000)

    def _id(self) -> str:
        return str(next(self._ids))

    # ----------------------------------------------------------------- control

    def control(self, request: _Request, name: str) -> Reply:
        body = request.json()
        if name == "configure":
            for key in ("calls_per_hour", "quota_total", "video_processing_checks"):
                if key in body:
                    setattr(self, key, int(body[key]))
            if "faults" in body:
                self.faults = [MetaFault(**step) for step in body["faults"]]
            return 200, {"ok": True}, []
        if name == "user":
            return 200, self.add_user(str(body["name"]), body.get("pages") or []), []
        if name == "unmanage":  # the Page's people remove every user from it
            for user in self.users.values():
                if str(body["page"]) in user["pages"]:
                    user["pages"].remove(str(body["page"]))
            return 200, {"ok": True}, []
        if name == "revoke":  # every user removes the app
            for grant in self.tokens.values():
                grant["revoked"] = True
            return 200, {"ok": True}, []
        if name == "comment":
            return 200, self.add_comment(**body), []
        if name == "state":
            return 200, {"nodes": self.nodes, "containers": self.containers}, []
        return 404, {"error": f"no control endpoint meta/{name}"}, []

    def add_user(self, name: str, pages: list[dict[str, Any]]) -> dict[str, Any]:
        """A Facebook user managing `pages` ({name, instagram?: {username}})."""
        user_id = self._id()
        self.users[user_id] = {"id": user_id, "name": name, "pages": []}
        for spec in pages:
            page_id = self._id()
            self.pages[page_id] = {"id": page_id, "name": spec["name"], "followers": 0, "ig": ""}
            self.users[user_id]["pages"].append(page_id)
            if spec.get("instagram"):
                ig_id = self._id()
                username = spec["instagram"]["username"]
                self.ig[ig_id] = {
                    "id": ig_id,
                    "username": username,
                    "page": page_id,
                    "published": [],
                }
                self.pages[page_id]["ig"] = ig_id
        return {"user": user_id, "pages": self.users[user_id]["pages"]}

    def add_comment(
        self, on: str, message: str, author: str = "Somchai", parent: str = ""
    ) -> dict[str, Any]:
        """Someone else comments on a post or media (or answers a comment)."""
        comment_id = self._id()
        self._store_comment(comment_id, on, parent, message, {"id": self._id(), "name": author})
        return {"id": comment_id}

    def _default_user(self) -> str:
        if not self.users:
            self.add_user(
                "Emulated Owner",
                [
                    {"name": "Chorus Café", "instagram": {"username": "chorus.cafe"}},
                    {"name": "Chorus Books"},
                ],
            )
        return next(iter(self.users))

    # ----------------------------------------------------------------- dispatch

    @staticmethod
    def owns(request: _Request) -> bool:
        return bool(VERSION_PATH.match(request.path))

    async def handle(self, request: _Request) -> Reply:
        parts = request.path.split("/")[2:]
        params = _form(request)
        try:
            if parts[:2] == ["dialog", "oauth"]:
                return self._dialog(params)
            if parts[:2] == ["oauth", "access_token"]:
                return self._access_token(params)
            route, handler, node, edge = self._route(request.method, parts)
            request.route = route
            self.emulator.counters[f"route:{route}"] += 1
            fault = next((f for f in self.faults if f.matches(route)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                self.emulator.counters["faults_injected"] += 1
                if not fault.after_commit:
                    raise fault.error()
            grant = self._grant(request, params)
            headers = self._count_usage(grant)
            status, payload = await handler(grant, node, edge, params)
            if fault is not None:
                raise fault.error()
            return status, payload, headers
        except _GraphError as error:
            return error.reply

    def _route(self, method: str, parts: list[str]):
        node = parts[0] if parts else ""
        edge = parts[1] if len(parts) > 1 else ""
        table = {
            ("GET", ""): ("meta.node.get", self._get_node),
            ("DELETE", ""): ("meta.node.delete", self._delete_node),
            ("GET", "accounts"): ("meta.me.accounts", self._me_accounts),
            ("POST", "feed"): ("meta.feed", self._post_feed),
            ("POST", "photos"): ("meta.photos", self._post_photo),
            ("POST", "videos"): ("meta.videos", self._post_video),
            ("GET", "published_posts"): ("meta.published_posts", self._published_posts),
            ("GET", "comments"): ("meta.comments", self._comments),
            ("GET", "replies"): ("meta.replies", self._comments),
            ("POST", "comments"): ("meta.comments.create", self._post_comment),
            ("POST", "replies"): ("meta.replies.create", self._post_comment),
            ("GET", "insights"): ("meta.insights", self._insights),
            ("POST", "media"): ("meta.media.create", self._create_container),
            ("GET", "media"): ("meta.media", self._ig_media),
            ("POST", "media_publish"): ("meta.media_publish", self._media_publish),
            ("GET", "content_publishing_limit"): ("meta.quota", self._quota),
        }
        found = table.get((method, edge))
        if found is None or len(parts) > 2:
            raise _GraphError(400, 100, f"Unsupported {method} request.", 33)
        return found[0], found[1], node, edge

    # ----------------------------------------------------------------- tokens and usage

    def _grant(self, request: _Request, params: dict[str, Any]) -> dict[str, Any]:
        """developers.facebook.com/docs/facebook-login/guides/access-tokens and
        .../graph-api/securing-requests (appsecret_proof)."""
        token = request.bearer or str(params.get("access_token") or "")
        grant = self.tokens.get(token)
        if grant is None:
            raise _GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if grant.get("revoked"):
            raise _GraphError(
                400,
                190,
                "Error validating access token: The user has not authorized application.",
                458,
            )
        page = grant.get("page")
        if page and page not in self.users[grant["user"]]["pages"]:
            raise _GraphError(
                400,
                190,
                "Error validating access token: The user is not an administrator of the page.",
                492,
            )
        proof = params.get("appsecret_proof")
        expected = hmac.new(APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and proof != expected:
            raise _GraphError(400, 100, "Invalid appsecret_proof provided in the API argument")
        return grant

    def _count_usage(self, grant: dict[str, Any]) -> list[tuple[str, str]]:
        """developers.facebook.com/docs/graph-api/overview/rate-limiting (Business Use Case
        rate limits: X-Business-Use-Case-Usage, error 80001 for Pages)."""
        owner = grant.get("page") or grant["user"]
        now = _now_s()
        calls = [t for t in self.usage.get(owner, []) if t > now - 3600]
        self.usage[owner] = calls
        spent = len(calls) >= self.calls_per_hour
        if not spent:
            calls.append(now)
        pct = min(100, len(calls) * 100 // max(1, self.calls_per_hour))
        regain = max(1, int((calls[0] + 3600 - now) // 60)) if spent else 0
        usage = {
            owner: [
                {
                    "type": "pages",
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": regain,
                }
            ]
        }
        headers = [
            ("X-Business-Use-Case-Usage", _json(usage)),
            ("X-App-Usage", _json({"call_count": pct // 4, "total_cputime": 0, "total_time": 0})),
        ]
        if spent:
            self.emulator.counters["rate_limited"] += 1
            raise _GraphError(
                400,
                80001,
                "There have been too many calls to this Page account. Wait a bit and try again.",
                headers=headers,
            )
        return headers

    # ----------------------------------------------------------------- login

    def _dialog(self, params: dict[str, Any]) -> Reply:
        """developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow: the login
        dialog; here a page with one button per user and a cancel link."""
        redirect, state = str(params.get("redirect_uri") or ""), str(params.get("state") or "")
        if params.get("client_id") != APP_ID or not redirect:
            return 400, Html("<p>Invalid App ID or redirect_uri</p>"), []
        self._default_user()
        links = []
        for user_id, user in self.users.items():
            code = secrets.token_urlsafe(16)
            self.codes[code] = (user_id, redirect)
            url = f"{redirect}?{urlencode({'code': code, 'state': state})}"
            links.append(
                f'<p><a href="{html.escape(url)}">Continue as {html.escape(user["name"])}</a></p>'
            )
        denied = urlencode(
            {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions error",
                "state": state,
            }
        )
        page = (
            f"<!doctype html><title>Log in with Facebook</title><h1>Log in with Facebook</h1>"
            f'{"".join(links)}<p><a href="{html.escape(redirect)}?{html.escape(denied)}">'
            "Cancel</a></p>"
        )
        return 200, Html(page), []

    def _access_token(self, params: dict[str, Any]) -> Reply:
        """developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow (code) and
        .../access-tokens/get-long-lived (fb_exchange_token)."""
        try:
            if params.get("client_id") != APP_ID or params.get("client_secret") != APP_SECRET:
                raise _GraphError(400, 1, "Error validating client secret.")
            if params.get("grant_type") == "fb_exchange_token":
                grant = self.tokens.get(str(params.get("fb_exchange_token")))
                if grant is None or grant.get("revoked"):
                    raise _GraphError(400, 190, "Invalid OAuth access token.")
                token = self._token(grant["user"], long=True)
                return (
                    200,
                    {"access_token": token, "token_type": "bearer", "expires_in": 5183944},
                    [],
                )
            code = self.codes.pop(str(params.get("code")), None)
            if code is None or code[1] != params.get("redirect_uri"):
                raise _GraphError(400, 100, "This authorization code has been used.", 36009)
            token = self._token(code[0])
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": 5400}, []
        except _GraphError as error:
            return error.reply

    def _token(self, user: str, *, page: str = "", long: bool = False) -> str:
        token = "EAA" + secrets.token_urlsafe(24)
        self.tokens[token] = {"user": user, "page": page, "long": long}
        return token

    async def _me_accounts(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/user/accounts"""
        if node != "me" or grant.get("page"):
            raise _GraphError(400, 100, "Unsupported get request.", 33)
        data = []
        for page_id in self.users[grant["user"]]["pages"]:
            page = self.pages[page_id]
            item = {
                "id": page_id,
                "name": page["name"],
                "tasks": ["CREATE_CONTENT", "MODERATE"],
                "access_token": self._token(grant["user"], page=page_id),
                "picture": {"data": {"url": f"https://emulator.invalid/{page_id}.jpg"}},
            }
            if page["ig"]:
                ig = self.ig[page["ig"]]
                item["instagram_business_account"] = {
                    "id": ig["id"],
                    "username": ig["username"],
                    "name": ig["username"],
                }
            data.append(item)
        return 200, self._paged(data, params)

    # ----------------------------------------------------------------- nodes

    def _owned(self, grant: dict[str, Any], node: str) -> None:
        """The Page token acts for its Page and the Instagram account linked to it."""
        page = grant.get("page") or ""
        allowed = {page, self.pages.get(page, {}).get("ig", "")}
        if node not in allowed:
            raise _GraphError(400, 200, "(#200) Permissions error")

    def _node(self, node_id: str) -> dict[str, Any]:
        found = self.nodes.get(node_id)
        if found is None or found.get("deleted"):
            raise _GraphError(
                400,
                100,
                f"Unsupported get request. Object with ID '{node_id}' "
                "does not exist, cannot be loaded due to missing permissions, or "
                "does not support this operation.",
                33,
            )
        return found

    def _view(self, node_id: str, fields: str) -> dict[str, Any]:
        """A node with the fields asked for (developers.facebook.com/docs/graph-api/
        overview, field expansion; edges as `{data, summary}`)."""
        if node_id in self.pages:
            page = self.pages[node_id]
            full = {
                "id": node_id,
                "name": page["name"],
                "followers_count": page["followers"],
                "fan_count": page["followers"],
                "link": f"https://www.facebook.com/{node_id}",
                "picture": {"data": {"url": f"https://emulator.invalid/{node_id}.jpg"}},
            }
        elif node_id in self.ig:
            ig = self.ig[node_id]
            full = {
                "id": node_id,
                "username": ig["username"],
                "name": ig["username"],
                "followers_count": 0,
                "follows_count": 0,
                "media_count": len(ig["published"]),
                "profile_picture_url": "",
            }
        elif node_id in self.containers:
            box = self.containers[node_id]
            full = {"id": node_id, **self._container_status(box)}
        else:
            item = self._node(node_id)
            comments = [c for c in item.get("comments", []) if not self.nodes[c].get("deleted")]
            full = {
                **{k: v for k, v in item.items() if not k.startswith("_")},
                "comments": {"data": [], "summary": {"total_count": len(comments)}},
                "reactions": {"data": [], "summary": {"total_count": item.get("_likes", 0)}},
                "comments_count": len(comments),
                "like_count": item.get("_likes", 0),
            }
            if item.get("_kind") == "post":
                full["shares"] = {"count": item.get("_shares", 0)}
        wanted = _split_fields(fields) if fields else ["id", "name"]
        return {name: full[name] for name in ["id", *wanted] if name in full}

    async def _get_node(self, grant, node, edge, params):
        fields = str(params.get("fields") or "")
        if not node:  # multiple-ID read: GET /?ids=a,b
            ids = [i for i in str(params.get("ids") or "").split(",") if i]
            return 200, {i: self._view(i, fields) for i in ids}
        if node == "me" and not grant.get("page"):
            user = self.users[grant["user"]]
            return 200, {"id": user["id"], "name": user["name"]}
        return 200, self._view(node, fields)

    async def _delete_node(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/post (Deleting); Instagram
        media cannot be deleted through the API (its comments can)."""
        item = self._node(node)
        if item.get("_kind") == "ig_media":
            raise _GraphError(400, 100, "(#100) Unsupported delete request.", 33)
        item["deleted"] = True
        self.emulator.counters["posts_deleted"] += 1
        return 200, {"success": True}

    def _store(self, kind: str, node_id: str, owner: str, **fields: Any) -> dict[str, Any]:
        now = _now_s()
        item = {
            "id": node_id,
            "_kind": kind,
            "_owner": owner,
            "_at": now,
            "created_time": _graph_time(now),
            **fields,
        }
        self.nodes[node_id] = item
        return item

    def _event(self, owner: str, node_id: str, text: str) -> None:
        self.emulator._published("meta", owner, "", node_id, _now_s(), text)

    # ----------------------------------------------------------------- Pages

    async def _post_feed(self, grant, node, edge, params):
        """developers.facebook.com/docs/pages-api/posts (POST /{page-id}/feed: message, link,
        attached_media[n]={"media_fbid": ...} of unpublished photos)."""
        self._owned(grant, node)
        message, attached = str(params.get("message") or ""), []
        for key in sorted(k for k in params if k.startswith("attached_media[")):
            fbid = _json_load(params[key]).get("media_fbid", "")
            photo = self.nodes.get(fbid)
            if photo is None or photo.get("_kind") != "photo" or photo.get("_published"):
                raise _GraphError(
                    400,
                    100,
                    "(#100) param attached_media must be an unpublished photo of this Page",
                )
            attached.append(fbid)
        if not message and not params.get("link") and not attached:
            raise _GraphError(400, 100, "(#100) The post is empty. Please enter a message.")
        if len(message) > 63206:
            raise _GraphError(400, 100, "(#100) The message is too long.")
        post_id = f"{node}_{self._id()}"
        self._post(node, post_id, message, link=str(params.get("link") or ""), photos=attached)
        return 200, {"id": post_id}

    def _post(self, page: str, post_id: str, message: str, **fields: Any) -> None:
        self._store(
            "post",
            post_id,
            page,
            message=message,
            from_={},
            permalink_url=f"https://www.facebook.com/{post_id}",
            **fields,
        )
        self.nodes[post_id]["from"] = {"id": page, "name": self.pages[page]["name"]}
        del self.nodes[post_id]["from_"]
        self._event(page, post_id, message)

    async def _post_photo(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/page/photos (source or url;
        published=false keeps it for attached_media)."""
        self._owned(grant, node)
        source = params.get("source")
        if not isinstance(source, dict) or not source["type"].startswith("image/"):
            raise _GraphError(400, 324, "(#324) Requires upload file")
        if len(source["data"]) > 10 * 1024 * 1024:
            raise _GraphError(400, 100, "(#100) The photo is larger than 10 MB.")
        photo_id = self._id()
        published = str(params.get("published", "true")).lower() != "false"
        self._store("photo", photo_id, node, _published=published)
        if not published:
            return 200, {"id": photo_id}
        post_id = f"{node}_{photo_id}"
        self._post(node, post_id, str(params.get("message") or ""), photos=[photo_id])
        return 200, {"id": photo_id, "post_id": post_id}

    async def _post_video(self, grant, node, edge, params):
        """developers.facebook.com/docs/video-api/guides/publishing (non-resumable `source`
        upload on graph-video.facebook.com; the post is {page-id}_{video-id})."""
        self._owned(grant, node)
        source = params.get("source")
        if not isinstance(source, dict) or not source["type"].startswith("video/"):
            raise _GraphError(400, 390, "There was a problem uploading your video file.", 1363030)
        video_id = self._id()
        self._store("video", video_id, node)
        self._post(node, f"{node}_{video_id}", str(params.get("description") or ""))
        return 200, {"id": video_id}

    async def _published_posts(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/page/published_posts"""
        self._owned(grant, node)
        posts = [
            p
            for p in self.nodes.values()
            if p["_kind"] == "post" and p["_owner"] == node and not p.get("deleted")
        ]
        posts.sort(key=lambda p: p["_at"], reverse=True)
        fields = str(params.get("fields") or "")
        return 200, self._paged([self._view(p["id"], fields) for p in posts], params)

    def _store_comment(self, comment_id, on, parent, message, author) -> dict[str, Any]:
        target = self._node(on)
        kind = "ig_comment" if target["_kind"] in ("ig_media", "ig_comment") else "comment"
        fields: dict[str, Any] = {
            "message": message,
            "from": author,
            "permalink_url": f"https://www.facebook.com/{comment_id}",
        }
        if kind == "ig_comment":
            fields = {
                "text": message,
                "username": author.get("username") or author.get("name"),
                "from": {
                    "id": author["id"],
                    "username": author.get("username") or author.get("name"),
                },
                "timestamp": _graph_time(_now_s()),
            }
        if parent:
            fields["parent"] = {"id": parent}
        item = self._store(kind, comment_id, target["_owner"], **fields)
        target.setdefault("comments", []).append(comment_id)
        return item

    async def _comments(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/object/comments (filter=stream,
        order=reverse_chronological) and .../instagram-api/reference/ig-media/comments."""
        target = self._node(node)
        ids = [c for c in target.get("comments", []) if not self.nodes[c].get("deleted")]
        items = sorted((self.nodes[c] for c in ids), key=lambda c: c["_at"], reverse=True)
        if params.get("order") == "chronological":
            items.reverse()
        fields = str(params.get("fields") or "id,message,created_time")
        return 200, self._paged([self._view(c["id"], fields) for c in items], params)

    async def _post_comment(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/object/comments (publishing) and
        .../instagram-api/reference/ig-comment/replies."""
        target = self._node(node)
        self._owned(grant, target["_owner"])
        message = str(params.get("message") or "")
        if not message:
            raise _GraphError(400, 100, "(#100) The parameter message is required")
        if edge == "replies" and target["_kind"] != "ig_comment":
            raise _GraphError(400, 100, "(#100) Tried accessing nonexisting field (replies)")
        owner = target["_owner"]
        author = (
            {"id": owner, "username": self.ig[owner]["username"]}
            if owner in self.ig
            else {"id": owner, "name": self.pages[owner]["name"]}
        )
        comment_id = self._id()
        parent = node if target["_kind"] in ("comment", "ig_comment") else ""
        self._store_comment(comment_id, node, parent, message, author)
        self._event(owner, comment_id, message)
        return 200, {"id": comment_id}

    async def _insights(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/insights and .../instagram-api/
        reference/ig-media/insights: a metric that does not exist is error 100."""
        metric = str(params.get("metric") or "")
        known = {"page_post_engagements", "page_views_total", "reach", "saved", "views"}
        if metric not in known:
            raise _GraphError(
                400, 100, f"(#100) The value must be a valid insights metric: {metric}"
            )
        value = len(self.nodes.get(node, {}).get("comments", [])) + 1
        return 200, {
            "data": [
                {
                    "name": metric,
                    "period": params.get("period", "lifetime"),
                    "values": [{"value": value}],
                }
            ]
        }

    # ----------------------------------------------------------------- Instagram

    async def _fetch(self, url: str, *, video: bool) -> str:
        """What Instagram's fetcher makes of a media URL: "" when usable, else its error."""
        try:
            async with httpx.AsyncClient(timeout=20) as client:
                response = await client.get(url)
        except httpx.HTTPError:
            return "unreachable"
        kind = response.headers.get("content-type", "").split(";")[0]
        if response.status_code != 200:
            return "unreachable"
        if video and not kind.startswith("video/") or not video and kind != "image/jpeg":
            return "type"
        return ""

    async def _create_container(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/media: image_url, media_type=REELS|VIDEO|CAROUSEL, is_carousel_item,
        children, caption (2,200 characters, 30 hashtags, 20 mentions)."""
        self._owned(grant, node)
        if node not in self.ig:
            raise _GraphError(400, 100, "(#100) Unsupported post request.", 33)
        kind = str(params.get("media_type") or "IMAGE")
        caption = str(params.get("caption") or "")
        if len(caption.encode("utf-16-le")) // 2 > 2200 or caption.count("#") > 30:
            raise _GraphError(
                400, 100, "(#100) The caption is too long or has too many hashtags.", 2207028
            )
        box: dict[str, Any] = {
            "ig": node,
            "kind": kind,
            "caption": caption,
            "checks": 0,
            "created": _now_s(),
            "published": False,
            "error": "",
            "carousel_item": params.get("is_carousel_item") == "true",
        }
        if kind == "CAROUSEL":
            children = [c for c in str(params.get("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(
                self.containers.get(c, {}).get("checks", -1) < 0 for c in children
            ):
                raise _GraphError(400, 100, "(#100) A carousel takes 2 to 10 item containers.")
            if any(
                self._container_status(self.containers[c])["status_code"] != "FINISHED"
                for c in children
            ):
                raise _GraphError(400, 9007, "Media is not ready to be published.", 2207027)
            box["children"] = children
        elif kind in ("REELS", "VIDEO"):
            box["error"] = await self._fetch(str(params.get("video_url") or ""), video=True)
            box["pending"] = self.video_processing_checks
        else:
            problem = await self._fetch(str(params.get("image_url") or ""), video=False)
            if problem:
                raise _GraphError(
                    400,
                    9004,
                    "Only photo or video can be accepted as media type.",
                    2207052,
                    error_user_title="Media download has failed.",
                    error_user_msg="The media could not be fetched from this URI"
                    if problem == "unreachable"
                    else "The image is not a JPEG.",
                )
        container_id = self._id()
        self.containers[container_id] = box
        return 200, {"id": container_id}

    def _container_status(self, box: dict[str, Any]) -> dict[str, str]:
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-container: status_code EXPIRED, ERROR, FINISHED, IN_PROGRESS or PUBLISHED."""
        if box["published"]:
            return {"status_code": "PUBLISHED", "status": "Published"}
        if _now_s() - box["created"] > 24 * 3600:
            return {"status_code": "EXPIRED", "status": "Expired"}
        if box["error"]:
            return {"status_code": "ERROR", "status": "Error: Media download has failed."}
        if box.get("pending", 0) > 0:
            box["pending"] -= 1
            return {"status_code": "IN_PROGRESS", "status": "In Progress"}
        return {"status_code": "FINISHED", "status": "Finished"}

    def _used_quota(self, ig_id: str) -> int:
        now = _now_s()
        return sum(1 for t in self.ig[ig_id]["published"] if t > now - QUOTA_WINDOW_S)

    async def _quota(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/content_publishing_limit"""
        self._owned(grant, node)
        return 200, {
            "data": [
                {
                    "quota_usage": self._used_quota(node),
                    "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                }
            ]
        }

    async def _media_publish(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/media_publish (creation_id; error 9 / 2207042 once the quota is spent)."""
        self._owned(grant, node)
        box = self.containers.get(str(params.get("creation_id") or ""))
        if box is None or box["ig"] != node or box["carousel_item"]:
            raise _GraphError(400, 100, "(#100) Invalid creation_id.", 33)
        if self._used_quota(node) >= self.quota_total:
            raise _GraphError(
                400,
                9,
                "Application request limit reached",
                2207042,
                error_user_msg="You reached maximum number of posts that is "
                "allowed to be published by Content Publishing API.",
            )
        if box["published"] or self._container_status(box)["status_code"] != "FINISHED":
            raise _GraphError(400, 9007, "Media ID is not available", 2207027)
        media_id = self._id()
        box["published"] = True
        media_type = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(box["kind"], box["kind"])
        self._store(
            "ig_media",
            media_id,
            node,
            caption=box["caption"],
            media_type=media_type,
            timestamp=_graph_time(_now_s()),
            permalink=f"https://www.instagram.com/p/{media_id}/",
        )
        self.ig[node]["published"].append(_now_s())
        self._event(node, media_id, box["caption"])
        return 200, {"id": media_id}

    async def _ig_media(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/media (GET: newest first)."""
        self._owned(grant, node)
        media = [m for m in self.nodes.values() if m["_kind"] == "ig_media" and m["_owner"] == node]
        media.sort(key=lambda m: m["_at"], reverse=True)
        fields = str(params.get("fields") or "id")
        return 200, self._paged([self._view(m["id"], fields) for m in media], params)

    # ----------------------------------------------------------------- paging

    def _paged(self, items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """developers.facebook.com/docs/graph-api/results (cursor-based pagination)."""
        limit = max(1, min(100, int(params.get("limit") or 25)))
        after = str(params.get("after") or "")
        start = int(base64.urlsafe_b64decode(after).decode()) if after else 0
        page = items[start : start + limit]
        result: dict[str, Any] = {"data": page}
        if page:
            cursors = {"before": _cursor(start), "after": _cursor(start + len(page))}
            result["paging"] = {"cursors": cursors}
            if start + len(page) < len(items):
                result["paging"]["next"] = "https://graph.emulator.invalid/next"
        return result


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _json_load(value: Any) -> dict[str, Any]:
    import json

    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def meta_settings(base_url: str) -> dict[str, str]:
    """Django settings that point Chorus's Meta app at an emulator at `base_url`."""
    return {
        "CHORUS_META_APP_ID": APP_ID,
        "CHORUS_META_APP_SECRET": APP_SECRET,
        "CHORUS_META_CONFIG_ID": "",
        "CHORUS_META_GRAPH_URL": base_url,
        "CHORUS_META_VIDEO_URL": base_url,
        "CHORUS_META_DIALOG_URL": base_url,
    }
