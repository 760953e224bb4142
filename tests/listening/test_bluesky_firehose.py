"""The repository firehose of the local reference Bluesky network (tests/servers): posts
written to its PDS arrive through com.atproto.sync.subscribeRepos (CBOR frames, CAR blocks),
are matched and stored; a restarted consumer resumes from the saved `seq`."""

import uuid

import httpx
import pytest
from django.utils import timezone

from chorus.listening import services
from chorus.listening.matcher import ListeningPost
from chorus.listening.models import Mention, Source
from chorus.listening.sources.consumer import FIREHOSE, Consumer, firehose_url
from tests.listening.test_sources import drive

pytestmark = pytest.mark.django_db(transaction=True)


def create_post(server, account, text, **record):
    session = server.session(account)
    with httpx.Client(base_url=server.pds_url, timeout=20) as http:
        response = http.post(
            "/xrpc/com.atproto.repo.createRecord",
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            json={
                "repo": session["did"],
                "collection": "app.bsky.feed.post",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": text,
                    "createdAt": "2026-12-01T10:00:00.000Z",
                    **record,
                },
            },
        )
    response.raise_for_status()
    return response.json()["uri"]


def test_firehose_posts_are_matched_and_a_restart_resumes(bluesky_server, owner):
    marker = "lst" + uuid.uuid4().hex[:8]
    topic = services.topic_create(actor=owner, name="Firehose")
    services.query_create(actor=owner, topic=topic, name="Marker", text=f"{marker} OR #{marker}")
    alice, bob = bluesky_server.accounts[:2]
    first = create_post(bluesky_server, alice, f"ร้านกาแฟ {marker} เปิดใหม่", langs=["th"])
    second = create_post(bluesky_server, bob, f"Hello #{marker}")
    create_post(bluesky_server, bob, "nothing to see here")
    Source.objects.create(name="pds", kind=FIREHOSE, url="", cursor=0)  # replay from the start

    def consumer():
        return Consumer(
            name="pds",
            kind=FIREHOSE,
            url=firehose_url(bluesky_server.pds_url),
            flush_seconds=0.2,
            first_backoff=0.1,
        )

    drive(consumer(), lambda: Mention.objects.count() >= 2)
    assert set(Mention.objects.values_list("uri", flat=True)) == {first, second}
    thai = Mention.objects.get(uri=first)
    assert thai.language == "th" and thai.network == "bluesky"
    assert Mention.objects.get(uri=second).hashtags == [marker]
    cursor = Source.objects.get(name="pds").cursor
    assert cursor and cursor > 0

    third = create_post(bluesky_server, alice, f"{marker} again")
    drive(consumer(), lambda: Mention.objects.count() >= 3)
    assert set(Mention.objects.values_list("uri", flat=True)) == {first, second, third}
    assert Source.objects.get(name="pds").cursor > cursor


def test_reach_and_handle_come_from_the_appview(bluesky_server, owner):
    alice = bluesky_server.accounts[0]
    services.topic_create(actor=owner, name="Reach")
    topic = owner.workspace.listening_topics.get()
    services.query_create(actor=owner, topic=topic, name="Any", text="reachcheck")
    services.ingest(
        [
            services.IncomingPost(
                post=ListeningPost(text="reachcheck", network="bluesky", author=alice.did),
                uri=f"at://{alice.did}/app.bsky.feed.post/3kreach",
                posted_at=timezone.now(),
            )
        ]
    )
    # An AppView that is down changes nothing and raises nothing; the next round fills in.
    assert services.mentions_enrich(appview_url="http://127.0.0.1:9") == 0
    assert Mention.objects.get().reach is None
    assert services.mentions_enrich(appview_url=bluesky_server.appview_url) == 1
    mention = Mention.objects.get()
    assert mention.author == alice.handle and mention.reach is not None
