"""Small media files made on the spot: real images, crafted headers, minimal videos."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png(width: int = 2, height: int = 3, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 8, height: int = 6) -> bytes:
    """A JPEG whose EXIF says where it was taken (latitude 11°33′N, as a phone writes it)."""
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (11.0, 33.0, 0.0), 3: "E", 4: (104.0, 55.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def animated_gif(frames: int = 3) -> bytes:
    images = [Image.new("RGB", (4, 4), (i * 60, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims `width` × `height` pixels (tens of gigabytes decoded)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(brand: bytes = b"isom") -> bytes:
    """The top-level structure of an MP4 file: ftyp, moov (movie header) and mdat."""
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")
    moov = _box(b"moov", _box(b"mvhd", b"\x00" * 100))
    return ftyp + moov + _box(b"mdat", b"\x00" * 64)


def webm() -> bytes:
    """An EBML header with DocType "webm", then the start of a Segment."""
    doctype = b"\x42\x82\x84webm"
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype
    return header + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + b"\x00" * 64


HTML_ATTACK = (
    b"<!doctype html><script>fetch('/api/v1/members/1',{method:'PATCH',"
    b"headers:{'X-CSRFToken':document.cookie},body:'{\"role\":\"admin\"}'})</script>"
)
SVG_ATTACK = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
