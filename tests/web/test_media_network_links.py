"""Signed, expiring public links to library media, for networks that fetch files
themselves (Instagram): they open that one unchanged file, safely, and nothing else."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chorus.networks import media_links
from chorus.networks.providers.base import Media
from chorus.publishing.media import media_asset_create
from chorus.web.views.media import MEDIA_CSP

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(owner, settings) -> Media:
    settings.SITE_URL = "https://chorus.example.org"
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    asset = media_asset_create(
        actor=owner, upload=SimpleUploadedFile("a.jpg", out.getvalue(), "image/jpeg")
    )
    with asset.file.open("rb") as f:
        return Media(f.read(), asset.mime_type, filename=os.path.basename(asset.file.name))


def path_of(media: Media) -> str:
    url = media_links.public_media_url(media, network="Instagram", network_url="https://g.test")
    return url.removeprefix("https://chorus.example.org")


def test_signed_link_serves_the_file_without_signing_in(client, stored):
    response = client.get(path_of(stored))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored.data
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert response["Cache-Control"] == "private, no-store"


def test_expired_forged_renamed_or_changed_links_open_nothing(client, stored, monkeypatch):
    good = path_of(stored)
    token, name = good.split("/")[-2:]
    assert client.get(good.replace(token, token[:-3] + "abc")).status_code == 404
    assert client.get(good.replace(name, "other.jpg")).status_code == 404
    changed = Media(stored.data + b"x", stored.mime_type, filename=stored.filename)
    assert client.get(path_of(changed)).status_code == 404
    monkeypatch.setattr(media_links, "MAX_AGE", -1)
    assert client.get(good).status_code == 404  # expired
