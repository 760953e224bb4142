"""Media for LinkedIn posts: images and PDF documents, checked before any byte goes.

Both upload in two steps. `POST /rest/images?action=initializeUpload`
(learn.microsoft.com/linkedin/marketing/community-management/shares/images-api) or
`POST /rest/documents?action=initializeUpload` (.../shares/documents-api) with
`{"initializeUploadRequest": {"owner": author}}` answer `{"value": {"uploadUrl",
"image" | "document"}}`; then the bytes are PUT to `uploadUrl` with the same token. The
URN goes in the post's `content`: one image or one document as `media`, 2 to 20 images as
`multiImage` (.../shares/multiimage-post-api). A post carries images or one document, not
both. An upload makes nothing anyone sees: a retried publish uploads again harmlessly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from .base import Media, Rejected
from .linkedin_wire import body

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
DOCUMENT_TYPES = ("application/pdf",)
MEDIA_TYPES = (*IMAGE_TYPES, *DOCUMENT_TYPES)
MAX_IMAGES = 20  # multiimage-post-api: 2 to 20 images
IMAGE_BYTES = 5 * 1024 * 1024
DOCUMENT_BYTES = 100 * 1024 * 1024  # documents-api: up to 100 MB and 300 pages
ALT_TEXT = 4086  # posts-api: altText of media content

Call = Callable[..., httpx.Response]


def is_document(media: Media) -> bool:
    return media.mime_type in DOCUMENT_TYPES


def check(media: Sequence[Media]) -> None:
    """Refuse what LinkedIn would: up to 20 JPEG, PNG or GIF images, or one PDF alone."""
    if not media:
        return
    documents = [m for m in media if is_document(m)]
    if documents and len(media) > 1:
        raise Rejected("A LinkedIn post carries one PDF document alone, or up to 20 images.")
    if len(media) > MAX_IMAGES:
        raise Rejected(
            f"A LinkedIn post carries at most {MAX_IMAGES} images; this one has {len(media)}."
        )
    for item in media:
        if item.mime_type not in MEDIA_TYPES:
            raise Rejected(f"LinkedIn posts do not take {item.mime_type} files.")
        limit = DOCUMENT_BYTES if is_document(item) else IMAGE_BYTES
        if len(item.data) > limit:
            raise Rejected(
                f"{item.filename} is {len(item.data) / 1e6:.1f} MB; LinkedIn takes at most "
                f"{limit // (1024 * 1024)} MB for this kind of file. Make it smaller."
            )
        if len(item.alt_text) > ALT_TEXT:
            raise Rejected(f"LinkedIn takes alt text of at most {ALT_TEXT} characters.")


def upload(call: Call, api: str, owner: str, media: Media) -> str:
    """initializeUpload, then PUT the bytes; the image or document URN."""
    kind = "document" if is_document(media) else "image"
    started = call(
        "POST",
        f"{api}/rest/{kind}s",
        params={"action": "initializeUpload"},
        json={"initializeUploadRequest": {"owner": owner}},
    )
    value = body(started).get("value") or {}
    upload_url, urn = str(value.get("uploadUrl") or ""), str(value.get(kind) or "")
    if not upload_url or not urn:
        raise Rejected(f"LinkedIn did not start the {kind} upload.")
    call(
        "PUT",
        upload_url,
        content=media.data,
        headers={"Content-Type": "application/octet-stream"},
        versioned=False,
    )
    return urn


def content(call: Call, api: str, owner: str, media: Sequence[Media]) -> dict[str, Any] | None:
    """The post's `content` for these files (uploaded now), or None for a text post."""
    check(media)
    if not media:
        return None
    urns = [upload(call, api, owner, item) for item in media]
    if len(media) == 1:
        item = media[0]
        entry: dict[str, Any] = {"id": urns[0]}
        if is_document(item):
            entry["title"] = item.filename
        elif item.alt_text:
            entry["altText"] = item.alt_text
        return {"media": entry}
    images = [
        {"id": urn, **({"altText": item.alt_text} if item.alt_text else {})}
        for urn, item in zip(urns, media, strict=True)
    ]
    return {"multiImage": {"images": images}}


def media_count(post: dict[str, Any]) -> int:
    """How many files a post read from LinkedIn carries."""
    found = post.get("content") or {}
    if "multiImage" in found:
        return len((found["multiImage"] or {}).get("images") or [])
    return 1 if "media" in found else 0
