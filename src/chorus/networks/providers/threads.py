"""Threads connector: one Threads profile, through Meta's Threads API (graph.threads.net).

The installation registers one Meta app with the "Access the Threads API" use case and sets
its id and secret (CHORUS_THREADS_APP_ID, CHORUS_THREADS_APP_SECRET; docs/networks/threads.md).
Connecting (developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions)
sends the user to `threads.net/oauth/authorize`, trades the code at `POST /oauth/access_token`
for a one-hour token, and that at `GET /access_token?grant_type=th_exchange_token` for a
long-lived one (60 days), renewed by `GET /refresh_access_token?grant_type=th_refresh_token`
(developers.facebook.com/docs/threads/get-started/long-lived-tokens).

Publishing is Meta's container flow (developers.facebook.com/docs/threads/posts): Threads
fetches each file itself from a signed link on the site address (chorus.networks.media_links).
1. Quota: `GET /{user-id}/threads_publishing_limit` (250 posts and 1,000 replies in a moving
   24 hours; developers.facebook.com/docs/threads/troubleshooting#rate-limiting); spent is
   RateLimited until the oldest post of the window leaves it.
2. Containers: `POST /{user-id}/threads` with media_type TEXT, IMAGE (image_url) or VIDEO
   (video_url), `reply_to_id` for a reply; a carousel is 2-20 items made with
   `is_carousel_item=true` and then `media_type=CAROUSEL` with `children`.
3. Status: `GET /{container-id}?fields=status,error_message`, and the rest of the flow that
   Instagram shares (meta_graph.ContainerFlow): while a container is IN_PROGRESS `publish`
   raises ContainerProcessing carrying the containers made, which the dispatcher passes
   back on its retry (`publish(draft, media_ids=...)`) so they are not made again.
4. Publish: `POST /{user-id}/threads_publish` with `creation_id`.

Exactly once. Threads has no idempotency key: after an uncertain outcome `find_published`
reads the profile's own posts (`GET /me/threads`) or replies (`GET /me/replies`), newest
first, for one with this text and kind, at or after the first attempt, not recorded for
another post. Errors are Graph-shaped and mapped by meta_graph.raise_for_graph.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from chorus.networks.media_links import public_media_url
from chorus.text import count

from .base import (
    AccountIdentity,
    AccountMetrics,
    Credentials,
    Interaction,
    InteractionPage,
    Limits,
    Media,
    OAuthApp,
    OAuthSignIn,
    PostDraft,
    PostMetrics,
    Provider,
    PublishedPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from .meta_graph import (
    ContainerFlow,
    _now,
    graph_error,
    json_object,
    parse_time,
    raise_for_graph,
    rate_budget,
)
from .threads_wire import (
    AUTH_URL,
    GRAPH_URL,
    app_options,
    comparable,
    graph_url,
    kind_of,
    secrets_of,
    text_of,
    token_answer,
)
from .wire import send

VERSION = "v1.0"
SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
)
POST_INSIGHTS = ("views", "likes", "replies", "reposts", "quotes", "shares")
_CLOCK_DRIFT = timedelta(minutes=2)
_QUOTA_WINDOW = timedelta(hours=24)
_REFRESH_WITHIN_S = 30 * 86400  # renew when under 30 of its 60 days are left
_POLLED_POSTS = 25
_POST_FIELDS = "id,text,timestamp,permalink,media_type,is_reply"


class Threads(OAuthSignIn, Provider):
    """One Threads profile, acting through the installation's Threads app."""

    key = "threads"
    name = "Threads"
    auth_kind = "oauth2"
    asks_server = False
    app_settings = {"app_id": "CHORUS_THREADS_APP_ID", "app_secret": "CHORUS_THREADS_APP_SECRET"}
    setup_guide = "docs/networks/threads.md"
    # developers.facebook.com/docs/threads/posts (500 characters, emojis counted in UTF-8
    # bytes: see docs/text.md), .../posts#carousel-posts (2-20 items), media specs in
    # .../overview#image-specifications and #video-specifications.
    limits = Limits(
        max_text=500,
        text_counting="utf16",
        max_media=20,
        media_types=("image/jpeg", "image/png", "video/mp4", "video/quicktime"),
        max_image_bytes=8 * 1024 * 1024,
        max_video_bytes=1024 * 1024 * 1024,
        max_alt_text=1_000,
        supports_threads=True,
        rate_limit_note=(
            "250 posts and 1,000 replies through the API in a moving 24 hours per profile "
            "(read from threads_publishing_limit before each post)."
        ),
    )
    # ----------------------------------------------------------------------- connect

    @classmethod
    def normalize_server_url(cls, url: str) -> str:
        return graph_url()

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(str(identity.get("graph_url") or GRAPH_URL)).netloc

    @classmethod
    def register_app(
        cls, server_url: str, *, redirect_uri: str, http: httpx.Client, **options: str
    ) -> OAuthApp:
        """One Meta app per installation, made by hand: it comes from settings."""
        options = {**app_options(), **options}
        return cls.installation_app(
            client_id=options.get("app_id", ""),
            client_secret=options.get("app_secret", ""),
            needed={
                "CHORUS_THREADS_APP_ID": options.get("app_id", ""),
                "CHORUS_THREADS_APP_SECRET": options.get("app_secret", ""),
            },
            server_url=graph_url(),
            redirect_uri=redirect_uri,
            scopes=",".join(SCOPES),
        )

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        """The Threads authorization window (get-access-tokens-and-permissions, step 1)."""
        base = app_options().get("auth_url", AUTH_URL).rstrip("/")
        query = {
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": app.scopes,
            "response_type": "code",
            "state": state,
        }
        return f"{base}/oauth/authorize?{urlencode(query)}"

    @classmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        """Code -> short-lived token (one hour) -> long-lived token (60 days)."""
        short = token_answer(
            send(
                http,
                "POST",
                f"{app.server_url}/oauth/access_token",
                data={
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                    "grant_type": "authorization_code",
                    "redirect_uri": app.redirect_uri,
                    "code": code.removesuffix("#_"),  # Threads appends #_ to the redirect
                },
            ),
            "connect",
        )
        long = token_answer(
            send(
                http,
                "GET",
                f"{app.server_url}/access_token",
                params={
                    "grant_type": "th_exchange_token",
                    "client_secret": app.client_secret,
                    "access_token": short["access_token"],
                },
            ),
            "connect",
        )
        identity = {"user_id": str(short.get("user_id") or "")}
        if app.server_url != GRAPH_URL:
            identity["graph_url"] = app.server_url
        return Credentials(identity=identity, secrets=secrets_of(long))

    # ----------------------------------------------------------------------- plumbing

    @property
    def graph(self) -> str:
        return str(self.credentials.identity.get("graph_url") or GRAPH_URL).rstrip("/")

    @property
    def user_id(self) -> str:
        user_id = str(self.credentials.identity.get("user_id") or "")
        if not user_id:
            user_id = self.verify().remote_id
        return user_id

    def _call(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any):
        """An authenticated call (the token as the documented `access_token` parameter)."""
        params = {**(kwargs.pop("params", None) or {})}
        params["access_token"] = self.credentials.secrets["access_token"]
        url = f"{self.graph}/{VERSION}/{path.lstrip('/')}"
        response = send(self.http, method, url, params=params, **kwargs)
        self.rate_budget = rate_budget(response.headers) or self.rate_budget
        if response.status_code not in ok:
            raise_for_graph(response, self.name)
        return response

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return json_object(self._call("GET", path, params=params), self.name)

    def _pages(self, path: str, *, pages: int, **params: Any):
        """Each item of a paged edge, newest first, following `paging.cursors.after`."""
        for _ in range(pages):
            data = self._get(path, **params)
            items = data.get("data")
            if not isinstance(items, list):
                raise Transient("Threads sent an unexpected response shape")
            yield from (item for item in items if isinstance(item, dict))
            paging = data.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not after or not paging.get("next"):
                return
            params["after"] = after

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        me = self._get("me", fields="id,username,name,threads_profile_picture_url")
        user_id = str(me.get("id") or "")
        if not user_id:
            raise Transient("Threads sent no profile id")
        username = str(me.get("username") or user_id)
        known = {"user_id": user_id, "username": username}
        if any(self.credentials.identity.get(k) != v for k, v in known.items()):
            self.credentials.identity.update(known)
            self.credentials_changed = True
        return AccountIdentity(
            remote_id=user_id,
            handle=username,
            display_name=str(me.get("name") or username),
            avatar_url=str(me.get("threads_profile_picture_url") or ""),
            profile_url=f"https://www.threads.net/@{username}",
        )

    def refresh(self) -> None:
        """Renew the long-lived token when under 30 days are left (it must be a day old and
        unexpired to renew); otherwise check it still works."""
        expires_at = int(self.credentials.secrets.get("expires_at") or 0)
        if expires_at and expires_at - time.time() > _REFRESH_WITHIN_S:
            self.verify()
            return
        response = send(
            self.http,
            "GET",
            f"{self.graph}/refresh_access_token",
            params={
                "grant_type": "th_refresh_token",
                "access_token": self.credentials.secrets["access_token"],
            },
        )
        self.credentials.secrets = secrets_of(token_answer(response, "refresh"))
        self.credentials_changed = True

    def fetch_account_metrics(self) -> AccountMetrics:
        """followers_count from the user insights (developers.facebook.com/docs/threads/
        insights#user-insights)."""
        data = self._get(f"{self.user_id}/threads_insights", metric="followers_count")
        followers = 0
        for series in data.get("data") or []:
            if isinstance(series, dict) and series.get("name") == "followers_count":
                value = (series.get("total_value") or {}).get("value")
                followers = value if isinstance(value, int) else 0
        return AccountMetrics(followers=followers)

    # ----------------------------------------------------------------------- publishing

    def publish(self, draft: PostDraft, *, media_ids: Sequence[str] = ()) -> PublishedPost:
        """Post the draft; `media_ids` from an earlier try's error reuse its containers."""
        text = text_of(draft)
        self._check(draft, text)
        self._check_quota(reply=draft.reply_to is not None)
        flow = ContainerFlow(
            network=self.name,
            make_items=lambda: self._make_items(draft, text),
            make_carousel=lambda children: self._container(
                draft, media_type="CAROUSEL", children=",".join(children), text=text
            ),
            read=self._get,
            state_fields=("status", "error_message"),
            publish_container=self._publish_container,
        )
        media_id = flow.publish(media_ids)
        details = self._get(media_id, fields="id,permalink,timestamp")
        return PublishedPost(
            ref=RemoteRef(media_id, url=str(details.get("permalink") or "")),
            published_at=parse_time(details.get("timestamp")),
        )

    def _publish_container(self, container: str) -> dict[str, Any]:
        response = self._call(
            "POST", f"{self.user_id}/threads_publish", data={"creation_id": container}
        )
        return json_object(response, self.name)

    def _check(self, draft: PostDraft, text: str) -> None:
        """Refuse before any call what Threads would refuse."""
        used = count(text, self.limits.text_counting)
        if used > self.limits.max_text:
            limit = self.limits.max_text
            raise Rejected(f"This post has {used} characters; Threads takes {limit}.")
        if not draft.media and not text.strip():
            raise Rejected("A Threads post needs text, a photo or a video.")
        if len(draft.media) > self.limits.max_media:
            raise Rejected(f"A Threads carousel takes at most {self.limits.max_media} items.")
        for media in draft.media:
            if media.mime_type not in self.limits.media_types:
                raise Rejected(
                    f"Threads takes JPEG or PNG photos and MP4 or MOV videos, "
                    f"not {media.mime_type}."
                )
            video = media.mime_type.startswith("video/")
            limit = self.limits.max_video_bytes if video else self.limits.max_image_bytes
            if len(media.data) > limit:
                raise Rejected(
                    f"{media.filename} is larger than Threads takes "
                    f"({limit // (1024 * 1024)} MB); use a smaller file."
                )

    def _check_quota(self, *, reply: bool) -> None:
        """The moving 24-hour quota for posts (or replies), as the API reports it."""
        fields = "reply_quota_usage,reply_config" if reply else "quota_usage,config"
        data = self._get(f"{self.user_id}/threads_publishing_limit", fields=fields).get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        used = entry.get("reply_quota_usage" if reply else "quota_usage")
        total = (entry.get("reply_config" if reply else "config") or {}).get("quota_total")
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            what = "replies" if reply else "posts"
            raise RateLimited(
                f"Threads' limit of {total} {what} in 24 hours is reached for this profile; "
                "the post waits until it can go out.",
                retry_after=self._quota_wait(reply=reply),
            )

    def _quota_wait(self, *, reply: bool) -> float:
        """Seconds until the oldest post of the last 24 hours leaves the window."""
        window_start = _now() - _QUOTA_WINDOW
        oldest = None
        edge = "me/replies" if reply else "me/threads"
        for item in self._pages(edge, pages=5, fields="timestamp", limit=100):
            created = parse_time(item.get("timestamp"))
            if created is None or created < window_start:
                break
            oldest = created
        if oldest is None:
            return 3600.0
        return max(60.0, (oldest + _QUOTA_WINDOW - _now()).total_seconds())

    def _media_url(self, media: Media) -> str:
        return public_media_url(media, network=self.name, network_url=self.graph)

    def _media_fields(self, media: Media) -> dict[str, str]:
        if media.mime_type.startswith("video/"):
            fields = {"media_type": "VIDEO", "video_url": self._media_url(media)}
        else:
            fields = {"media_type": "IMAGE", "image_url": self._media_url(media)}
        if media.alt_text:
            fields["alt_text"] = media.alt_text[: self.limits.max_alt_text]
        return fields

    def _make_items(self, draft: PostDraft, text: str) -> tuple[tuple[str, ...], str]:
        """The single container, or a carousel's item containers (its own comes later)."""
        if not draft.media:
            fields = {"media_type": "TEXT", "text": text}
            if draft.link:
                fields["link_attachment"] = draft.link
            return (), self._container(draft, **fields)
        if len(draft.media) == 1:
            return (), self._container(draft, text=text, **self._media_fields(draft.media[0]))
        children = tuple(
            self._container(draft, is_carousel_item="true", **self._media_fields(media))
            for media in draft.media
        )
        return children, ""

    def _container(self, draft: PostDraft, **fields: str) -> str:
        if draft.reply_to is not None and fields.get("is_carousel_item") != "true":
            fields["reply_to_id"] = draft.reply_to.remote_id
        response = self._call("POST", f"{self.user_id}/threads", data=fields)
        container = json_object(response, self.name).get("id")
        if not container:
            raise Transient("Threads accepted the post but sent no container id")
        return str(container)

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        earliest = since - _CLOCK_DRIFT
        reply = draft.reply_to is not None
        text = text_of(draft)
        wanted, kind = comparable(text), kind_of(draft)
        edge = "me/replies" if reply else "me/threads"
        for item in self._pages(edge, pages=4, fields=_POST_FIELDS, limit=50):
            created = parse_time(item.get("timestamp"))
            if created is None:
                continue
            if created < earliest:
                return None
            if (
                str(item.get("id")) not in exclude
                and str(item.get("media_type") or kind) == kind
                and comparable(str(item.get("text") or "")) == wanted
            ):
                return PublishedPost(
                    ref=RemoteRef(str(item["id"]), url=str(item.get("permalink") or "")),
                    published_at=created,
                )
        return None

    def delete(self, ref: RemoteRef) -> None:
        """`DELETE /{media-id}` (developers.facebook.com/docs/threads/posts/delete-posts);
        a post already gone (code 100) is done."""
        response = self._call("DELETE", ref.remote_id, ok=(400, 404))
        if response.status_code in (400, 404) and graph_error(response).get("code") != 100:
            raise_for_graph(response, self.name)

    # ----------------------------------------------------------------------- reading

    def fetch_own_posts(self, *, limit: int = 100) -> tuple[PublishedPost, ...]:
        posts = []
        for item in self._pages("me/threads", pages=4, fields=_POST_FIELDS, limit=50):
            if len(posts) >= limit:
                break
            if item.get("id"):
                posts.append(
                    PublishedPost(
                        ref=RemoteRef(str(item["id"]), url=str(item.get("permalink") or "")),
                        published_at=parse_time(item.get("timestamp")),
                    )
                )
        return tuple(posts)

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """developers.facebook.com/docs/threads/insights#media-insights."""
        metrics = []
        for ref in refs:
            try:
                data = self._get(f"{ref.remote_id}/insights", metric=",".join(POST_INSIGHTS))
            except Rejected:
                continue  # deleted meanwhile
            values: dict[str, int] = {}
            for series in data.get("data") or []:
                if not isinstance(series, dict):
                    continue
                points = series.get("values") or []
                value = (series.get("total_value") or {}).get("value")
                if value is None and points and isinstance(points[0], dict):
                    value = points[0].get("value")
                if isinstance(value, int):
                    values[str(series.get("name"))] = value
            metrics.append(
                PostMetrics(
                    ref=ref,
                    likes=values.pop("likes", 0),
                    reposts=values.pop("reposts", 0),
                    replies=values.pop("replies", 0),
                    quotes=values.pop("quotes", 0),
                    extra=values,
                )
            )
        return metrics

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Replies to our recent posts (`GET /{media-id}/replies`,
        developers.facebook.com/docs/threads/retrieve-and-manage-replies)."""
        since = parse_time(int(cursor)) if cursor.isdigit() else None
        newest = int(cursor) if cursor.isdigit() else 0
        items: list[Interaction] = []
        posts = self._get("me/threads", fields="id,permalink", limit=_POLLED_POSTS).get("data")
        me = str(self.credentials.identity.get("username") or "")
        for post in posts if isinstance(posts, list) else []:
            if not isinstance(post, dict) or not post.get("id"):
                continue
            subject = RemoteRef(str(post["id"]), url=str(post.get("permalink") or ""))
            fields = "id,text,username,permalink,timestamp,is_reply_owned_by_me"
            for reply in self._pages(f"{post['id']}/replies", pages=2, fields=fields, limit=50):
                created = parse_time(reply.get("timestamp"))
                if created is None or (since is not None and created <= since):
                    continue
                newest = max(newest, int(created.timestamp()))
                username = str(reply.get("username") or "")
                if reply.get("is_reply_owned_by_me") is True or (me and username == me):
                    continue
                items.append(
                    Interaction(
                        kind="reply",
                        remote_id=str(reply["id"]),
                        author_handle=username or "threads",
                        author_name=username,
                        created_at=created,
                        text=str(reply.get("text") or ""),
                        url=str(reply.get("permalink") or subject.url),
                        subject=subject,
                        conversation_id=subject.remote_id,
                        in_reply_to=subject.remote_id,
                    )
                )
        items.sort(key=lambda i: i.created_at)
        return InteractionPage(items=tuple(items), cursor=str(newest) if newest else cursor)
