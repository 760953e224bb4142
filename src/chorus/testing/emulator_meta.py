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
for `times` requests; `after_commit` does the work first and then loses the answer. A token
given to the emulator's `revoke` is refused as a removed app (code 190, subcode 458).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from chorus.testing.emulator_http import Reply, _Request
from chorus.testing.emulator_meta_instagram import InstagramRoutes
from chorus.testing.emulator_meta_wire import (
    VERSION_PATH,
    GraphError,
    Html,
    MetaFault,
    dumps,
    form_params,
    graph_time,
    loads_object,
    now_s,
    paged,
    split_fields,
)

APP_ID, APP_SECRET = "chorus-emulator-app", "chorus-emulator-secret"


class MetaGraph(InstagramRoutes):
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
        if name == "account":  # one Page (and its Instagram) already connected (load tests)
            made = self.add_user(str(body["name"]), [body])
            page = made["pages"][0]
            token = self._token(made["user"], page=page, long=True)
            return 200, {"page": page, "ig": self.pages[page]["ig"], "token": token}, []
        if name == "unmanage":  # the Page's people remove every user from it
            for user in self.users.values():
                if str(body["page"]) in user["pages"]:
                    user["pages"].remove(str(body["page"]))
            return 200, {"ok": True}, []
        if name == "revoke":  # every user removes the app
            for grant in self.tokens.values():
                grant["revoked"] = True
            return 200, {"ok": True}, []
        if name == "expire":  # a day passes for every container
            for box in self.containers.values():
                box["created"] -= 25 * 3600
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
        params = form_params(request)
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
                    await asyncio.sleep(fault.delay_s)
                    if fault.status:
                        raise fault.error()
            grant = self._grant(request, params)
            headers = self._count_usage(grant)
            status, payload = await handler(grant, node, edge, params)
            if fault is not None and fault.after_commit:
                await asyncio.sleep(fault.delay_s)
                if fault.status:
                    raise fault.error()
            return status, payload, headers
        except GraphError as error:
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
            raise GraphError(400, 100, f"Unsupported {method} request.", 33)
        return found[0], found[1], node, edge

    # ----------------------------------------------------------------- tokens and usage

    def _grant(self, request: _Request, params: dict[str, Any]) -> dict[str, Any]:
        """developers.facebook.com/docs/facebook-login/guides/access-tokens and
        .../graph-api/securing-requests (appsecret_proof)."""
        token = request.bearer or str(params.get("access_token") or "")
        grant = self.tokens.get(token)
        if grant is None:
            raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if grant.get("revoked") or token in self.emulator.revoked:
            raise GraphError(
                400,
                190,
                "Error validating access token: The user has not authorized application.",
                458,
            )
        page = grant.get("page")
        if page and page not in self.users[grant["user"]]["pages"]:
            raise GraphError(
                400,
                190,
                "Error validating access token: The user is not an administrator of the page.",
                492,
            )
        proof = params.get("appsecret_proof")
        expected = hmac.new(APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and proof != expected:
            raise GraphError(400, 100, "Invalid appsecret_proof provided in the API argument")
        return grant

    def _count_usage(self, grant: dict[str, Any]) -> list[tuple[str, str]]:
        """developers.facebook.com/docs/graph-api/overview/rate-limiting (Business Use Case
        rate limits: X-Business-Use-Case-Usage, error 80001 for Pages)."""
        owner = grant.get("page") or grant["user"]
        now = now_s()
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
            ("X-Business-Use-Case-Usage", dumps(usage)),
            ("X-App-Usage", dumps({"call_count": pct // 4, "total_cputime": 0, "total_time": 0})),
        ]
        if spent:
            self.emulator.counters["rate_limited"] += 1
            raise GraphError(
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
                raise GraphError(400, 1, "Error validating client secret.")
            if params.get("grant_type") == "fb_exchange_token":
                grant = self.tokens.get(str(params.get("fb_exchange_token")))
                if grant is None or grant.get("revoked"):
                    raise GraphError(400, 190, "Invalid OAuth access token.")
                token = self._token(grant["user"], long=True)
                return (
                    200,
                    {"access_token": token, "token_type": "bearer", "expires_in": 5183944},
                    [],
                )
            code = self.codes.pop(str(params.get("code")), None)
            if code is None or code[1] != params.get("redirect_uri"):
                raise GraphError(400, 100, "This authorization code has been used.", 36009)
            token = self._token(code[0])
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": 5400}, []
        except GraphError as error:
            return error.reply

    def _token(self, user: str, *, page: str = "", long: bool = False) -> str:
        token = "EAA" + secrets.token_urlsafe(24)
        self.tokens[token] = {"user": user, "page": page, "long": long}
        return token

    async def _me_accounts(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/user/accounts"""
        if node != "me" or grant.get("page"):
            raise GraphError(400, 100, "Unsupported get request.", 33)
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
        return 200, paged(data, params)

    # ----------------------------------------------------------------- nodes

    def _owned(self, grant: dict[str, Any], node: str) -> None:
        """The Page token acts for its Page and the Instagram account linked to it."""
        page = grant.get("page") or ""
        allowed = {page, self.pages.get(page, {}).get("ig", "")}
        if node not in allowed:
            raise GraphError(400, 200, "(#200) Permissions error")

    def _node(self, node_id: str) -> dict[str, Any]:
        found = self.nodes.get(node_id)
        if found is None or found.get("deleted"):
            raise GraphError(
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
        wanted = split_fields(fields) if fields else ["id", "name"]
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
            raise GraphError(400, 100, "(#100) Unsupported delete request.", 33)
        item["deleted"] = True
        self.emulator.counters["posts_deleted"] += 1
        return 200, {"success": True}

    def _store(self, kind: str, node_id: str, owner: str, **fields: Any) -> dict[str, Any]:
        now = now_s()
        item = {
            "id": node_id,
            "_kind": kind,
            "_owner": owner,
            "_at": now,
            "created_time": graph_time(now),
            **fields,
        }
        self.nodes[node_id] = item
        return item

    def _event(self, owner: str, node_id: str, text: str) -> None:
        self.emulator._published("meta", owner, "", node_id, now_s(), text)

    # ----------------------------------------------------------------- Pages

    async def _post_feed(self, grant, node, edge, params):
        """developers.facebook.com/docs/pages-api/posts (POST /{page-id}/feed: message, link,
        attached_media[n]={"media_fbid": ...} of unpublished photos)."""
        self._owned(grant, node)
        message, attached = str(params.get("message") or ""), []
        for key in sorted(k for k in params if k.startswith("attached_media[")):
            fbid = loads_object(params[key]).get("media_fbid", "")
            photo = self.nodes.get(fbid)
            if photo is None or photo.get("_kind") != "photo" or photo.get("_published"):
                raise GraphError(
                    400,
                    100,
                    "(#100) param attached_media must be an unpublished photo of this Page",
                )
            attached.append(fbid)
        if not message and not params.get("link") and not attached:
            raise GraphError(400, 100, "(#100) The post is empty. Please enter a message.")
        if len(message) > 63206:
            raise GraphError(400, 100, "(#100) The message is too long.")
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
            raise GraphError(400, 324, "(#324) Requires upload file")
        if len(source["data"]) > 10 * 1024 * 1024:
            raise GraphError(400, 100, "(#100) The photo is larger than 10 MB.")
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
            raise GraphError(400, 390, "There was a problem uploading your video file.", 1363030)
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
        return 200, paged([self._view(p["id"], fields) for p in posts], params)

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
                "timestamp": graph_time(now_s()),
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
        return 200, paged([self._view(c["id"], fields) for c in items], params)

    async def _post_comment(self, grant, node, edge, params):
        """developers.facebook.com/docs/graph-api/reference/object/comments (publishing) and
        .../instagram-api/reference/ig-comment/replies."""
        target = self._node(node)
        self._owned(grant, target["_owner"])
        message = str(params.get("message") or "")
        if not message:
            raise GraphError(400, 100, "(#100) The parameter message is required")
        if edge == "replies" and target["_kind"] != "ig_comment":
            raise GraphError(400, 100, "(#100) Tried accessing nonexisting field (replies)")
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
            raise GraphError(
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
