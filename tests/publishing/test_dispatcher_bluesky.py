"""The dispatcher publishing to the real local Bluesky network: threads, facets, once only."""

import httpx
import pytest

from chorus.networks import services as network_services
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def bluesky_account(owner, settings, bluesky_server):
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": bluesky_server.plc_url}}
    first = bluesky_server.accounts[0]
    return network_services.account_connect_with_password(
        actor=owner,
        provider_key="bluesky",
        identifier=first.handle,
        password=first.password,
        service_url=bluesky_server.pds_url,
    )


def record(server, uri):
    _, _, rest = uri.partition("at://")
    repo, collection, rkey = rest.split("/")
    response = httpx.get(
        f"{server.pds_url}/xrpc/com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
    )
    response.raise_for_status()
    return response.json()["value"]


def test_thread_with_hashtag_and_link_is_published_once(owner, bluesky_account, bluesky_server):
    text = "ប្រកាស #ChorusTest https://example.org/khmer"
    post = services.post_save(
        actor=owner,
        variants=[
            services.VariantInput(
                account_id=bluesky_account.pk, text=text, thread=["ภาคสอง 🙂 part two"]
            )
        ],
    )
    services.post_publish_now(actor=owner, post=post)
    crashed = Dispatcher()
    work = crashed.claim()
    crashed.send(work)  # sent, then the process "dies" before recording
    from datetime import timedelta

    from django.utils import timezone

    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=6))
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED
    assert variant.remote_url.startswith("https://bsky.app/profile/")
    first = record(bluesky_server, variant.parts_published[0]["id"])
    second = record(bluesky_server, variant.parts_published[1]["id"])
    assert first["text"] == text
    tag = next(f for f in first["facets"] if f["features"][0]["$type"].endswith("#tag"))
    start, end = tag["index"]["byteStart"], tag["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == "#ChorusTest"
    assert second["reply"]["parent"]["uri"] == variant.parts_published[0]["id"]
    assert second["reply"]["root"]["uri"] == variant.parts_published[0]["id"]
    with bluesky_server.client() as http:
        feed = http.get(
            "/xrpc/com.atproto.repo.listRecords",
            params={"repo": bluesky_account.remote_id, "collection": "app.bsky.feed.post"},
        ).json()["records"]
    assert sum(1 for r in feed if r["value"]["text"] == text) == 1
