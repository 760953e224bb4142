"""Media for TikTok posts: what TikTok takes, checked before any byte goes, and the chunked
upload of a video (FILE_UPLOAD).

A TikTok post is one video, or 1 to 35 photos (developers.tiktok.com/doc/
content-posting-api-media-transfer-guide#photo-restrictions): photos are JPEG or WebP of at
most 20 MB, fetched by TikTok from a URL (PULL_FROM_URL only); a video is MP4, WebM or MOV
of at most 4 GB, sent in chunks or fetched from a URL, and no longer than the account's
`max_video_post_duration_sec` (creator_info).

Chunks (same page, "Chunk restrictions"): each 5 to 64 MB, the last one up to 128 MB (it
takes the trailing bytes); a video under 5 MB goes whole; `total_chunk_count` is the size
divided by the chunk size, rounded down; at most 1,000 chunks, sent in order with
`Content-Range: bytes first-last/total`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from .base import Media, Rejected

MB = 1024 * 1024
CHUNK_BYTES = 10 * MB  # within 5-64 MB; the last chunk then stays under 20 MB
MAX_PHOTOS = 35
PHOTO_BYTES = 20 * MB
VIDEO_BYTES = 4 * 1024 * MB
PHOTO_TYPES = ("image/jpeg", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime")
MEDIA_TYPES = (*PHOTO_TYPES, *VIDEO_TYPES)


def is_video(media: Media) -> bool:
    return media.mime_type.startswith("video/")


def check(media: Sequence[Media]) -> None:
    """Refuse, naming what to change, what TikTok would refuse."""
    if not media:
        raise Rejected("A TikTok post needs a video or photos.")
    videos = [m for m in media if is_video(m)]
    if videos and len(media) > 1:
        raise Rejected("A TikTok post carries one video alone, or up to 35 photos.")
    if len(media) > MAX_PHOTOS:
        raise Rejected(
            f"A TikTok post carries at most {MAX_PHOTOS} photos; this one has {len(media)}."
        )
    for item in media:
        if item.mime_type not in MEDIA_TYPES:
            raise Rejected(
                f"TikTok takes JPEG or WebP photos and MP4, WebM or MOV videos, not "
                f"{item.mime_type}."
            )
        limit = VIDEO_BYTES if is_video(item) else PHOTO_BYTES
        if len(item.data) > limit:
            raise Rejected(
                f"{item.filename} is {len(item.data) / 1e6:.1f} MB; TikTok takes at most "
                f"{limit // MB} MB for this kind of file."
            )


def chunks(size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) for a video of `size` bytes."""
    chunk = min(size, CHUNK_BYTES) or 1
    return chunk, max(1, size // chunk)


def pieces(data: bytes) -> list[tuple[int, int]]:
    """The (first byte, last byte) of each chunk; the last one takes the trailing bytes."""
    chunk, count = chunks(len(data))
    starts = [index * chunk for index in range(count)]
    ends = [*(start - 1 for start in starts[1:]), len(data) - 1]
    return list(zip(starts, ends, strict=True))


def video_seconds(media: Media) -> float | None:
    """The length of an MP4 or MOV video from its movie header (`moov/mvhd`: timescale and
    duration, ISO/IEC 14496-12 §8.2.2); None when it cannot be read (WebM, a broken file):
    TikTok then judges the length itself."""
    box = _find(media.data, 0, len(media.data), b"moov")
    if box is None:
        return None
    header = _find(media.data, box[0], box[1], b"mvhd")
    if header is None:
        return None
    start = header[0]
    version = media.data[start] if start < len(media.data) else 0
    try:
        if version == 1:
            timescale, duration = struct.unpack_from(">IQ", media.data, start + 20)
        else:
            timescale, duration = struct.unpack_from(">II", media.data, start + 12)
    except struct.error:
        return None
    return duration / timescale if timescale else None


def _find(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The body (start, end) of the first box of `kind` among the boxes in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, name = struct.unpack_from(">I4s", data, at)
        body = at + 8
        if size == 1 and at + 16 <= end:
            size = struct.unpack_from(">Q", data, at + 8)[0]
            body = at + 16
        elif size == 0:
            size = end - at
        if size < body - at or at + size > end:
            return None
        if name == kind:
            return body, at + size
        at += size
    return None
