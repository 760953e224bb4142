"""Signed, expiring public links to media a network fetches itself (Instagram curls every
image and video from a URL; it takes no upload).

A link names the stored file and the SHA-256 of its bytes, signed with the site's secret
(django.core.signing) and valid for `MAX_AGE`: it opens that one file, unchanged, for a
few hours, to anyone holding the link, and nothing else. The link is on the site address
(core.site, CHORUS_SITE_URL); when that address is not one the network can reach (a
loopback or private address, `localhost`), publishing says so instead of failing later.
"""

from __future__ import annotations

import hashlib
import ipaddress
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import signing

from chorus.core.egress import is_public
from chorus.core.site import absolute_url
from chorus.networks.providers.base import Media, Rejected

SALT = "chorus.network-media"
MAX_AGE = 6 * 3600  # a reel may wait in Instagram's queue; six hours is plenty
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def _is_private_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        try:
            return not is_public(ipaddress.ip_address(host))
        except ValueError:
            return True
    try:
        return not is_public(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return False


def site_is_reachable_from(network_url: str) -> bool:
    """Whether a network at `network_url` can fetch from the site address: always for a
    public site address; for a private one, only a network on a private address too (the
    network emulator on this machine)."""
    site = urlsplit(settings.SITE_URL).hostname or ""
    if not _is_private_host(site):
        return True
    return _is_private_host(urlsplit(network_url).hostname or "")


def public_media_url(media: Media, *, network: str, network_url: str) -> str:
    """A link `network` can fetch `media` from; Rejected, saying what to set, when the site
    address is not public."""
    if not site_is_reachable_from(network_url):
        raise Rejected(
            f"{network} fetches media from Chorus's site address, {settings.SITE_URL}, "
            "which is not reachable from the internet. Set CHORUS_SITE_URL to the public "
            "https address of this Chorus (see docs/networks/instagram.md)."
        )
    if not media.filename or media.filename == "upload":
        raise Rejected(f"{network} needs media from the media library.")
    digest = hashlib.sha256(media.data).hexdigest()
    token = signing.dumps({"n": media.filename, "h": digest}, salt=SALT)
    return absolute_url(f"/media/network/{token}/{quote(media.filename)}")


def read_media_token(token: str) -> tuple[str, str] | None:
    """The file name and SHA-256 a link names, or None when it is forged or expired."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    name, digest = payload.get("n"), payload.get("h")
    if not isinstance(name, str) or not isinstance(digest, str) or "/" in name:
        return None
    return name, digest
