"""Push for the inbox (`inbox.streams`): pushed items are stored without moving the poll
cursor, a broken stream reconnects with a capped, jittered back-off, and a server without
an event stream is left to polling."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.inbox import ingest, streams
from chorus.inbox.models import Message, PollState
from chorus.networks import services as network_services
from chorus.networks.providers.base import InteractionPage, Transient
from chorus.networks.providers.mastodon_streaming import StreamingUnavailable
from tests.inbox.conftest import item

pytestmark = pytest.mark.django_db(transaction=True)


def test_backoff_doubles_is_capped_and_jittered():
    assert streams.backoff(1, rand=lambda: 0.0) == streams.FIRST_WAIT / 2
    assert streams.backoff(1, rand=lambda: 1.0) == streams.FIRST_WAIT
    assert streams.backoff(3, rand=lambda: 1.0) == streams.FIRST_WAIT * 4
    assert streams.backoff(40, rand=lambda: 1.0) == streams.LONGEST_WAIT
    assert streams.backoff(40, rand=lambda: 0.0) == streams.LONGEST_WAIT / 2


class _Provider:
    """A provider whose stream plays scripted connections: each a list of items, ended
    by the exception given (or by the test's stop)."""

    def __init__(self, connections, stop):
        self.connections = connections
        self.stop = stop
        self.opened = 0

    def stream_interactions(self):
        self.opened += 1
        items, ending = self.connections.pop(0)
        yield from items
        if not self.connections:
            self.stop.set()
        raise ending


def _fake(monkeypatch, provider):
    @contextmanager
    def provider_for(account):
        yield provider

    monkeypatch.setattr(network_services, "provider_for", provider_for)
    monkeypatch.setattr(streams, "backoff", lambda failures: 0)


def test_a_dropped_stream_reconnects_and_asks_the_poller_to_fill_the_gap(account, monkeypatch):
    ingest.store_page(account, InteractionPage(items=(), cursor="c1"), now=timezone.now())
    later = timezone.now() + timedelta(hours=1)
    PollState.objects.filter(account=account).update(next_poll_at=later)
    stop = threading.Event()
    provider = _Provider(
        [([item(1)], Transient("closed")), ([item(1), item(2)], Transient("closed"))], stop
    )
    _fake(monkeypatch, provider)
    stream = streams.AccountStream(account.pk, stop)
    stream.run()  # in this thread: returns when the script is over
    assert provider.opened == 2
    assert sorted(Message.objects.values_list("remote_id", flat=True)) == ["1", "2"]
    state = PollState.objects.get(account=account)
    assert state.cursor == "c1"  # pushed items never move the cursor
    assert state.next_poll_at < later  # the poller reads what came while it was down
    assert state.stream_until is None and not state.streaming  # the stream is closed


def test_a_server_without_a_stream_is_left_to_polling(account, monkeypatch):
    stop = threading.Event()
    provider = _Provider([([], StreamingUnavailable("no event stream"))], threading.Event())
    _fake(monkeypatch, provider)
    stream = streams.AccountStream(account.pk, stop)
    stream.run()
    assert provider.opened == 1 and stream.unavailable
    consumer = streams.StreamConsumer()
    consumer.streams[account.pk] = stream
    monkeypatch.setattr(streams, "AccountStream", pytest.fail)  # no new thread is started
    consumer.rescan()
    assert account.pk in consumer.unavailable and not consumer.streams


def test_the_health_strip_says_live_or_polling(client, owner, account):
    ingest.store_page(account, InteractionPage(items=(), cursor=""), now=timezone.now())
    PollState.objects.filter(account=account).update(backfill_done=True)
    client.force_login(owner.user)
    assert 'data-delivery="polling"' in client.get("/inbox/").content.decode()
    PollState.objects.filter(account=account).update(stream_until=timezone.now() + streams.LIVE_FOR)
    body = client.get("/inbox/").content.decode()
    assert 'data-delivery="streaming"' in body and "live (streaming)" in body
