"""What an uploaded file is, read from its first bytes (Pillow is not a dependency).

`sniff` names the type from the file's signature rather than trusting the browser's
Content-Type, and reads an image's width and height where that is cheap: PNG, GIF and
WebP keep them in a fixed header, JPEG in its first start-of-frame marker.
"""

from __future__ import annotations

import mimetypes
import struct
from dataclasses import dataclass

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sniffed:
    mime_type: str
    width: int | None = None
    height: int | None = None


def sniff(head: bytes, filename: str = "", declared: str = "") -> Sniffed:
    """The file's type (and size in pixels, for common images) from its first bytes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return Sniffed("image/png", width, height)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return Sniffed("image/gif", width, height)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp", *_webp_size(head))
    if head.startswith(b"\xff\xd8"):
        return Sniffed("image/jpeg", *_jpeg_size(head))
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1"):
            return Sniffed("image/heic")
        if brand == b"avif":
            return Sniffed("image/avif")
        if brand == b"qt  ":
            return Sniffed("video/quicktime")
        return Sniffed("video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video/webm")
    guessed = mimetypes.guess_type(filename)[0]
    return Sniffed(guessed or declared or "application/octet-stream")


def _webp_size(head: bytes) -> tuple[int | None, int | None]:
    chunk = head[12:16]
    try:
        if chunk == b"VP8X":
            width = int.from_bytes(head[24:27], "little") + 1
            height = int.from_bytes(head[27:30], "little") + 1
            return width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", head[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    except (struct.error, IndexError):
        pass
    return None, None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(head: bytes) -> tuple[int | None, int | None]:
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            return None, None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = struct.unpack(">H", head[at + 2 : at + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None, None
