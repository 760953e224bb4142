"""The Instagram connector against the emulator's Graph API, with its media really fetched
from Chorus's signed media links (a live server): images, carousels and reels through the
container flow, the 24-hour quota, comments both ways, metrics, and each refusal."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from tests.networks.test_meta_emulator import sign_in
from tests.publishing.samples import mp4

from chorus.networks.providers.base import (
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.instagram import Instagram
from chorus.networks.providers.meta_graph import (
    AccountChoice,
    ContainerExpired,
    ContainerProcessing,
    managed_accounts,
)
from chorus.publishing.media import media_asset_create
from chorus.testing.emulator import EmulatorServer
from chorus.testing.emulator_meta import meta_settings

pytestmark = pytest.mark.django_db(transaction=True)
MP4 = mp4()


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0, rate_limit=None) as running:
        yield running


@pytest.fixture
def graph(server, settings, live_server) -> Iterator[EmulatorServer]:
    server.reset()
    for name, value in meta_settings(server.base_url).items():
        setattr(settings, name, value)
    settings.SITE_URL = live_server.url
    yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def account(graph, http) -> Instagram:
    choice: AccountChoice = sign_in(graph, http)["instagram"]
    return Instagram(choice.credentials, http=http)


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, "JPEG")
    return out.getvalue()


def library_media(owner, data: bytes, name: str, mime: str) -> Media:
    """A file stored in the media library as the composer stores it, as the dispatcher
    hands it to a provider."""
    asset = media_asset_create(actor=owner, upload=SimpleUploadedFile(name, data, mime))
    with asset.file.open("rb") as stored:
        return Media(stored.read(), asset.mime_type, filename=os.path.basename(asset.file.name))


def draft(text: str, *media: Media, key: str = "k1", **extra) -> PostDraft:
    return PostDraft(text=text, idempotency_key=key, media=media, **extra)


def routes(graph: EmulatorServer) -> dict[str, int]:
    return graph.stats()["routes"]


def test_image_post_is_fetched_published_and_reconciled(account, graph, owner):
    since = datetime.now(UTC) - timedelta(seconds=1)
    post = draft("ข้าวมันไก่ #อร่อย", library_media(owner, jpeg(), "a.jpg", "image/jpeg"))
    published = account.publish(post)
    assert published.ref.url.startswith("https://www.instagram.com/p/")
    assert account.find_published(post, since=since).ref == published.ref
    assert account.find_published(post, since=since, exclude={published.ref.remote_id}) is None
    assert [e["text"] for e in graph.events()] == ["ข้าวมันไก่ #อร่อย"]


def test_reel_waits_for_processing_without_fetching_twice(account, graph, owner):
    reel = draft("a reel", library_media(owner, MP4, "v.mp4", "video/mp4"))
    with pytest.raises(ContainerProcessing) as processing:
        account.publish(reel)
    published = account.publish(reel, media_ids=processing.value.media_ids)  # the retry
    assert published.ref.remote_id
    assert routes(graph)["meta.media.create"] == 1
    assert len(graph.events()) == 1


def test_carousel_of_images_and_a_video(account, graph, owner):
    items = (
        library_media(owner, jpeg("red"), "a.jpg", "image/jpeg"),
        library_media(owner, jpeg("blue"), "b.jpg", "image/jpeg"),
        library_media(owner, MP4, "v.mp4", "video/mp4"),
    )
    post = draft("three things", *items)
    with pytest.raises(ContainerProcessing) as processing:
        account.publish(post)  # the video item is still processing
    assert len(processing.value.media_ids) == 4  # three items, the carousel not made yet
    account.publish(post, media_ids=processing.value.media_ids)
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert account.find_published(post, since=since) is not None
    assert graph.events()[-1]["text"] == "three things"


def test_the_quota_is_read_and_respected(account, graph, owner):
    graph._call("POST", "meta/configure", json={"quota_total": 1})
    account.publish(draft("first", library_media(owner, jpeg(), "a.jpg", "image/jpeg")))
    second = draft("second", library_media(owner, jpeg("blue"), "b.jpg", "image/jpeg"), key="k2")
    with pytest.raises(RateLimited, match="limit of 1 posts in 24 hours") as limited:
        account.publish(second)
    assert 23 * 3600 < limited.value.retry_after <= 24 * 3600
    assert routes(graph).get("meta.media.create") == 1  # nothing fetched for the held post


def test_quota_error_from_publish_is_rate_limited(account, graph, owner):
    graph._call(
        "POST",
        "meta/configure",
        json={"faults": [{"route": "meta.media_publish", "code": 9, "subcode": 2207042,
                          "message": "Application request limit reached"}]},
    )  # fmt: skip
    with pytest.raises(RateLimited):
        account.publish(draft("x", library_media(owner, jpeg(), "a.jpg", "image/jpeg")))


def test_unreachable_site_address_is_said_clearly(account, graph, owner, settings):
    media = library_media(owner, jpeg(), "a.jpg", "image/jpeg")
    settings.SITE_URL = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(Rejected, match="could not fetch the file.*CHORUS_SITE_URL"):
        account.publish(draft("x", media))
    assert graph.events() == []


def test_changed_file_is_not_served(account, graph, owner):
    media = library_media(owner, jpeg(), "a.jpg", "image/jpeg")
    forged = Media(jpeg("green"), media.mime_type, filename=media.filename)
    with pytest.raises(Rejected, match="could not fetch"):
        account.publish(draft("x", forged))


def test_refusals_before_any_call(account, graph, owner):
    png = Media(b"\x89PNG", "image/png", filename="p.png")
    with pytest.raises(Rejected, match="JPEG"):
        account.publish(draft("x", png))
    with pytest.raises(Rejected, match="needs a photo or a video"):
        account.publish(draft("text only"))
    tags = " ".join(f"#t{i}" for i in range(31))
    with pytest.raises(Rejected, match="31 hashtags"):
        account.publish(draft(tags, Media(jpeg(), "image/jpeg", filename="a.jpg")))
    mentions = " ".join(f"@user{i}" for i in range(21))
    with pytest.raises(Rejected, match="21 mentions"):
        account.publish(draft(mentions, Media(jpeg(), "image/jpeg", filename="a.jpg")))
    with pytest.raises(Rejected, match="2201 characters"):
        account.publish(draft("ก" * 2201, Media(jpeg(), "image/jpeg", filename="a.jpg")))
    assert not any(name.startswith("meta.media") for name in routes(graph))


def test_comments_are_read_and_answered(account, graph, owner):
    post = account.publish(draft("hello", library_media(owner, jpeg(), "a.jpg", "image/jpeg")))
    start = account.fetch_interactions()
    graph._call("POST", "meta/comment", json={"on": post.ref.remote_id, "message": "สวยมาก"})
    page = account.fetch_interactions(start.cursor)
    assert [(i.kind, i.text, i.subject.remote_id) for i in page.items] == [
        ("reply", "สวยมาก", post.ref.remote_id)
    ]
    answer = draft("ขอบคุณค่ะ", key="k9", reply_to=RemoteRef(page.items[0].remote_id))
    since = datetime.now(UTC) - timedelta(seconds=1)
    reply = account.publish(answer)
    assert account.find_published(answer, since=since).ref == reply.ref
    on_post = draft("a note on our own post", key="k10", reply_to=post.ref)
    assert account.publish(on_post).ref.remote_id
    assert account.fetch_interactions(page.cursor).items == ()


def test_metrics_delete_and_account(account, graph, owner):
    post = account.publish(draft("m", library_media(owner, jpeg(), "a.jpg", "image/jpeg")))
    graph._call("POST", "meta/comment", json={"on": post.ref.remote_id, "message": "1"})
    (metrics,) = account.fetch_post_metrics([post.ref])
    assert metrics.replies == 1 and {"reach", "saved", "views"} <= set(metrics.extra)
    assert "shares" not in metrics.extra  # not reported by this API: left out, not zero
    with pytest.raises(Rejected, match="delete it in the Instagram app"):
        account.delete(post.ref)
    assert account.fetch_account_metrics().posts == 1


def test_page_without_instagram_offers_none(graph, http):
    accounts = sign_in(graph, http)
    token = accounts["facebook"].credentials.secrets["access_token"]
    assert token  # a Page token cannot list Pages: only the user's token can
    with pytest.raises(Rejected):
        managed_accounts(token, http=http)


def test_a_lost_publish_answer_is_never_published_again(account, graph, owner):
    graph._call(
        "POST",
        "meta/configure",
        json={"faults": [{"route": "meta.media_publish", "status": 500, "code": 2,
                          "after_commit": True}]},
    )  # fmt: skip
    since = datetime.now(UTC) - timedelta(seconds=1)
    post = draft("once", library_media(owner, jpeg(), "a.jpg", "image/jpeg"))
    with pytest.raises(Transient) as lost:
        account.publish(post)
    with pytest.raises(Transient, match="already published"):
        account.publish(post, media_ids=lost.value.media_ids)  # not reconciled: sends nothing
    assert account.find_published(post, since=since) is not None
    assert len(graph.events()) == 1
    assert routes(graph)["meta.media.create"] == 1  # the container was reused, not remade


def test_expired_containers_are_made_again(account, graph, owner):
    reel = draft("late reel", library_media(owner, MP4, "v.mp4", "video/mp4"))
    with pytest.raises(ContainerProcessing) as first:
        account.publish(reel)
    graph._call("POST", "meta/expire", json={})
    with pytest.raises(ContainerExpired) as expired:
        account.publish(reel, media_ids=first.value.media_ids)
    assert expired.value.media_ids == ()  # nothing left to reuse
    with pytest.raises(ContainerProcessing) as again:
        account.publish(reel)  # new containers, processing again
    assert account.publish(reel, media_ids=again.value.media_ids).ref.remote_id
    assert routes(graph)["meta.media.create"] == 2 and len(graph.events()) == 1
