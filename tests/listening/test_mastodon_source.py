"""Mastodon sources: decoding Status events, and reading the public, public:remote and hashtag
streams of the stateful Mastodon test server (tests/servers/mastodon_server.py) over the
WebSocket and, where the server refuses it, server-sent events; a drop mid-stream is filled in
from the timeline, a malformed event is counted and skipped, a new query's hashtags are
back-filled from the tag timeline."""

import json
import time

import pytest

from chorus.listening import services
from chorus.listening.models import Mention, Source
from chorus.listening.sources.bluesky import MalformedFrame
from chorus.listening.sources.mastodon import (
    MastodonConsumer,
    MastodonStream,
    decode_mastodon,
)
from chorus.networks.models import SocialAccount
from chorus.networks.providers.mastodon_streaming import Event
from tests.listening.test_sources import drive


def status(status_id="101", content="<p>Hello</p>", **extra):
    return {
        "id": status_id,
        "uri": f"https://far.example/users/ann/statuses/{status_id}",
        "url": f"https://far.example/@ann/{status_id}",
        "created_at": "2026-12-01T10:00:00.000Z",
        "visibility": "public",
        "language": "en",
        "content": content,
        "spoiler_text": "",
        "account": {"acct": "ann@far.example", "followers_count": 321},
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        **extra,
    }


def test_a_websocket_update_is_a_post_with_its_entities():
    content = (
        '<p>Try <a href="https://far.example/tags/chorus" class="mention hashtag">#<span>chorus'
        '</span></a> with <span class="h-card"><a href="https://x.example/@bo" class="u-url '
        'mention">@<span>bo</span></a></span> at <a href="https://shop.example/sale/2026" '
        'rel="nofollow"><span>shop.example/sale/</span><span class="invisible">2026</span></a></p>'
    )
    message = {
        "stream": ["public"],
        "event": "update",
        "payload": json.dumps(
            status(
                content=content,
                spoiler_text="Deals",
                tags=[{"name": "chorus"}],
                mentions=[{"acct": "bo@x.example"}],
                media_attachments=[{"type": "image"}],
            )
        ),
    }
    frame = decode_mastodon(json.dumps(message))
    assert frame.cursor == 101
    (item,) = frame.posts
    assert item.uri == "https://far.example/users/ann/statuses/101"
    assert item.post.text.startswith("Deals\n\nTry #chorus with @bo at shop.example/sale/2026")
    assert item.post.hashtags == ("chorus",) and item.post.mentions == ("bo@x.example",)
    assert item.post.links == ("https://shop.example/sale/2026",)
    assert item.post.has_media and item.post.author == "ann@far.example"
    assert item.author_followers == 321 and item.post.network == "mastodon"


def test_server_sent_events_decode_the_same():
    frame = decode_mastodon(Event("update", json.dumps(status("7"))))
    assert frame.cursor == 7 and frame.posts[0].post.text == "Hello"


def test_other_events_and_boosts_store_nothing():
    assert decode_mastodon(Event("delete", "101")).posts == []
    assert decode_mastodon(Event("status.update", json.dumps(status()))).posts == []
    boost = decode_mastodon(Event("update", json.dumps(status("9", reblog=status()))))
    assert boost.posts == [] and boost.cursor == 9


@pytest.mark.parametrize(
    "message",
    [
        "{not json",
        json.dumps({"stream": ["public"]}),
        json.dumps({"event": "update", "payload": "{nope"}),
        json.dumps({"event": "update", "payload": json.dumps({"id": "1"})}),
    ],
)
def test_malformed_messages_raise(message):
    with pytest.raises(MalformedFrame):
        decode_mastodon(message)


def test_a_stream_names_its_server_and_tag():
    stream = MastodonStream("Social.Example/", "hashtag", tag="#Chorus", token="secret")
    assert stream.name == "mastodon https://social.example hashtag #Chorus"
    assert "secret" not in repr(stream)
    with pytest.raises(ValueError):
        MastodonStream("social.example", "hashtag")


def wait_for(condition, limit=30.0):
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def post(mastodon_server, token, text, **fields):
    with mastodon_server.client(token) as client:
        response = client.post("/api/v1/statuses", data={"status": text, **fields})
        response.raise_for_status()
        return response.json()


def topic_with(owner, text):
    topic = services.topic_create(actor=owner, name=f"Topic {text}")
    services.query_create(actor=owner, topic=topic, name="Us", text=text)
    return topic


@pytest.mark.django_db(transaction=True)
def test_public_stream_over_websocket_survives_a_drop_and_a_malformed_event(owner, mastodon_server):
    topic_with(owner, "chorusdrop")
    _name, token = mastodon_server.new_user("poster")
    consumer = MastodonConsumer(
        MastodonStream(mastodon_server.base_url, "public"),
        flush_seconds=0.1,
        first_backoff=1.0,
        max_backoff=1.0,
    )
    steps = []

    def script():
        stored = Mention.objects.filter(network="mastodon", text__contains="chorusdrop").count()
        if not steps and mastodon_server.streams():
            post(mastodon_server, token, "chorusdrop one")
            steps.append("first")
        elif steps == ["first"] and stored == 1:
            mastodon_server.send_event("public", "update", "{not a status")
            post(mastodon_server, token, "chorusdrop two")
            steps.append("second")
        elif steps == ["first", "second"] and stored == 2:
            assert mastodon_server.cut_streams() >= 1
            wait_for(lambda: mastodon_server.streams() == 0)
            post(mastodon_server, token, "chorusdrop three, while the stream is down")
            steps.append("dropped" if mastodon_server.streams() == 0 else "raced")
        return stored >= 3

    drive(consumer, script)
    assert steps == ["first", "second", "dropped"]  # the third post was never on the stream
    texts = sorted(Mention.objects.filter(network="mastodon").values_list("text", flat=True))
    assert texts == [
        "chorusdrop one",
        "chorusdrop three, while the stream is down",
        "chorusdrop two",
    ]
    source = Source.objects.get(name=consumer.name)
    assert source.kind == "mastodon" and source.malformed_frames == 1
    assert source.reconnects >= 1 and source.state == "stopped"
    newest = Mention.objects.get(text__startswith="chorusdrop three")
    assert source.cursor == int(newest.url.rsplit("/", 1)[1])
    assert source.events_per_second is not None and source.lag_seconds is not None
    assert newest.author.startswith("poster") and newest.uri.startswith("https://")


@pytest.mark.django_db(transaction=True)
def test_hashtag_stream_falls_back_to_server_sent_events(owner, mastodon_server):
    topic_with(owner, "#chorussse OR chorussse")
    _name, token = mastodon_server.new_user("tagger")
    consumer = MastodonConsumer(
        MastodonStream(mastodon_server.base_url, "hashtag", tag="chorussse", token=token),
        flush_seconds=0.1,
    )
    mastodon_server.cutter.refuse_websocket = True
    sent = []

    def script():
        if not sent and mastodon_server.streams():
            post(mastodon_server, token, "chorussse without the tag")  # not on this stream
            post(mastodon_server, token, "tagged #chorussse")
            sent.append(True)
        return Mention.objects.filter(network="mastodon").exists()

    try:
        drive(consumer, script)
    finally:
        mastodon_server.cutter.refuse_websocket = False
    time.sleep(0.3)
    assert list(Mention.objects.values_list("text", "hashtags")) == [
        ("tagged #chorussse", ["chorussse"])
    ]
    assert consumer._websocket is False


@pytest.mark.django_db(transaction=True)
def test_public_remote_stream_carries_other_servers_posts_only(owner, mastodon_server):
    topic_with(owner, "chorusfar")
    _name, local_token = mastodon_server.new_user("near")
    acct, remote_token = mastodon_server.new_remote_user("far.example")
    consumer = MastodonConsumer(
        MastodonStream(mastodon_server.base_url, "public:remote"), flush_seconds=0.1
    )
    sent = []

    def script():
        if not sent and mastodon_server.streams():
            post(mastodon_server, local_token, "chorusfar from here")
            post(mastodon_server, remote_token, "chorusfar from afar")
            sent.append(True)
        return Mention.objects.exists()

    drive(consumer, script)
    assert list(Mention.objects.values_list("text", "author")) == [("chorusfar from afar", acct)]


@pytest.mark.django_db(transaction=True)
def test_a_new_query_backfills_its_hashtags_from_connected_servers(owner, mastodon_server):
    username, token = mastodon_server.new_user("backfill")
    for i in range(45):  # more than one page of the tag timeline
        post(mastodon_server, token, f"post {i} #chorusback")
    post(mastodon_server, token, "private #chorusback", visibility="private")
    SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="1",
        handle=username,
        identity={"server_url": mastodon_server.base_url},
        secrets={"access_token": token},
    )
    topic_with(owner, "#chorusback")  # the task runs inline on commit in tests
    assert Mention.objects.filter(network="mastodon").count() == 45
