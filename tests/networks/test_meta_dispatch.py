"""The dispatcher, unchanged, publishing to a Facebook Page and an Instagram account on the
emulator's Graph API: exactly once through a lost answer, Instagram's processing and its
24-hour quota held as a rate limit, a lost Page held for reconnecting."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from tests.networks.test_meta_emulator import sign_in

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.media import media_asset_create
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer
from chorus.testing.emulator_meta import meta_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def graph(settings, live_server) -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0, rate_limit=None) as server:
        for name, value in meta_settings(server.base_url).items():
            setattr(settings, name, value)
        settings.SITE_URL = live_server.url  # Instagram fetches media from here
        yield server


@pytest.fixture
def accounts(graph, owner) -> dict[str, SocialAccount]:
    found = {}
    with httpx.Client(timeout=10) as http:
        choices = sign_in(graph, http)
    for key in ("facebook", "instagram"):
        choice = choices[key]
        account = SocialAccount(
            workspace=owner.workspace,
            provider=key,
            remote_id=choice.remote_id,
            handle=choice.handle,
            identity=choice.credentials.identity,
            connected_by=owner.user,
        )
        account.secrets = choice.credentials.secrets
        account.save()
        found[key] = account
    return found


def publish_now(owner, account, text, media=()):
    post = services.post_save(
        actor=owner,
        variants=[services.VariantInput(account_id=account.pk, text=text, media=list(media))],
    )
    services.post_publish_now(actor=owner, post=post)
    return post


def photo(owner) -> tuple[int, str]:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "orange").save(out, "JPEG")
    asset = media_asset_create(
        actor=owner, upload=SimpleUploadedFile("p.jpg", out.getvalue(), "image/jpeg")
    )
    return asset.pk, "an orange square"


def meta_events(graph) -> list[dict]:
    return [e for e in graph.events() if e["network"] == "meta"]


def test_facebook_post_through_a_lost_answer_goes_out_once(graph, accounts, owner):
    post = publish_now(owner, accounts["facebook"], "ร้านเปิดแล้ววันนี้")
    graph._call(
        "POST",
        "meta/configure",
        json={"faults": [{"route": "meta.feed", "status": 500, "code": 2, "after_commit": True}]},
    )
    Dispatcher().run_once()
    assert Variant.objects.get(post=post).status == VariantStatus.SCHEDULED  # will retry
    later = timezone.now() + timedelta(minutes=5)
    Dispatcher().run_once(now=later)
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED
    assert [e["id"] for e in meta_events(graph)] == [variant.remote_id]


def test_instagram_photo_with_the_quota_respected(graph, accounts, owner):
    graph._call("POST", "meta/configure", json={"quota_total": 1})
    first = publish_now(owner, accounts["instagram"], "first", [photo(owner)])
    second = publish_now(owner, accounts["instagram"], "second", [photo(owner)])
    Dispatcher().run_once()
    statuses = {v.post_id: v for v in Variant.objects.filter(post__in=[first, second])}
    published = [v for v in statuses.values() if v.status == VariantStatus.PUBLISHED]
    held = [v for v in statuses.values() if v.status == VariantStatus.SCHEDULED]
    assert len(published) == 1 and len(held) == 1
    assert "24 hours" in held[0].last_error
    assert len(meta_events(graph)) == 1


def test_instagram_reel_waits_for_processing(graph, accounts, owner):
    from tests.publishing.samples import mp4

    asset = media_asset_create(actor=owner, upload=SimpleUploadedFile("v.mp4", mp4(), "video/mp4"))
    post = publish_now(owner, accounts["instagram"], "a reel", [(asset.pk, "")])
    Dispatcher().run_once()
    assert Variant.objects.get(post=post).status == VariantStatus.SCHEDULED
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=5))
    assert Variant.objects.get(post=post).status == VariantStatus.PUBLISHED
    assert len(meta_events(graph)) == 1


def test_a_lost_page_holds_the_post_for_reconnecting(graph, accounts, owner):
    post = publish_now(owner, accounts["facebook"], "held, not lost")
    graph._call("POST", "meta/unmanage", json={"page": accounts["facebook"].remote_id})
    Dispatcher().run_once()
    accounts["facebook"].refresh_from_db()
    assert accounts["facebook"].status == AccountStatus.NEEDS_RECONNECT
    assert "no longer manages this Page" in accounts["facebook"].last_error
    assert Variant.objects.get(post=post).status != VariantStatus.PUBLISHED
    assert meta_events(graph) == []
