"""Link cards and remote images for the composer's preview.

A link card is what a network draws for a link: the page's title, description, site name
and image, read from its OpenGraph (`og:*`) and Twitter-card (`twitter:*`) meta, else its
`<title>` and `<meta name=description>`. An avatar is the account's picture on its network's
CDN. Both come from addresses users chose, so both are fetched only through the outbound
guard (`chorus.core.egress`, via `networks.http.client`: public addresses only, pinned, each
redirect checked again), with a short timeout, a size cap and a deadline for the whole read.

Nothing from those servers reaches a browser as it came: a page's meta is kept as plain
text (`LinkPreview`), and an image is decoded with Pillow (JPEG, PNG, GIF and WebP only,
its pixel count checked before decoding) and written again as a small JPEG or PNG
(`RemoteImage`), served from Chorus's own origin by a signed link (`image_token`), so the
pages' Content-Security-Policy stays `img-src 'self'` and no network learns who looks.

Both are kept: a card or an image for a week, a failure for an hour (then tried again).
A page whose `<head>` does not end within `PAGE_BYTES`, a page that is not HTML, a broken
page, an image that is too large or not an image: no card, no image, and no error shown
(the preview falls back to the link alone, or to the account's initials).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import warnings
from urllib.parse import urljoin, urlsplit

import httpx
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from chorus.networks import http as network_http
from chorus.publishing.models import LinkPreview, RemoteImage
from chorus.text import NETWORKS, find_links

PAGE_BYTES = 512 * 1024  # read at most this much of a page; its <head> must end within it
IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_PIXELS = 25_000_000
IMAGE_SIDE = 800  # stored images are at most this wide and high
TIMEOUT = httpx.Timeout(4.0, connect=3.0)
DEADLINE_SECONDS = 8.0  # for one whole fetch, redirects and a slow trickle included
MAX_REDIRECTS = 3
KEPT = dt.timedelta(days=7)
RETRY_AFTER = dt.timedelta(hours=1)
HTML_TYPES = ("text/html", "application/xhtml+xml")
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
TOKEN_SALT = "chorus.publishing.preview-image"
LINK_SALT = "chorus.publishing.link-card"


class FetchFailed(Exception):
    """Why a page or an image gave nothing (a short reason, kept in `error`)."""


# --------------------------------------------------------------------------- fetching


def _fetch(url: str, accept: tuple[str, ...], limit: int, *, stop: bytes = b"") -> bytes:
    """The body of `url` (following up to MAX_REDIRECTS redirects, each through the guard)
    if its type is one of `accept` and it fits in `limit` bytes; with `stop`, the body up to
    that marker, which must come within `limit`."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with network_http.client(TIMEOUT) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchFailed("not an http(s) address")
            try:
                with client.stream("GET", url, headers={"Accept": ", ".join(accept)}) as response:
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise FetchFailed(f"HTTP {response.status_code}")
                    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if kind not in accept:
                        raise FetchFailed(f"not {accept[0]} but {kind[:40] or 'untyped'}")
                    return _read(response, limit, deadline, stop)
            except httpx.HTTPError as exc:
                raise FetchFailed(type(exc).__name__) from None
    raise FetchFailed("too many redirects")


def _read(response: httpx.Response, limit: int, deadline: float, stop: bytes) -> bytes:
    declared = response.headers.get("content-length", "")
    if not stop and declared.isdigit() and int(declared) > limit:
        raise FetchFailed("too large")
    body = bytearray()
    for chunk in response.iter_bytes():
        start = max(0, len(body) - len(stop))
        body += chunk
        if stop and stop in body[start:].lower():
            return bytes(body)
        if len(body) > limit:
            raise FetchFailed("too large")
        if time.monotonic() > deadline:
            raise FetchFailed("too slow")
    return bytes(body)  # all of it fitted (a page without </head> is read as it is)


# --------------------------------------------------------------------------- link cards


def first_link(text: str, provider_key: str) -> str:
    """The first link in `text` as the network links it (other networks: Mastodon's rule,
    a URL with its scheme)."""
    links = find_links(text, provider_key if provider_key in NETWORKS else "mastodon")
    return links[0].value if links else ""


def parse_card(html: bytes, url: str) -> dict[str, str]:
    """The card a page's meta describes: title, description, site name and image URL."""
    import tinyhtml5

    root = tinyhtml5.parse(html, namespace_html_elements=False)
    meta: dict[str, str] = {}
    title = ""
    for element in root.iter():
        if element.tag == "title" and not title:
            title = "".join(element.itertext())
        elif element.tag == "meta":
            key = (element.get("property") or element.get("name") or "").strip().lower()
            content = element.get("content")
            if key and content is not None and key not in meta:
                meta[key] = content

    def pick(*keys: str) -> str:
        for key in keys:
            if value := _clean(meta.get(key, "")):
                return value
        return ""

    image = pick("og:image:secure_url", "og:image", "og:image:url", "twitter:image")
    image = urljoin(url, image) if image else ""
    if urlsplit(image).scheme not in ("http", "https") or len(image) > 2000:
        image = ""
    return {
        "title": (pick("og:title", "twitter:title") or _clean(title))[:300],
        "description": pick("og:description", "twitter:description", "description")[:1000],
        "site_name": (pick("og:site_name", "application-name") or site_of(url))[:200],
        "image_url": image,
    }


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def site_of(url: str) -> str:
    """The site's name when its page gives none: its host, without www."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def is_fresh(row: LinkPreview | RemoteImage) -> bool:
    kept = RETRY_AFTER if row.error else KEPT
    return row.fetched_at >= timezone.now() - kept


def link_previews(urls) -> dict[str, LinkPreview]:
    """The kept cards of these links (fresh or not), by URL, in one query."""
    wanted = {u for u in urls if u}
    if not wanted:
        return {}
    return {row.url: row for row in LinkPreview.objects.filter(url__in=wanted)}


def link_preview_get(url: str) -> LinkPreview:
    """The card of `url`: the kept one while fresh, else read from the page now and kept."""
    row = LinkPreview.objects.filter(url=url).first()
    if row is not None and is_fresh(row):
        return row
    values = {"title": "", "description": "", "image_url": "", "site_name": "", "error": ""}
    try:
        html = _fetch(url, HTML_TYPES, PAGE_BYTES, stop=b"</head")
        values.update(parse_card(html, url))
    except FetchFailed as exc:
        values["error"] = str(exc)[:200]
    except Exception:  # a page the parser cannot read: no card, never an error page
        values["error"] = "unreadable page"
    return _keep(LinkPreview, url, values)


def _keep(model, url: str, values: dict):
    values["fetched_at"] = timezone.now()
    try:
        with transaction.atomic():
            row, _created = model.objects.update_or_create(url=url, defaults=values)
    except IntegrityError:  # another request kept it at the same moment
        row = model.objects.get(url=url)
    return row


# --------------------------------------------------------------------------- images


def image_get(url: str) -> RemoteImage:
    """The image at `url`, as Chorus wrote it again: the kept one while fresh, else
    fetched now (an image type, at most IMAGE_BYTES and IMAGE_PIXELS) and kept."""
    row = RemoteImage.objects.filter(url=url).first()
    if row is not None and is_fresh(row):
        return row
    values = {"content_type": "", "data": b"", "error": ""}
    try:
        data = _fetch(url, _IMAGE_TYPES, IMAGE_BYTES)
        values["content_type"], values["data"] = rewrite_image(data)
    except FetchFailed as exc:
        values["error"] = str(exc)[:200]
    return _keep(RemoteImage, url, values)


_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/jpg", "image/pjpeg")


def rewrite_image(data: bytes) -> tuple[str, bytes]:
    """Decode `data` (first frame) and write it again, at most IMAGE_SIDE pixels a side:
    a PNG if it has transparency, else a JPEG; FetchFailed for anything else."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
                width, height = image.size
                if width * height > IMAGE_PIXELS or width < 1 or height < 1:
                    raise FetchFailed("too many pixels")
                image.seek(0)
                picture = ImageOps.exif_transpose(image.copy())
        except FetchFailed:
            raise
        except Exception:  # Pillow's many ways of saying "not an image I read"
            raise FetchFailed("not an image") from None
    picture.thumbnail((IMAGE_SIDE, IMAGE_SIDE))
    out = io.BytesIO()
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        picture.convert("RGBA").save(out, "PNG", optimize=True)
        return "image/png", out.getvalue()
    picture.convert("RGB").save(out, "JPEG", quality=85)
    return "image/jpeg", out.getvalue()


# --------------------------------------------------------------------------- signed links


def image_token(url: str) -> str:
    """The signed name of an image to serve: only addresses Chorus itself put in a page
    (an account's avatar, a kept card's image) can be asked for. The same URL always has
    the same name, so a browser keeps the picture between previews."""
    return signing.Signer(salt=TOKEN_SALT).sign_object(url, compress=True)


def image_url_of(token: str) -> str | None:
    return _unsign(token, TOKEN_SALT)


def link_token(url: str) -> str:
    return signing.Signer(salt=LINK_SALT).sign_object(url, compress=True)


def link_url_of(token: str) -> str | None:
    return _unsign(token, LINK_SALT)


def _unsign(token: str, salt: str) -> str | None:
    try:
        value = signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return value if isinstance(value, str) else None
