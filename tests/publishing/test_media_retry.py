"""A video the network is still processing: the dispatcher keeps what the try uploaded
with the variant and the retry reuses it, even from a fresh dispatcher (a restart), on
every network that can (Mastodon and X uploads, Instagram and Threads containers). The
emulator counts the uploads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from tests.publishing.samples import mp4

from chorus.networks.models import SocialAccount
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.media import media_asset_create
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing import load, networks
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

# the route that makes what the network then processes, and how to make it slow
UPLOADS = {
    "mastodon": ("mastodon.media.create", "configure", {"media_processing_checks": 2}),
    "x": ("x.media.initialize", "configure", {"media_processing_checks": 2}),
    "instagram": ("meta.media.create", "meta/configure", {"video_processing_checks": 2}),
    "threads": ("threads.v1.0", "threads/configure", {"processing_checks": 2}),
}


@pytest.fixture
def emulator(settings, live_server):
    with EmulatorServer(latency=0, rate_limit=None) as server:
        networks.apply_settings(settings, server.base_url)
        settings.SITE_URL = live_server.url  # Instagram and Threads fetch the video here
        yield server


def connect(owner, emulator, provider: str) -> SocialAccount:
    return load.connect(owner=owner, provider=provider, server_url=emulator.base_url, label="m")


def publish_video(owner, account) -> Variant:
    asset = media_asset_create(
        actor=owner, upload=SimpleUploadedFile("clip.mp4", mp4(), "video/mp4")
    )
    post = services.post_save(
        actor=owner,
        variants=[
            services.VariantInput(
                account_id=account.pk, text="Our new clip", media=[(asset.pk, "A clip")]
            )
        ],
    )
    services.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


@pytest.mark.parametrize("provider", sorted(UPLOADS))
def test_a_retry_reuses_the_media_still_processing_even_after_a_restart(owner, emulator, provider):
    route, control, slow = UPLOADS[provider]
    emulator._call("POST", control, json=slow)
    account = connect(owner, emulator, provider)
    before = emulator.stats()["routes"].get(route, 0)
    variant = publish_video(owner, account)

    Dispatcher().run_once()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED, variant.last_error
    assert variant.pending_media["part"] == 0 and variant.pending_media["ids"]
    kept = variant.pending_media["ids"]

    for minutes in (10, 20, 30, 40):  # each try by a fresh dispatcher, as after a restart
        if variant.status != VariantStatus.SCHEDULED:
            break
        Dispatcher().run_once(now=timezone.now() + timedelta(minutes=minutes))
        variant.refresh_from_db()
        if variant.status == VariantStatus.SCHEDULED:
            assert variant.pending_media["ids"] == kept, "the retry made new media"
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    assert variant.pending_media == {}
    made = emulator.stats()["routes"].get(route, 0) - before
    if provider == "threads":  # one route for every Graph call: count the containers
        made = emulator._call("POST", "threads/state", json={})["containers"]
    assert made == 1, f"{provider}: the media was sent {made} times"
    assert len([e for e in emulator.events() if e["text"] == "Our new clip"]) == 1


def test_an_edit_between_tries_starts_afresh(owner, emulator):
    """Media made for other words is not reused: the next try uploads again."""
    emulator.configure(media_processing_checks=5)
    account = connect(owner, emulator, "mastodon")
    variant = publish_video(owner, account)
    Dispatcher().run_once()
    variant.refresh_from_db()
    assert variant.pending_media["ids"]
    Variant.objects.filter(pk=variant.pk).update(text="Our new clip, with sound")
    emulator.configure(media_processing_checks=0)
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=10))
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    assert emulator.stats()["routes"]["mastodon.media.create"] == 2
