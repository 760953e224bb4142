"""Posting in the emulated TikTok API (mixed into `emulator_tiktok.TikTokApi`): creator info,
Direct Post of videos (FILE_UPLOAD with the chunked PUT, or PULL_FROM_URL) and photos, and
the publish status as it moves from processing to complete or failed.

Like TikTok: an unaudited client may post SELF_ONLY only; each access token may start six
posts a minute; a private post never gets a public id and is not in the video list; a
public one gets its id once "moderation" is done (`moderation_checks` status reads).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from chorus.text import count

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
MB = 1024 * 1024
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def envelope(data: dict[str, Any], code: str = "ok", message: str = "") -> dict[str, Any]:
    """developers.tiktok.com/doc/tiktok-api-v2-error-handling: every answer's shape."""
    log_id = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()
    return {"data": data, "error": {"code": code, "message": message, "log_id": log_id}}


class TikTokError(Exception):
    """Ends a request with a v2 refusal."""

    def __init__(self, status: int, code: str, message: str = ""):
        super().__init__(message)
        self.reply: Reply = (status, envelope({}, code, message or code), [])


class Posting:
    """Needs `self.emulator`, `self.users`, `self.tokens`, `self._ids`."""

    def reset_posting(self) -> None:
        self.audited = False
        self.processing_checks = 0  # status reads answering PROCESSING_* before the end
        self.moderation_checks = 0  # reads of a complete public post before its id comes
        self.fail_reason = ""  # when set, new posts end FAILED with this reason
        self.lose_answers = 0  # inits that are carried out but answer 503 (a lost answer)
        self.privacy_options = list(PRIVACY_LEVELS)
        self.max_duration = 600
        self.comment_disabled = False
        self.verified_prefixes: list[str] = []  # PULL_FROM_URL domains; empty: any
        self.inits_per_minute = 6
        self.inits: dict[str, list[float]] = {}  # access token -> times of inits
        self.posts: dict[str, dict[str, Any]] = {}  # publish_id -> post

    def configure(self, body: dict[str, Any]) -> None:
        for key in ("processing_checks", "moderation_checks", "lose_answers", "max_duration"):
            if key in body:
                setattr(self, key, int(body[key]))
        for key in ("audited", "comment_disabled"):
            if key in body:
                setattr(self, key, bool(body[key]))
        if "inits_per_minute" in body:
            self.inits_per_minute = int(body["inits_per_minute"])
        if "fail_reason" in body:
            self.fail_reason = str(body["fail_reason"])
        if "privacy_options" in body:
            self.privacy_options = [str(o) for o in body["privacy_options"]]
        if "verified_prefixes" in body:
            self.verified_prefixes = [str(p) for p in body["verified_prefixes"]]

    # ----------------------------------------------------------------- routes

    def creator_info(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/content-posting-api-reference-query-creator-info"""
        return {
            "creator_avatar_url": user["avatar_url"],
            "creator_username": user["username"],
            "creator_nickname": user["display_name"],
            "privacy_level_options": list(self.privacy_options),
            "comment_disabled": self.comment_disabled,
            "duet_disabled": False,
            "stitch_disabled": True,
            "max_video_post_duration_sec": self.max_duration,
        }

    async def video_init(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/content-posting-api-reference-direct-post (initialize);
        chunk rules from .../content-posting-api-media-transfer-guide."""
        body = request.json()
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        caption = str(info.get("title") or "")
        if count(caption, "utf16") > 2200:
            raise TikTokError(400, "invalid_params", "title is longer than 2200 runes")
        self._check_post(request, info)
        kind = source.get("source")
        post = self._new(user, info, caption, "video", kind)
        if kind == "PULL_FROM_URL":
            self._check_url(str(source.get("video_url") or ""))
            post["status"] = "PROCESSING_DOWNLOAD"
            await self._pull(post, [str(source["video_url"])])
            return self._started(post)
        if kind != "FILE_UPLOAD":
            raise TikTokError(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL")
        size, chunk, chunks = (
            int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count")
        )
        if size <= 0 or chunk <= 0 or size > 4096 * MB:
            raise TikTokError(400, "invalid_params", "video_size and chunk_size are required")
        if size < 5 * MB and chunk != size:
            raise TikTokError(400, "invalid_params", "a video under 5 MB is uploaded whole")
        if size >= 5 * MB and not 5 * MB <= chunk <= 64 * MB:
            raise TikTokError(400, "invalid_params", "chunk_size must be 5 MB to 64 MB")
        if (
            chunks != size // chunk
            or not 1 <= chunks <= 1000
            or size - chunk * (chunks - 1) > 128 * MB
        ):
            raise TikTokError(400, "invalid_params", "total_chunk_count does not match")
        post |= {"size": size, "chunk": chunk, "chunks": chunks, "received": 0, "data": []}
        post["status"] = "PROCESSING_UPLOAD"
        query = urlencode({"upload_id": post["id"], "upload_token": post["upload_token"]})
        return self._started(post, upload_url=f"{request.base}/tiktok/upload?{query}")

    async def content_init(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/content-posting-api-reference-photo-post"""
        body = request.json()
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        if body.get("media_type") != "PHOTO":
            raise TikTokError(400, "invalid_params", "media_type must be PHOTO")
        if body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            raise TikTokError(
                400, "invalid_params", "post_mode must be DIRECT_POST or MEDIA_UPLOAD"
            )
        if source.get("source") != "PULL_FROM_URL":
            raise TikTokError(400, "invalid_params", "photos are posted with PULL_FROM_URL only")
        images = source.get("photo_images") or []
        if not isinstance(images, list) or not 1 <= len(images) <= 35:
            raise TikTokError(400, "invalid_params", "photo_images takes 1 to 35 URLs")
        if not 0 <= int(source.get("photo_cover_index") or 0) < len(images):
            raise TikTokError(400, "invalid_params", "photo_cover_index is out of range")
        if count(str(info.get("title") or ""), "utf16") > 90:
            raise TikTokError(400, "invalid_params", "title is longer than 90 runes")
        caption = str(info.get("description") or "")
        if count(caption, "utf16") > 4000:
            raise TikTokError(400, "invalid_params", "description is longer than 4000 runes")
        self._check_post(request, info)
        for url in images:
            self._check_url(str(url))
        post = self._new(user, info, caption, "photo", "PULL_FROM_URL")
        post["status"] = "PROCESSING_DOWNLOAD"
        await self._pull(post, [str(url) for url in images])
        return self._started(post)

    def upload(self, request: _Request) -> Reply:
        """developers.tiktok.com/doc/content-posting-api-media-transfer-guide (file upload):
        chunks in order, each with its Content-Range; 206 until the last, then 201."""
        post = self.posts.get(request.arg("upload_id"))
        if post is None or request.arg("upload_token") != post.get("upload_token"):
            return 404, None, []
        match = _RANGE.match(request.headers.get("content-range", ""))
        if post["status"] != "PROCESSING_UPLOAD" or match is None:
            return 400, None, []
        first, last, total = (int(g) for g in match.groups())
        index = len(post["data"])
        final = index == post["chunks"] - 1
        expected_end = post["size"] - 1 if final else first + post["chunk"] - 1
        if (
            total != post["size"]
            or first != post["received"]
            or last != expected_end
            or len(request.body) != last - first + 1
        ):
            return 416, None, [("content-range", f"bytes 0-{post['received'] - 1}/{post['size']}")]
        post["data"].append(len(request.body))
        post["received"] = last + 1
        if not final:
            return 206, None, [("content-range", f"bytes 0-{last}/{total}")]
        post["status"] = "PROCESSING_DOWNLOAD"  # received whole: now processed
        return 201, None, []

    def status_fetch(self, request: _Request, user: dict[str, Any]) -> dict[str, Any]:
        """developers.tiktok.com/doc/content-posting-api-reference-get-video-status"""
        post = self.posts.get(str(request.json().get("publish_id") or ""))
        if post is None or post["user"] != user["open_id"]:
            raise TikTokError(400, "invalid_params", "publish_id does not exist")
        self.advance(post)
        answer: dict[str, Any] = {"status": post["status"]}
        if post["status"] == "FAILED":
            answer["fail_reason"] = post["fail_reason"]
        if post.get("post_id"):
            answer["publicaly_available_post_id"] = [int(post["post_id"])]
        if post["source"] == "FILE_UPLOAD":
            answer["uploaded_bytes"] = post["received"]
        return answer

    # ----------------------------------------------------------------- helpers

    def advance(self, post: dict[str, Any]) -> None:
        """One step of TikTok's work on a post, taken each time its state is read (its
        status, or the account's video list, so a post whose init answer was lost is
        published too): `processing_checks` steps, then complete (into the event log) or
        failed; a public post then gets its id after `moderation_checks` more. The event
        log has the id Chorus is first told: the public one, or else the publish_id."""
        completing = False
        if post["status"] == "PROCESSING_DOWNLOAD":
            if post["checks"] > 0:
                post["checks"] -= 1
                return
            if post["fail_reason"]:
                post["status"] = "FAILED"
                return
            post["status"], post["at"] = "PUBLISH_COMPLETE", time.time()
            self.emulator.counters["tiktok_published"] += 1
            completing = True
        if post["status"] == "PUBLISH_COMPLETE" and post["privacy"] != "SELF_ONLY":
            if post["moderation"] > 0:
                post["moderation"] -= 1
            elif not post.get("post_id"):
                post["post_id"] = str(next(self._ids))
        if completing:
            username = self.users[post["user"]]["username"]
            remote_id = post.get("post_id") or post["id"]
            self.emulator._published(
                "tiktok", username, post["id"], remote_id, post["at"], post["caption"]
            )

    def _check_post(self, request: _Request, info: dict[str, Any]) -> None:
        """The rules every Direct Post init shares: a privacy level the creator offers,
        SELF_ONLY for unaudited clients, no interactions the creator switched off, and
        six inits per access token per minute."""
        privacy = str(info.get("privacy_level") or "")
        if privacy not in PRIVACY_LEVELS:
            raise TikTokError(400, "invalid_params", "privacy_level is required")
        if not self.audited and privacy != "SELF_ONLY":
            raise TikTokError(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Please review our integration guidelines at https://developers.tiktok.com/doc/"
                "content-sharing-guidelines/",
            )
        if privacy not in self.privacy_options:
            raise TikTokError(400, "privacy_level_option_mismatch", "privacy_level is not offered")
        if self.comment_disabled and not info.get("disable_comment"):
            raise TikTokError(400, "invalid_params", "the creator has comments turned off")
        now = time.time()
        recent = [t for t in self.inits.get(request.bearer, []) if now - t < 60]
        if len(recent) >= self.inits_per_minute:
            raise TikTokError(429, "rate_limit_exceeded", "API rate limit was exceeded.")
        self.inits[request.bearer] = [*recent, now]

    def _check_url(self, url: str) -> None:
        """PULL_FROM_URL: an http(s) URL on a domain the app verified."""
        if not url.startswith(("http://", "https://")):
            raise TikTokError(400, "invalid_params", "the media URL is not a URL")
        if self.verified_prefixes and not url.startswith(tuple(self.verified_prefixes)):
            raise TikTokError(403, "url_ownership_unverified", "The URL's domain is not verified.")

    async def _pull(self, post: dict[str, Any], urls: list[str]) -> None:
        """developers.tiktok.com/doc/content-posting-api-media-transfer-guide#pull_from_url:
        TikTok downloads each file; one it cannot fetch, or not of a type it takes, ends
        the post FAILED with video_pull_failed or photo_pull_failed."""
        video = post["kind"] == "video"
        for url in urls:
            try:
                async with httpx.AsyncClient(timeout=20) as client:
                    response = await client.get(url)
            except httpx.HTTPError:
                response = None
            kind = response.headers.get("content-type", "").split(";")[0] if response else ""
            usable = kind.startswith("video/") if video else kind in ("image/jpeg", "image/webp")
            if response is None or response.status_code != 200 or not usable:
                post["fail_reason"] = "video_pull_failed" if video else "photo_pull_failed"
                return
            post["pulled"] = post.get("pulled", 0) + len(response.content)

    def _new(
        self, user: dict[str, Any], info: dict[str, Any], caption: str, kind: str, source: Any
    ) -> dict[str, Any]:
        publish_id = f"v_pub_{'url' if source == 'PULL_FROM_URL' else 'file'}~v2.{next(self._ids)}"
        post = {
            "id": publish_id,
            "user": user["open_id"],
            "kind": kind,
            "source": str(source),
            "caption": caption,
            "privacy": str(info["privacy_level"]),
            "disable_comment": bool(info.get("disable_comment")),
            "upload_token": secrets.token_urlsafe(12),
            "checks": self.processing_checks,
            "moderation": self.moderation_checks,
            "fail_reason": self.fail_reason,
            "received": 0,
            "at": time.time(),
            "counts": {"like_count": 0, "comment_count": 0, "share_count": 0, "view_count": 0},
        }
        self.posts[publish_id] = post
        return post

    def _started(self, post: dict[str, Any], **more: str) -> dict[str, Any]:
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise TikTokError(503, "internal_error", "Service is temporarily unavailable.")
        return {"publish_id": post["id"], **more}

    @staticmethod
    def public_view(post: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in post.items() if k not in ("upload_token", "data")}
