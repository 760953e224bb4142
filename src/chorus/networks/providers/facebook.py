"""Facebook Pages connector: one Page, acting with its Page token (see meta_graph).

Publishing (developers.facebook.com/docs/pages-api/posts):
- text and a link: `POST /{page-id}/feed` with `message` and `link`;
- one photo: `POST /{page-id}/photos` with the file as `source` and the text as `message`;
- several photos: each `POST /{page-id}/photos` with `published=false`, then one
  `POST /{page-id}/feed` with `attached_media[i]={"media_fbid": ...}`; unpublished photos
  are not posts, so a retry that uploads them again publishes nothing twice;
- one video: `POST graph-video.facebook.com/{page-id}/videos` with `source` and
  `description` (developers.facebook.com/docs/video-api/guides/publishing); its post is
  `{page-id}_{video-id}`;
- a reply (`reply_to` is one of our posts or a comment): `POST /{object-id}/comments`.

Exactly once. The Graph API takes no idempotency key. The final call (`/feed`, `/photos`,
`/videos`, `/comments`) is the only one that makes something people see; after an uncertain
outcome the dispatcher asks `find_published`, which reads the Page's own recent posts
(`GET /{page-id}/published_posts`) or, for a reply, the comments on its target, and takes
the one with the same message, made by the Page, at or after the first attempt (minus two
minutes of clock drift), not already recorded for another post.

Interactions are comments on the Page's recent posts (`GET /{post-id}/comments`, newest
first), each a reply to its post or to the comment it answers; the cursor is the newest
comment time seen, so each poll reads only what is new.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from .base import (
    AccountIdentity,
    AccountMetrics,
    Interaction,
    InteractionPage,
    Limits,
    PostDraft,
    PostMetrics,
    PublishedPost,
    Rejected,
    RemoteRef,
    Transient,
)
from .meta_graph import GraphProvider, graph_error, json_object, parse_time, raise_for_graph

_CLOCK_DRIFT = timedelta(minutes=2)
_RECONCILE_PAGES = 4  # of 25 posts: the Page's last hundred posts
_POLLED_POSTS = 25  # recent posts whose comments each poll reads
_METRICS_BATCH = 50  # ids per multiple-id read (the Graph API's maximum)
_SPACES = re.compile(r"\s+")
_METRIC_FIELDS = (
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
)
# Page insights read one by one: a metric Meta retired, or a Page too small to have it,
# is left out ("not reported") without losing the others.
PAGE_INSIGHTS = ("page_post_engagements", "page_views_total", "page_daily_follows_unique")
_COMMENT_FIELDS = "id,message,created_time,from{id,name,picture},permalink_url,parent{id}"


def _comparable(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def message_of(draft: PostDraft) -> str:
    """What the post's `message` is: the text, and the link when it cannot go as `link`
    (photos and videos carry no link preview)."""
    if draft.link and draft.media and draft.link not in draft.text:
        return f"{draft.text.rstrip()}\n\n{draft.link}".strip()
    return draft.text


def _count(node: Any, edge: str) -> int:
    summary = ((node or {}).get(edge) or {}).get("summary") or {}
    value = summary.get("total_count")
    return value if isinstance(value, int) else 0


class Facebook(GraphProvider):
    """One Facebook Page."""

    key = "facebook"
    name = "Facebook"
    limits = Limits(
        max_text=63_206,  # developers.facebook.com: a Page post's message
        text_counting="utf16",  # Meta counts UTF-16 code units (chorus.text.counting)
        max_media=10,
        media_types=(
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "video/mp4",
            "video/quicktime",
        ),
        max_image_bytes=10 * 1024 * 1024,  # Page photos: 10 MB
        max_video_bytes=1024 * 1024 * 1024,  # a non-resumable `source` upload: 1 GB
        supports_threads=False,
        rate_limit_note=(
            "Page calls are limited per Page by Meta's Business Use Case rate limit "
            "(4,800 calls per engaged user in 24 hours); Meta reports usage in percent in "
            "X-Business-Use-Case-Usage and X-App-Usage, which Chorus follows."
        ),
    )

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        page = self._get(self.node_id, fields="id,name,link,picture{url}")
        if str(page.get("id") or "") != self.node_id:
            raise Transient("Facebook answered for another Page")
        name = str(page.get("name") or self.node_id)
        return AccountIdentity(
            remote_id=self.node_id,
            handle=name,
            display_name=name,
            avatar_url=str(((page.get("picture") or {}).get("data") or {}).get("url") or ""),
            profile_url=str(page.get("link") or f"https://www.facebook.com/{self.node_id}"),
        )

    def fetch_account_metrics(self) -> AccountMetrics:
        page = self._get(self.node_id, fields="followers_count,fan_count")
        extra = {"fans": int(page.get("fan_count") or 0)}
        for metric in PAGE_INSIGHTS:
            try:
                data = self._get(f"{self.node_id}/insights", metric=metric, period="day")
            except Rejected:  # not allowed for this token, retired, or not enough data
                continue
            for series in data.get("data") or []:
                values = series.get("values") or [] if isinstance(series, dict) else []
                latest = (
                    values[-1].get("value") if values and isinstance(values[-1], dict) else None
                )
                if isinstance(latest, int):
                    extra[str(series.get("name") or metric)] = latest
        return AccountMetrics(followers=int(page.get("followers_count") or 0), extra=extra)

    # ----------------------------------------------------------------------- publishing

    def publish(self, draft: PostDraft) -> PublishedPost:
        message = message_of(draft)
        videos = [m for m in draft.media if m.mime_type.startswith("video/")]
        if videos and len(draft.media) > 1:
            raise Rejected("A Facebook post takes either photos or one video, not both.")
        for media in draft.media:
            video = media.mime_type.startswith("video/")
            limit = self.limits.max_video_bytes if video else self.limits.max_image_bytes
            if len(media.data) > limit:
                raise Rejected(
                    f"{media.filename} is larger than Facebook takes "
                    f"({limit // (1024 * 1024)} MB); use a smaller file."
                )
        if draft.reply_to is not None:
            return self._comment(draft.reply_to.remote_id, message, draft)
        if videos:
            return self._video(message, draft)
        if len(draft.media) == 1:
            media = draft.media[0]
            answer = self._post(
                f"{self.node_id}/photos",
                data={"message": message, "published": "true"},
                files={"source": (media.filename, media.data, media.mime_type)},
            )
            return self._published(str(answer.get("post_id") or ""), "")
        data: dict[str, Any] = {"message": message}
        if draft.link and not draft.media:
            data["link"] = draft.link
        for index, media in enumerate(draft.media):
            photo = self._post(
                f"{self.node_id}/photos",
                data={"published": "false"},
                files={"source": (media.filename, media.data, media.mime_type)},
            )
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(photo["id"])})
        answer = self._post(f"{self.node_id}/feed", data=data)
        return self._published(str(answer.get("id") or ""), "")

    def _post(self, path: str, *, video: bool = False, **kwargs: Any) -> dict[str, Any]:
        answer = json_object(self._call("POST", path, video=video, **kwargs), self.name)
        if not answer.get("id") and not answer.get("post_id"):
            raise Transient("Facebook accepted the post but sent no id")
        return answer

    def _video(self, message: str, draft: PostDraft) -> PublishedPost:
        media = draft.media[0]
        answer = self._post(
            f"{self.node_id}/videos",
            video=True,
            data={"description": message},
            files={"source": (media.filename, media.data, media.mime_type)},
        )
        return self._published(f"{self.node_id}_{answer['id']}", "")

    def _comment(self, target: str, message: str, draft: PostDraft) -> PublishedPost:
        if draft.media:
            raise Rejected("Chorus answers on Facebook with text only.")
        answer = self._post(f"{target}/comments", data={"message": message})
        return self._published(str(answer["id"]), "")

    def _published(self, remote_id: str, url: str, created: Any = None) -> PublishedPost:
        if not remote_id:
            raise Transient("Facebook accepted the post but sent no post id")
        url = url or f"https://www.facebook.com/{remote_id}"
        return PublishedPost(ref=RemoteRef(remote_id, url=url), published_at=parse_time(created))

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        earliest, wanted = since - _CLOCK_DRIFT, _comparable(message_of(draft))
        if draft.reply_to is not None:
            items = self._pages(
                f"{draft.reply_to.remote_id}/comments",
                pages=_RECONCILE_PAGES,
                fields="id,message,created_time,from{id},permalink_url",
                order="reverse_chronological",
                filter="stream",
                limit=50,
            )
        else:
            items = self._pages(
                f"{self.node_id}/published_posts",
                pages=_RECONCILE_PAGES,
                fields="id,message,created_time,permalink_url,from{id}",
                limit=25,
            )
        for item in items:
            created = parse_time(item.get("created_time"))
            if created is None:
                continue
            if created < earliest and draft.reply_to is None:
                return None  # newest first: everything further is older
            author = str((item.get("from") or {}).get("id") or self.node_id)
            if (
                created >= earliest
                and author == self.node_id
                and str(item.get("id")) not in exclude
                and _comparable(str(item.get("message") or "")) == wanted
            ):
                return self._published(
                    str(item["id"]), str(item.get("permalink_url") or ""), created
                )
        return None

    def delete(self, ref: RemoteRef) -> None:
        response = self._call("DELETE", ref.remote_id, ok=(400, 404))
        if response.status_code in (400, 404) and graph_error(response).get("code") != 100:
            raise_for_graph(response, self.name)  # code 100, "does not exist": already gone

    # ----------------------------------------------------------------------- reading

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """Reactions, comments and shares, fifty posts a request; a post deleted meanwhile
        fails its whole batch, which is then read post by post without it."""
        metrics: list[PostMetrics] = []
        for start in range(0, len(refs), _METRICS_BATCH):
            chunk = refs[start : start + _METRICS_BATCH]
            try:
                nodes = self._get(
                    "", ids=",".join(r.remote_id for r in chunk), fields=_METRIC_FIELDS
                )
            except Rejected:
                nodes = {}
                for ref in chunk:
                    try:
                        nodes[ref.remote_id] = self._get(ref.remote_id, fields=_METRIC_FIELDS)
                    except Rejected:
                        continue
            for ref in chunk:
                node = nodes.get(ref.remote_id)
                if not isinstance(node, dict):
                    continue
                shares = (node.get("shares") or {}).get("count")
                metrics.append(
                    PostMetrics(
                        ref=ref,
                        likes=_count(node, "reactions"),
                        replies=_count(node, "comments"),
                        reposts=shares if isinstance(shares, int) else 0,
                    )
                )
        return metrics

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        since = parse_time(int(cursor)) if cursor.isdigit() else None
        newest = int(cursor) if cursor.isdigit() else 0
        items: list[Interaction] = []
        posts = (
            self._get(
                f"{self.node_id}/published_posts",
                fields="id,permalink_url,created_time",
                limit=_POLLED_POSTS,
            ).get("data")
            or []
        )
        for post in posts:
            if not isinstance(post, dict) or not post.get("id"):
                continue
            subject = RemoteRef(str(post["id"]), url=str(post.get("permalink_url") or ""))
            for comment in self._pages(
                f"{post['id']}/comments",
                pages=2,
                fields=_COMMENT_FIELDS,
                order="reverse_chronological",
                filter="stream",
                limit=100,
            ):
                created = parse_time(comment.get("created_time"))
                if created is None or (since is not None and created <= since):
                    break  # newest first: the rest were seen
                newest = max(newest, int(created.timestamp()))
                author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
                if str(author.get("id") or "") == self.node_id:
                    continue  # the Page's own answers
                parent = (comment.get("parent") or {}).get("id")
                items.append(
                    Interaction(
                        kind="reply",
                        remote_id=str(comment["id"]),
                        author_handle=str(author.get("name") or author.get("id") or "Facebook"),
                        author_name=str(author.get("name") or ""),
                        author_avatar_url=str(
                            ((author.get("picture") or {}).get("data") or {}).get("url") or ""
                        ),
                        created_at=created,
                        text=str(comment.get("message") or ""),
                        url=str(comment.get("permalink_url") or ""),
                        subject=RemoteRef(str(parent)) if parent else subject,
                        conversation_id=str(post["id"]),
                    )
                )
        items.sort(key=lambda i: i.created_at)
        return InteractionPage(items=tuple(items), cursor=str(newest) if newest else cursor)
