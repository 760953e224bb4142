"""Building Bluesky post records: deterministic record keys, rich-text facets, self-labels
and image sizes. Pure functions, no HTTP (used by `bluesky.Bluesky.publish`)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from typing import Any

from chorus.text.entities import HASHTAG, LINK, MENTION, find_entities

_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_TID_EPOCH_US = 1_672_531_200 * 1_000_000  # 2023-01-01T00:00:00Z
_WARNING_LABELS = (
    (("nud", "naked"), "nudity"),
    (("sex", "nsfw", "porn", "18+", "adult", "explicit"), "sexual"),
)


def record_key_for(idempotency_key: str) -> str:
    """A valid TID computed from the idempotency key: the same draft gets the same key."""
    digest = hashlib.sha256(b"chorus/bluesky/post\0" + idempotency_key.encode("utf-8")).digest()
    bits = int.from_bytes(digest[:8], "big")
    timestamp = _TID_EPOCH_US + (bits >> 10) % (1 << 44)
    value = (timestamp << 10) | (bits & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_CHARS[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def build_facets(text: str, resolve_handle: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Rich-text facets for links, mentions and hashtags, with UTF-8 byte offsets.

    `resolve_handle` turns a handle into a DID, or None; unresolvable mentions stay text.
    """
    facets = []
    for entity in find_entities(text, "bluesky"):
        if entity.kind == LINK:
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": entity.value}
        elif entity.kind == MENTION:
            did = resolve_handle(entity.value)
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        elif entity.kind == HASHTAG:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": entity.value}
        else:
            continue
        facets.append(
            {
                "index": {"byteStart": entity.byte_start, "byteEnd": entity.byte_end},
                "features": [feature],
            }
        )
    return facets


def self_label_for(content_warning: str) -> str:
    """The Bluesky self-label value that best matches a free-text content warning."""
    words = content_warning.lower()
    for needles, label in _WARNING_LABELS:
        if any(needle in words for needle in needles):
            return label
    return "graphic-media"


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF, JPEG or WebP header (for `aspectRatio`), or None."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data[:2] == b"\xff\xd8":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 9 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        offset += 2 + length
    return None
