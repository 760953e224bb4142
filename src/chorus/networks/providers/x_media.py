"""Media for X posts: the v2 chunked upload, checked against X's limits before any byte goes.

The upload has four steps (docs.x.com/x-api/media/quickstart/media-upload-chunked):
INIT `POST /2/media/upload/initialize` (type, size, category) gives a media id; APPEND
`POST /2/media/upload/{id}/append` sends each chunk of at most 5 MB with its
`segment_index`; FINALIZE `POST /2/media/upload/{id}/finalize` closes it and may answer
`processing_info` (video and GIFs are transcoded); STATUS
`GET /2/media/upload?command=STATUS&media_id=` says when processing is done. Alt text goes
through `POST /2/media/metadata` (docs.x.com/x-api/media/create-media-metadata).

Providers never sleep: when X is still processing, `upload_all` raises `MediaProcessing`
(a Transient) with the ids it has, and `publish(draft, media_ids=...)` checks them once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from .base import Media, MediaProcessing, Rejected

CHUNK_BYTES = 4 * 1024 * 1024  # APPEND takes at most 5 MB a chunk
MAX_IMAGES = 4
IMAGE_BYTES = 5 * 1024 * 1024
GIF_BYTES = 15 * 1024 * 1024
VIDEO_BYTES = 512 * 1024 * 1024
ALT_TEXT = 1000
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
MEDIA_TYPES = (*IMAGE_TYPES, "image/gif", "video/mp4", "video/quicktime")

Call = Callable[..., httpx.Response]


def category(media: Media) -> str:
    if media.mime_type == "image/gif":
        return "tweet_gif"
    return "tweet_video" if media.mime_type.startswith("video/") else "tweet_image"


def check(media: Sequence[Media]) -> None:
    """Refuse, before uploading anything, what X would refuse: up to 4 images, or one
    video or GIF alone, each within its size; alt text up to 1,000 characters."""
    if not media:
        return
    moving = [m for m in media if category(m) != "tweet_image"]
    if moving and len(media) > 1:
        raise Rejected("An X post carries one video or GIF alone, or up to 4 images.")
    if len(media) > MAX_IMAGES:
        raise Rejected(f"An X post carries at most {MAX_IMAGES} images; this one has {len(media)}.")
    for item in media:
        if item.mime_type not in MEDIA_TYPES:
            raise Rejected(f"X does not take {item.mime_type} files.")
        limit = {"tweet_gif": GIF_BYTES, "tweet_video": VIDEO_BYTES}.get(
            category(item), IMAGE_BYTES
        )
        if len(item.data) > limit:
            raise Rejected(
                f"{item.filename} is {len(item.data) / 1e6:.1f} MB; X takes at most "
                f"{limit // (1024 * 1024)} MB for this kind of file. Make it smaller."
            )
        if len(item.alt_text) > ALT_TEXT:
            raise Rejected(f"X takes alt text of at most {ALT_TEXT} characters.")


def _data(response: httpx.Response) -> dict[str, Any]:
    from .x_wire import body

    data = body(response).get("data")
    return data if isinstance(data, dict) else {}


def _ready(data: dict[str, Any]) -> bool:
    """Whether FINALIZE or STATUS says the media may be attached now; a failed processing
    is refused with X's words."""
    info = data.get("processing_info") or {}
    state = str(info.get("state") or "succeeded")
    if state == "failed":
        error = info.get("error") or {}
        words = error.get("message") or error.get("name") or "processing failed"
        raise Rejected(f"X could not process the media: {words}")
    return state == "succeeded"


def upload(call: Call, api: str, media: Media) -> tuple[str, bool]:
    """One file through INIT, APPEND and FINALIZE; (media id, ready to attach)."""
    started = _data(
        call(
            "POST",
            f"{api}/2/media/upload/initialize",
            json={
                "media_type": media.mime_type,
                "total_bytes": len(media.data),
                "media_category": category(media),
            },
        )
    )
    media_id = str(started.get("id") or "")
    if not media_id:
        raise Rejected("X did not start the media upload.")
    for index, start in enumerate(range(0, max(len(media.data), 1), CHUNK_BYTES)):
        call(
            "POST",
            f"{api}/2/media/upload/{media_id}/append",
            data={"segment_index": str(index)},
            files={"media": (media.filename, media.data[start : start + CHUNK_BYTES])},
        )
    finished = _data(call("POST", f"{api}/2/media/upload/{media_id}/finalize"))
    if media.alt_text:
        call(
            "POST",
            f"{api}/2/media/metadata",
            json={"id": media_id, "metadata": {"alt_text": {"text": media.alt_text}}},
        )
    return media_id, _ready(finished)


def is_ready(call: Call, api: str, media_id: str) -> bool:
    """STATUS, once."""
    status = call(
        "GET", f"{api}/2/media/upload", params={"command": "STATUS", "media_id": media_id}
    )
    return _ready(_data(status))


def upload_all(
    call: Call, api: str, media: Sequence[Media], media_ids: Sequence[str] = ()
) -> list[str]:
    """The ids to attach; MediaProcessing while X is still working on some."""
    check(media)
    if media_ids:
        if len(media_ids) != len(media):
            raise ValueError("media_ids must match the draft's media one for one")
        ids = list(media_ids)
        pending = [mid for mid in ids if not is_ready(call, api, mid)]
    else:
        uploads = [upload(call, api, item) for item in media]
        ids = [mid for mid, _ in uploads]
        pending = [mid for mid, ready in uploads if not ready]
    if pending:
        raise MediaProcessing(
            f"X is still processing {len(pending)} media file(s)", media_ids=tuple(ids)
        )
    return ids
