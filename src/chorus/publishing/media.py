"""The media library: what an uploaded file really is, decided from its content, and a
safe copy of it stored in the workspace's library (`media_asset_create`).

Only what the networks take is accepted: still and animated images that Pillow decodes
(JPEG, PNG, GIF, WebP, AVIF) and MP4/QuickTime/WebM videos recognised by their container
structure. Never the file's name or the browser's word for its type. An image's size in
pixels is read from its header and refused before any pixel is decoded (decompression
bombs), then the image is decoded and encoded again: what is stored is pixels we wrote,
without the original's metadata (EXIF GPS position, XMP, comments) or any trailing bytes.
SVG, HTML and everything else are refused, each with a message saying why.
"""

from __future__ import annotations

import io
import struct
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership, Workspace
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import ServiceError
from chorus.networks.providers import PROVIDERS
from chorus.publishing.models import MediaAsset

HEAD_BYTES = 64 * 1024
MAX_ALT_TEXT = 5_000

# Pillow format name → (MIME type, file extension); the only decoders ever tried.
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
    "AVIF": ("image/avif", "avif"),
}
VIDEO_EXTENSIONS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}
EXTENSIONS = dict(IMAGE_FORMATS.values()) | VIDEO_EXTENSIONS
# What /media/<id>/ will serve inline: everything we accept, nothing else.
SERVABLE_TYPES = set(EXTENSIONS)


class MediaRefused(ServiceError):
    """The upload is not something the networks take, or it is too large."""

    code = "media_refused"
    status = 422

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message, code=code, field="upload")


@dataclass(frozen=True)
class CheckedMedia:
    """A file that passed every check, ready to store under `name`."""

    mime_type: str
    extension: str
    content: File
    size: int
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


# --------------------------------------------------------------------------- the library


def media_asset_create(*, actor: Membership, upload, alt_text: str = "") -> MediaAsset:
    """Check an uploaded file and store a safe copy in the workspace's media library.

    What the file is comes from its content (publishing.media.check_upload): images are
    decoded and written again without metadata, videos checked by their container; SVG,
    HTML and anything else are refused, as are files over the networks' size limits,
    images with too many pixels and uploads that would pass the workspace's quota.
    """
    check_capability(actor, Capability.CREATE_POSTS)
    if not upload or not upload.size:
        raise ServiceError(_("Choose a file to upload."), field="upload")
    if len(alt_text) > MAX_ALT_TEXT:
        raise ServiceError(
            _("Alt text may be at most %(limit)s characters.") % {"limit": MAX_ALT_TEXT},
            field="upload_alt",
        )
    checked = check_upload(upload)
    name = f"{uuid.uuid4().hex}.{checked.extension}"
    with transaction.atomic():
        Workspace.objects.select_for_update().get(pk=actor.workspace_id)  # one upload at a time
        quota = settings.CHORUS_WORKSPACE_MEDIA_QUOTA
        used = MediaAsset.objects.filter(workspace=actor.workspace).aggregate(t=Sum("size"))["t"]
        if quota and (used or 0) + checked.size > quota:
            raise MediaRefused(
                _(
                    "The media library is full (%(used)s of %(quota)s MB used); "
                    "this file needs %(size)s MB. Ask an admin to remove old files."
                )
                % {
                    "used": round((used or 0) / 1_000_000),
                    "quota": round(quota / 1_000_000),
                    "size": round(checked.size / 1_000_000, 1),
                },
                code="quota_exceeded",
            )
        asset = MediaAsset(
            workspace=actor.workspace,
            mime_type=checked.mime_type,
            size=checked.size,
            width=checked.width,
            height=checked.height,
            alt_text=alt_text,
            uploaded_by=actor.user,
        )
        asset.file.save(name, checked.content, save=False)
        asset.save()
    return asset


# --------------------------------------------------------------------------- limits


def max_image_bytes() -> int:
    """The largest image any connected network takes (each network's Limits)."""
    return max(p.limits.max_image_bytes for p in PROVIDERS.values())


def max_video_bytes() -> int:
    return max(p.limits.max_video_bytes for p in PROVIDERS.values())


def accepted_types() -> set[str]:
    """The MIME types at least one network takes and we can check by content."""
    taken = {t for p in PROVIDERS.values() for t in p.limits.media_types}
    return taken & SERVABLE_TYPES


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".")


def _too_large(size: int, limit: int, what: str) -> MediaRefused:
    return MediaRefused(
        _("This %(what)s is %(size)s MB; the networks take at most %(limit)s MB.")
        % {"what": what, "size": _megabytes(size), "limit": _megabytes(limit)},
        code="too_large",
    )


# --------------------------------------------------------------------------- checking


def check_upload(upload) -> CheckedMedia:
    """Decide what `upload` is from its bytes; refuse, or return what to store."""
    size = upload.size or 0
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if _looks_like_markup(head):
        raise MediaRefused(
            _(
                "SVG, HTML and other text files cannot be attached: "
                "upload a JPEG, PNG, GIF or WebP image or an MP4, MOV or WebM video."
            ),
            code="unsupported_type",
        )
    video_type = _video_type(head)
    if video_type:
        if video_type not in accepted_types():
            raise _unsupported()
        if size > max_video_bytes():
            raise _too_large(size, max_video_bytes(), _("video"))
        _check_video_structure(upload, video_type, size)
        upload.seek(0)
        return CheckedMedia(video_type, VIDEO_EXTENSIONS[video_type], upload, size)
    if size > max_image_bytes():
        raise _too_large(size, max_image_bytes(), _("image"))
    return _reencode_image(upload)


def _unsupported() -> MediaRefused:
    return MediaRefused(
        _(
            "This kind of file cannot be posted to the networks: "
            "upload a JPEG, PNG, GIF or WebP image or an MP4, MOV or WebM video."
        ),
        code="unsupported_type",
    )


BINARY_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"\x1a\x45\xdf\xa3")


def _looks_like_markup(head: bytes) -> bool:
    """SVG, HTML or XML (named in the refusal); an image's own XMP metadata does not count."""
    if head.startswith(BINARY_SIGNATURES) or head[4:8] == b"ftyp":
        return False
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    return text.startswith((b"<", b"<\x00")) or b"<svg" in text[:1024] or b"<html" in text[:1024]


# --------------------------------------------------------------------------- images


def _reencode_image(upload) -> CheckedMedia:
    from PIL import Image, ImageOps, UnidentifiedImageError

    max_pixels = settings.CHORUS_MEDIA_MAX_PIXELS
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(upload, formats=list(IMAGE_FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(*_png_header_size(upload), max_pixels) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _unsupported() from None
    width, height = image.size
    if width * height > max_pixels or width < 1 or height < 1:
        raise _too_many_pixels(width, height, max_pixels)
    frames = getattr(image, "n_frames", 1)
    if frames > settings.CHORUS_MEDIA_MAX_FRAMES:
        raise MediaRefused(
            _("This animation has %(frames)s frames; at most %(limit)s are accepted.")
            % {"frames": frames, "limit": settings.CHORUS_MEDIA_MAX_FRAMES},
            code="too_many_frames",
        )
    if frames * width * height > settings.CHORUS_MEDIA_MAX_ANIMATION_PIXELS:
        raise _too_many_pixels(width, height, max_pixels)
    mime_type, extension = IMAGE_FORMATS[image.format]
    if mime_type not in accepted_types():
        raise _unsupported()
    out = io.BytesIO()
    try:
        _save_clean(image, out, ImageOps)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise MediaRefused(
            _("This image is damaged or incomplete and cannot be read."), code="damaged"
        ) from None
    data = out.getvalue()
    return CheckedMedia(mime_type, extension, ContentFile(data), len(data), *_size_of(data))


def _save_clean(image, out, image_ops) -> None:
    """Decode every frame and write a fresh file of the same format, without metadata."""
    from PIL import Image

    kind = image.format
    icc = image.info.get("icc_profile")
    options: dict = {"icc_profile": icc} if icc and kind != "GIF" else {}
    if getattr(image, "n_frames", 1) > 1:
        # Each frame keeps its own duration and disposal (read by Pillow as it writes).
        options.update(save_all=True, loop=image.info.get("loop", 0))
        image.seek(0)
        image.load()
        frames = image
    else:
        image.load()
        frames = image_ops.exif_transpose(image)  # keep the picture upright once EXIF is gone
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Raw profile type exif"):
        frames.info.pop(key, None)
    if kind == "JPEG":
        if frames.mode not in ("RGB", "L", "CMYK"):
            frames = frames.convert("RGB")
        frames.save(out, "JPEG", quality=90, **options)
    elif kind == "WEBP":
        frames.save(out, "WEBP", quality=90, **options)
    elif kind == "AVIF":
        if frames.mode not in ("RGB", "RGBA"):
            frames = frames.convert("RGBA")
        frames.save(out, "AVIF", quality=90, **options)
    elif kind == "GIF":
        frames.save(out, "GIF", **options)
    else:
        frames.save(out, "PNG", **options)
    if isinstance(frames, Image.Image) and frames is not image:
        frames.close()
    image.close()


def _size_of(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as written:
        return written.size


def _png_header_size(upload) -> tuple[int | None, int | None]:
    """The size a PNG's header claims (to name it when refusing a decompression bomb)."""
    upload.seek(0)
    head = upload.read(32)
    upload.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    return None, None


def _too_many_pixels(width: int | None, height: int | None, limit: int) -> MediaRefused:
    if width and height:
        message = _(
            "This image is %(width)s × %(height)s pixels; at most %(limit)s million pixels "
            "are accepted. Make it smaller and upload it again."
        ) % {"width": width, "height": height, "limit": round(limit / 1_000_000, 1)}
    else:
        message = _(
            "This image has more than %(limit)s million pixels. "
            "Make it smaller and upload it again."
        ) % {"limit": round(limit / 1_000_000, 1)}
    return MediaRefused(message, code="too_many_pixels")


# --------------------------------------------------------------------------- videos

# ISO base media file format brands (ftyp) of the videos the networks take.
QUICKTIME_BRANDS = {b"qt  "}
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"M4VH", b"M4VP", b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV",
    b"XAVC", b"f4v ", b"mmp4",
}  # fmt: skip
TOP_LEVEL_BOXES = {
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin", b"moof",
    b"mfra", b"meta", b"styp", b"sidx", b"ssix", b"prft", b"pnot", b"udta", b"emsg",
}  # fmt: skip


def _video_type(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        box_size = struct.unpack(">I", head[0:4])[0]
        brands = {head[8:12]} | {
            head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)
        }
        if head[8:12] in QUICKTIME_BRANDS:
            return "video/quicktime"
        if brands & MP4_BRANDS and not brands & {b"avif", b"avis", b"heic", b"heix", b"mif1"}:
            return "video/mp4"
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3") and _ebml_doctype(head) == b"webm":
        return "video/webm"
    return None


def _check_video_structure(upload, mime_type: str, size: int) -> None:
    damaged = MediaRefused(
        _("This video is damaged or incomplete and cannot be read."), code="damaged"
    )
    if mime_type == "video/webm":
        return  # the EBML header and its DocType were read in full by _video_type
    # MP4 and QuickTime: the top-level boxes must tile the file and include the movie
    # header (moov) and the media data (mdat).
    seen: set[bytes] = set()
    at = 0
    upload.seek(0)
    while at < size:
        upload.seek(at)
        header = upload.read(16)
        if len(header) < 8:
            raise damaged
        length, kind = struct.unpack(">I", header[:4])[0], header[4:8]
        if length == 1:
            if len(header) < 16:
                raise damaged
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            length = size - at  # the last box runs to the end of the file
        if length < 8 or at + length > size or kind not in TOP_LEVEL_BOXES:
            raise damaged
        seen.add(kind)
        at += length
    if not {b"moov", b"mdat"} <= seen and not {b"moof", b"mdat"} <= seen:
        raise damaged
    upload.seek(0)


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType of an EBML header ("webm", "matroska"), or None if it is malformed."""

    def vint(at: int, keep_marker: bool) -> tuple[int, int] | None:
        if at >= len(head) or head[at] == 0:
            return None
        first = head[at]
        length = 8 - first.bit_length() + 1
        if at + length > len(head):
            return None
        value = first if keep_marker else first & ((1 << (8 - length)) - 1)
        for byte in head[at + 1 : at + length]:
            value = (value << 8) | byte
        return value, length

    element = vint(0, True)
    size = vint(4, False) if element else None
    if not size:
        return None
    at, end = 4 + size[1], 4 + size[1] + size[0]
    while at < min(end, len(head)):
        element = vint(at, True)
        if not element:
            return None
        length = vint(at + element[1], False)
        if not length:
            return None
        start = at + element[1] + length[1]
        if element[0] == 0x4282:  # DocType
            return head[start : start + length[0]].rstrip(b"\x00")
        at = start + length[0]
    return None
