"""TikTok fetching media itself (PULL_FROM_URL) from Chorus's signed links, served by a live
Chorus: photo posts, videos by URL, an unverified domain, a site TikTok cannot reach, and a
post whose init answer was lost, found again by the dispatcher."""

import io
import os
from datetime import timedelta

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from tests.networks.test_tiktok_emulator import allow, control, draft, options, posts, signed_in
from tests.publishing.samples import mp4

from chorus.networks import services
from chorus.networks.providers.base import Media, Rejected
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.media import media_asset_create
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def running():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def emulator(running, settings, live_server):
    running.reset()
    settings.SITE_URL = live_server.url
    settings.CHORUS_NETWORK_OPTIONS = options(running, pull_from_url="1")
    return running


def jpeg(color="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, "JPEG")
    return out.getvalue()


def library(owner, data: bytes, name: str, mime: str):
    """A file in the media library, as the dispatcher hands it to a provider: (asset, Media)."""
    asset = media_asset_create(actor=owner, upload=SimpleUploadedFile(name, data, mime))
    with asset.file.open("rb") as stored:
        media = Media(stored.read(), asset.mime_type, filename=os.path.basename(asset.file.name))
    return asset, media


def test_photo_post_is_fetched_from_chorus(emulator, owner):
    photos = tuple(library(owner, jpeg(c), f"{c}.jpg", "image/jpeg")[1] for c in ("red", "blue"))
    signed_in().publish(draft("Two photos", media=photos))
    [made] = posts(emulator)
    assert made["kind"] == "photo" and made["status"] == "PUBLISH_COMPLETE"
    assert made["pulled"] == sum(len(p.data) for p in photos)


def test_video_by_url_and_an_unverified_domain(emulator, owner):
    _, clip = library(owner, mp4(), "clip.mp4", "video/mp4")
    tiktok = signed_in()
    tiktok.publish(draft("Pulled", media=(clip,)))
    [made] = posts(emulator)
    assert made["source"] == "PULL_FROM_URL" and made["pulled"] == len(clip.data)
    control(emulator, "configure", verified_prefixes=["https://media.example.org/"])
    with pytest.raises(Rejected, match="not verified"):
        tiktok.publish(draft("Pulled again", key="k2", media=(clip,)))


def test_media_tiktok_cannot_fetch_fails_with_the_reason(emulator, owner, settings):
    _, clip = library(owner, mp4(), "clip.mp4", "video/mp4")
    tiktok = signed_in()
    settings.SITE_URL = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(Rejected, match="could not fetch the video.*video_pull_failed"):
        tiktok.publish(draft("Unreachable", media=(clip,)))
    assert posts(emulator)[0]["status"] == "FAILED"


def test_dispatcher_finds_a_post_whose_answer_was_lost(owner, emulator, settings):
    settings.CHORUS_NETWORK_OPTIONS = options(emulator, audited="1", pull_from_url="1")
    control(emulator, "configure", audited=True, lose_answers=1)
    asset, _ = library(owner, mp4(), "clip.mp4", "video/mp4")
    back = allow(services.oauth_begin(actor=owner, provider_key="tiktok"))
    account = services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])
    post = publishing.post_save(
        actor=owner,
        variants=[
            publishing.VariantInput(
                account_id=account.pk, text="Lost answer", media=[(asset.pk, "")]
            )
        ],
    )
    publishing.post_publish_now(actor=owner, post=post)
    variant = Variant.objects.get(post=post)
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    httpx.post(  # TikTok finishes the post meanwhile
        f"{emulator.base_url}/tiktok/v2/post/publish/status/fetch/",
        json={"publish_id": posts(emulator)[0]["id"]},
        headers={"Authorization": f"Bearer {account.secrets['access_token']}"},
    ).raise_for_status()
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    made = posts(emulator)
    assert len(made) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == made[0]["post_id"]
