"""Instagram connector: a professional account linked to a Facebook Page, through the
Graph API with that Page's token (Instagram API with Facebook Login; see meta_graph).

Publishing is the container flow (developers.facebook.com/docs/instagram-platform/
content-publishing): Instagram fetches every file itself from a URL, so each is offered at
a signed, expiring link on the site address (chorus.networks.media_links).
1. Quota: `GET /{ig-user-id}/content_publishing_limit` (100 posts in a moving 24 hours);
   when spent, `RateLimited` until the oldest of those posts leaves the window.
2. Containers: `POST /{ig-user-id}/media` with `image_url` (one JPEG), `media_type=REELS`
   and `video_url` (one video), or one child per item (`is_carousel_item=true`) and then
   `media_type=CAROUSEL` with `children` (2 to 10 items).
3. Status: `GET /{container-id}?fields=status_code,status`, and the rest of the flow that
   Threads shares (meta_graph.ContainerFlow): while a container is IN_PROGRESS `publish`
   raises `ContainerProcessing` carrying the containers made, which the dispatcher keeps
   with the post and passes back (`publish(draft, media_ids=...)`), so a retry, even in
   another process or after a restart, does not ask Instagram to fetch the files again.
4. Publish: `POST /{ig-user-id}/media_publish` with `creation_id`: the only step people see.

Exactly once. No idempotency key: after an uncertain outcome `find_published` reads the
account's recent media (`GET /{ig-user-id}/media`, newest first) and takes the one with the
same caption and type, at or after the first attempt, not recorded for another post.
Replies (`reply_to`) answer a comment (`POST /{ig-comment-id}/replies`) or comment on one
of our posts (`POST /{ig-media-id}/comments`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from chorus.networks.media_links import public_media_url
from chorus.text import count
from chorus.text.instagram import caption_problems

from .base import (
    AccountIdentity,
    AccountMetrics,
    Interaction,
    InteractionPage,
    Limits,
    Media,
    PostDraft,
    PostMetrics,
    PublishedPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from .facebook import message_of
from .meta_graph import (
    ContainerFlow,
    GraphProvider,
    _now,
    graph_error,
    json_object,
    parse_time,
    raise_for_graph,
)

_CLOCK_DRIFT = timedelta(minutes=2)
_RECONCILE_PAGES = 4
_POLLED_MEDIA = 25
_QUOTA_WINDOW = timedelta(hours=24)
_SPACES = re.compile(r"\s+")
# error subcodes: the quota is spent; the file could not be fetched or is not accepted
_QUOTA_SUBCODE = 2207042
_FETCH_SUBCODES = frozenset({2207003, 2207020, 2207026, 2207052})
MEDIA_INSIGHTS = ("reach", "saved", "shares", "views")
ACCOUNT_INSIGHTS = ("reach", "accounts_engaged")
_KIND_OF_TYPE = {
    "IMAGE": "IMAGE",
    "VIDEO": "VIDEO",
    "REELS": "VIDEO",
    "CAROUSEL_ALBUM": "CAROUSEL_ALBUM",
}


def _comparable(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class Instagram(GraphProvider):
    """One Instagram professional account."""

    key = "instagram"
    name = "Instagram"
    id_field = "ig_user_id"
    setup_guide = "docs/networks/instagram.md"
    limits = Limits(
        max_text=2_200,  # caption; also at most 30 hashtags and 20 mentions (chorus.text)
        text_counting="utf16",
        max_media=10,  # a carousel
        media_types=("image/jpeg", "video/mp4", "video/quicktime"),  # images: JPEG only
        max_image_bytes=8 * 1024 * 1024,
        max_video_bytes=300 * 1024 * 1024,  # reels
        max_alt_text=1_000,
        supports_threads=False,
        requires_media=True,
        rate_limit_note=(
            "100 posts through the API in a moving 24 hours per account (read from "
            "content_publishing_limit); API calls are limited per account by Meta's "
            "Business Use Case rate limit, reported in X-Business-Use-Case-Usage."
        ),
    )
    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        me = self._get(self.node_id, fields="id,username,name,profile_picture_url")
        if str(me.get("id") or "") != self.node_id:
            raise Transient("Instagram answered for another account")
        username = str(me.get("username") or self.node_id)
        return AccountIdentity(
            remote_id=self.node_id,
            handle=username,
            display_name=str(me.get("name") or username),
            avatar_url=str(me.get("profile_picture_url") or ""),
            profile_url=f"https://www.instagram.com/{username}/",
        )

    def fetch_account_metrics(self) -> AccountMetrics:
        me = self._get(self.node_id, fields="followers_count,follows_count,media_count")
        extra = self._insights(self.node_id, ACCOUNT_INSIGHTS, period="day")
        return AccountMetrics(
            followers=int(me.get("followers_count") or 0),
            following=int(me.get("follows_count") or 0),
            posts=int(me.get("media_count") or 0),
            extra=extra,
        )

    def _insights(self, node: str, metrics: tuple[str, ...], **params: Any) -> dict[str, int]:
        """Each metric the token may read; one refused or retired is left out."""
        found: dict[str, int] = {}
        for metric in metrics:
            try:
                data = self._get(f"{node}/insights", metric=metric, **params)
            except Rejected:
                continue
            for series in data.get("data") or []:
                if not isinstance(series, dict):
                    continue
                values = series.get("values") or []
                value = (series.get("total_value") or {}).get("value")
                if value is None and values and isinstance(values[-1], dict):
                    value = values[-1].get("value")
                if isinstance(value, int):
                    found[str(series.get("name") or metric)] = value
        return found

    # ----------------------------------------------------------------------- publishing

    def publish(self, draft: PostDraft, *, media_ids: Sequence[str] = ()) -> PublishedPost:
        """Post the draft; `media_ids` from an earlier try's error reuse its containers."""
        caption = message_of(draft) if draft.media else draft.text
        self._check(draft, caption)
        if draft.reply_to is not None:
            return self._reply(draft.reply_to.remote_id, caption)
        self._check_quota()
        flow = ContainerFlow(
            network=self.name,
            make_items=lambda: self._make_items(draft, caption),
            make_carousel=lambda children: self._container(
                media_type="CAROUSEL", children=",".join(children), caption=caption
            ),
            read=self._get,
            state_fields=("status_code", "status"),
            publish_container=self._publish_container,
        )
        media_id = flow.publish(media_ids)
        details = self._get(media_id, fields="id,permalink,timestamp")
        return PublishedPost(
            ref=RemoteRef(media_id, url=str(details.get("permalink") or "")),
            published_at=parse_time(details.get("timestamp")),
        )

    def _check(self, draft: PostDraft, caption: str) -> None:
        """Refuse before any call what Instagram would refuse (or never show)."""
        problems = caption_problems(caption)
        used = count(caption, self.limits.text_counting)
        if used > self.limits.max_text:
            problems.insert(0, f"{used} characters (Instagram takes {self.limits.max_text})")
        if problems:
            raise Rejected("This caption has " + " and ".join(problems) + ".")
        if draft.reply_to is not None:
            if draft.media:
                raise Rejected("Chorus answers on Instagram with text only.")
            return
        if not draft.media:
            raise Rejected("An Instagram post needs a photo or a video.")
        if len(draft.media) > self.limits.max_media:
            raise Rejected(f"An Instagram carousel takes at most {self.limits.max_media} items.")
        for media in draft.media:
            video = media.mime_type.startswith("video/")
            if media.mime_type not in self.limits.media_types:
                raise Rejected(
                    f"Instagram takes JPEG photos and MP4 or MOV videos, not {media.mime_type}."
                )
            limit = self.limits.max_video_bytes if video else self.limits.max_image_bytes
            if len(media.data) > limit:
                raise Rejected(
                    f"{media.filename} is larger than Instagram takes "
                    f"({limit // (1024 * 1024)} MB); use a smaller file."
                )

    def _check_quota(self) -> None:
        """The moving 24-hour publishing quota, as the API reports it."""
        data = self._get(
            f"{self.node_id}/content_publishing_limit", fields="config,quota_usage"
        ).get("data") or [{}]
        entry = data[0] if isinstance(data[0], dict) else {}
        used = entry.get("quota_usage")
        total = (entry.get("config") or {}).get("quota_total")
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            raise RateLimited(
                f"Instagram's limit of {total} posts in 24 hours is reached for this account; "
                "the post waits until it can go out.",
                retry_after=self._quota_wait(),
            )

    def _quota_wait(self) -> float:
        """Seconds until the oldest post of the last 24 hours leaves the window."""
        window_start = _now() - _QUOTA_WINDOW
        oldest = None
        for item in self._pages(f"{self.node_id}/media", pages=4, fields="timestamp", limit=50):
            created = parse_time(item.get("timestamp"))
            if created is None or created < window_start:
                break
            oldest = created
        if oldest is None:
            return 3600.0
        return max(60.0, (oldest + _QUOTA_WINDOW - _now()).total_seconds())

    def _container(self, **data: str) -> str:
        response = self._call("POST", f"{self.node_id}/media", data=data, ok=(400,))
        if response.status_code == 400:
            self._raise_publishing_error(response)
        container = json_object(response, self.name).get("id")
        if not container:
            raise Transient("Instagram accepted the media but sent no container id")
        return str(container)

    def _media_url(self, media: Media) -> str:
        return public_media_url(
            media, network=self.name, network_url=str(self.credentials.identity.get("graph_url"))
        )

    def _make_items(self, draft: PostDraft, caption: str) -> tuple[tuple[str, ...], str]:
        """The single container, or a carousel's item containers (its own comes later)."""
        if len(draft.media) == 1:
            media = draft.media[0]
            if media.mime_type.startswith("video/"):
                url = self._media_url(media)
                return (), self._container(media_type="REELS", video_url=url, caption=caption)
            fields = {"image_url": self._media_url(media), "caption": caption}
            if media.alt_text:
                fields["alt_text"] = media.alt_text[: self.limits.max_alt_text]
            return (), self._container(**fields)
        children = []
        for media in draft.media:
            if media.mime_type.startswith("video/"):
                fields = {"media_type": "VIDEO", "video_url": self._media_url(media)}
            else:
                fields = {"image_url": self._media_url(media)}
                if media.alt_text:
                    fields["alt_text"] = media.alt_text[: self.limits.max_alt_text]
            children.append(self._container(is_carousel_item="true", **fields))
        return tuple(children), ""

    def _publish_container(self, container: str) -> dict[str, Any]:
        response = self._call(
            "POST", f"{self.node_id}/media_publish", data={"creation_id": container}, ok=(400,)
        )
        if response.status_code == 400:
            self._raise_publishing_error(response)
        return json_object(response, self.name)

    def _raise_publishing_error(self, response) -> None:
        """Instagram's own refusals: the quota (RateLimited), a file it could not fetch."""
        error = graph_error(response)
        subcode = error.get("error_subcode")
        words = str(error.get("error_user_msg") or error.get("message") or "")
        if subcode == _QUOTA_SUBCODE:
            raise RateLimited(
                f"Instagram's limit of posts in 24 hours is reached for this account ({words}); "
                "the post waits until it can go out.",
                retry_after=self._quota_wait(),
            )
        if subcode in _FETCH_SUBCODES:
            raise Rejected(
                f"Instagram could not fetch the file ({words}). Check that CHORUS_SITE_URL is "
                "this Chorus's public https address and that it is reachable from the internet."
            )
        raise_for_graph(response, self.name)

    def _reply(self, target: str, message: str) -> PublishedPost:
        """Answer a comment; when the target is one of our posts, comment on it."""
        response = self._call("POST", f"{target}/replies", data={"message": message}, ok=(400,))
        if response.status_code == 400:
            response = self._call("POST", f"{target}/comments", data={"message": message})
        reply = json_object(response, self.name).get("id")
        if not reply:
            raise Transient("Instagram accepted the reply but sent no id")
        return PublishedPost(ref=RemoteRef(str(reply)), published_at=None)

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        earliest = since - _CLOCK_DRIFT
        if draft.reply_to is not None:
            return self._find_reply(draft, earliest, exclude)
        wanted = _comparable(message_of(draft))
        kind = (
            "CAROUSEL_ALBUM"
            if len(draft.media) > 1
            else (
                "VIDEO"
                if draft.media and draft.media[0].mime_type.startswith("video/")
                else "IMAGE"
            )
        )
        for item in self._pages(
            f"{self.node_id}/media",
            pages=_RECONCILE_PAGES,
            fields="id,caption,timestamp,permalink,media_type",
            limit=25,
        ):
            created = parse_time(item.get("timestamp"))
            if created is None:
                continue
            if created < earliest:
                return None
            if (
                str(item.get("id")) not in exclude
                and _KIND_OF_TYPE.get(str(item.get("media_type")), "") == kind
                and _comparable(str(item.get("caption") or "")) == wanted
            ):
                return PublishedPost(
                    ref=RemoteRef(str(item["id"]), url=str(item.get("permalink") or "")),
                    published_at=created,
                )
        return None

    def _find_reply(self, draft, earliest, exclude) -> PublishedPost | None:
        target, wanted = draft.reply_to.remote_id, _comparable(draft.text)
        for edge in ("replies", "comments"):
            try:
                fields = "id,text,timestamp,from{id}"
                items = list(self._pages(f"{target}/{edge}", pages=2, fields=fields, limit=50))
            except Rejected:
                continue
            for item in items:
                created = parse_time(item.get("timestamp"))
                if (
                    created is not None
                    and created >= earliest
                    and str((item.get("from") or {}).get("id") or "") == self.node_id
                    and str(item.get("id")) not in exclude
                    and _comparable(str(item.get("text") or "")) == wanted
                ):
                    return PublishedPost(ref=RemoteRef(str(item["id"])), published_at=created)
        return None

    def delete(self, ref: RemoteRef) -> None:
        """Instagram lets apps delete comments (our replies) but not posts. Both a post and
        a missing object answer code 100 / subcode 33, so the object is then read: gone is
        done; still there is a post, Rejected with a message saying to delete it in the app."""
        response = self._call("DELETE", ref.remote_id, ok=(400, 404))
        if response.status_code not in (400, 404):
            return
        error = graph_error(response)
        if error.get("code") != 100:
            raise_for_graph(response, self.name)
        if self._call("GET", ref.remote_id, params={"fields": "id"}, ok=(400, 404)).is_success:
            raise Rejected(
                "Instagram does not let apps delete posts; delete it in the Instagram app."
            )

    # ----------------------------------------------------------------------- reading

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        metrics = []
        for ref in refs:
            try:
                node = self._get(ref.remote_id, fields="like_count,comments_count")
            except Rejected:
                continue  # deleted meanwhile
            metrics.append(
                PostMetrics(
                    ref=ref,
                    likes=int(node.get("like_count") or 0),
                    replies=int(node.get("comments_count") or 0),
                    extra=self._insights(ref.remote_id, MEDIA_INSIGHTS),
                )
            )
        return metrics

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        since = parse_time(int(cursor)) if cursor.isdigit() else None
        newest = int(cursor) if cursor.isdigit() else 0
        items: list[Interaction] = []
        posts = (
            self._get(
                f"{self.node_id}/media", fields="id,permalink,timestamp", limit=_POLLED_MEDIA
            ).get("data")
            or []
        )
        for post in posts:
            if not isinstance(post, dict) or not post.get("id"):
                continue
            subject = RemoteRef(str(post["id"]), url=str(post.get("permalink") or ""))
            for comment in self._pages(
                f"{post['id']}/comments",
                pages=2,
                fields="id,text,timestamp,username,from{id,username}",
                limit=50,
            ):
                created = parse_time(comment.get("timestamp"))
                if created is None or (since is not None and created <= since):
                    continue
                newest = max(newest, int(created.timestamp()))
                author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
                if str(author.get("id") or "") == self.node_id:
                    continue
                username = str(comment.get("username") or author.get("username") or "")
                items.append(
                    Interaction(
                        kind="reply",
                        remote_id=str(comment["id"]),
                        author_handle=username or "instagram",
                        author_name=username,
                        created_at=created,
                        text=str(comment.get("text") or ""),
                        url=subject.url,
                        subject=subject,
                        conversation_id=subject.remote_id,
                    )
                )
        items.sort(key=lambda i: i.created_at)
        return InteractionPage(items=tuple(items), cursor=str(newest) if newest else cursor)
