"""Media upload of the emulated X API (INIT, APPEND, FINALIZE, STATUS, metadata), mixed into
`emulator_x.XApi`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chorus.testing.emulator_telegram import _params as request_params
from chorus.testing.emulator_x_oauth import Problem

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
CHUNK_LIMIT = 5 * 1024 * 1024
SIZE_LIMITS = {"tweet_image": 5 * 1024 * 1024, "tweet_gif": 15 * 1024 * 1024}
VIDEO_LIMIT = 512 * 1024 * 1024


class XMedia:
    """Needs `self.emulator`, `self.media`, `self._caller`, `self._next_id`."""

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
        self.media[media_id] = {
            "owner": user["id"],
            "type": kind,
            "total": total,
            "category": category,
            "chunks": {},
            "state": "uploading",
            "key": f"3_{media_id}",
            "checks": 0,
        }
        return (
            200,
            {"data": {"id": media_id, "media_key": f"3_{media_id}", "expires_after_secs": 86400}},
            [],
        )

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
        view: dict[str, Any] = {
            "id": media_id,
            "media_key": item["key"],
            "size": item["total"],
            "expires_after_secs": 86400,
        }
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
