"""Partitioning through Redis Streams (the Redis on 127.0.0.1:6379): a source's batch goes to
the stream when CHORUS_LISTENING_BROKER is set, matchers of one consumer group store each post
once, and the entries of a matcher that died are taken over."""

import datetime as dt
import uuid

import pytest
import redis

from chorus.listening import pipeline, services
from chorus.listening.matcher import ListeningPost
from chorus.listening.models import Mention, Source
from chorus.listening.services import IncomingPost

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def broker():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not running on 127.0.0.1:6379: {exc}", pytrace=False)
    broker = pipeline.Broker(REDIS_URL, stream=f"chorus:test:{uuid.uuid4().hex}")
    yield broker
    broker.redis.delete(broker.stream)


def incoming(i, text="chorus news"):
    return IncomingPost(
        post=ListeningPost(
            text=f"{text} {i}",
            network="mastodon",
            lang="en",
            author=f"ann{i}@far.example",
            hashtags=("chorus",),
            links=("https://shop.example/",),
        ),
        uri=f"https://far.example/statuses/{i}",
        url=f"https://far.example/@ann/{i}",
        posted_at=dt.datetime(2026, 12, 1, 10, i % 60, tzinfo=dt.UTC),
        author_followers=i,
    )


def test_a_post_survives_the_trip_through_the_stream():
    item = incoming(7, "ร้านชอรัส")
    assert pipeline.decode(pipeline.encode(item)) == item


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_source_batch_goes_to_the_stream_and_two_matchers_store_it_once(
    owner, broker, settings, monkeypatch
):
    topic = services.topic_create(actor=owner, name="Us")
    services.query_create(actor=owner, topic=topic, name="Us", text="chorus")
    settings.CHORUS_LISTENING_BROKER = REDIS_URL
    monkeypatch.setattr(pipeline, "STREAM", broker.stream)
    source = services.source_register(name="through redis", kind="mastodon", url="x")
    posts = [incoming(i) for i in range(30)]
    assert pipeline.source_batch(source_id=source.pk, posts=posts, cursor=30, frames=30) == 0
    assert Mention.objects.count() == 0  # nothing stored by the reading process
    source.refresh_from_db()
    assert source.cursor == 30 and source.posts_seen == 30
    assert broker.redis.xlen(broker.stream) == 30

    one = pipeline.Matcher(broker, name="one", count=7, block_ms=10)
    two = pipeline.Matcher(broker, name="two", count=7, block_ms=10)
    handled = {"one": 0, "two": 0}
    while (done := one.step()) + (more := two.step()):
        handled["one"] += done
        handled["two"] += more
    assert handled["one"] > 0 and handled["two"] > 0 and sum(handled.values()) == 30
    assert Mention.objects.count() == 30 and one.stored + two.stored == 30
    assert broker.redis.xpending(broker.stream, broker.group)["pending"] == 0
    assert Mention.objects.get(uri="https://far.example/statuses/3").author_followers == 3
    assert Source.objects.get(pk=source.pk).posts_seen == 30


@pytest.mark.django_db(transaction=True)
def test_the_entries_of_a_matcher_that_died_are_taken_over_and_stored_once(
    owner, broker, monkeypatch
):
    topic = services.topic_create(actor=owner, name="Us")
    services.query_create(actor=owner, topic=topic, name="Us", text="chorus")
    broker.publish([incoming(i) for i in range(10)])
    doomed = pipeline.Matcher(broker, name="doomed", count=4, block_ms=10)

    ingest = services.ingest

    def die(posts):
        ingest(posts[:2])  # stored two, then the process was killed: no XACK
        raise SystemExit("killed")

    monkeypatch.setattr(services, "ingest", die)
    with pytest.raises(SystemExit):
        doomed.step()
    monkeypatch.undo()
    assert broker.redis.xpending(broker.stream, broker.group)["pending"] == 4

    survivor = pipeline.Matcher(broker, name="survivor", count=20, block_ms=10, claim_idle=0)
    while survivor.step():
        pass
    assert broker.redis.xpending(broker.stream, broker.group)["pending"] == 0
    assert Mention.objects.count() == 10  # the two the dead one stored are not doubled
    assert survivor.stored == 8


@pytest.mark.django_db(transaction=True)
def test_an_entry_that_is_not_a_post_is_acknowledged_and_counted(broker):
    broker.ensure_group()
    broker.redis.xadd(broker.stream, {"post": "{not json"})
    matcher = pipeline.Matcher(broker, name="m", block_ms=10)
    assert matcher.step() == 1 and matcher.malformed == 1
    assert broker.redis.xpending(broker.stream, broker.group)["pending"] == 0
