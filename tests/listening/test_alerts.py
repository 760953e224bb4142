"""Alerts: a replayed stream with one spike alerts once, the flat part never, the cooldown
holds, deliveries go in-app, by e-mail and to a signed webhook, and refusals are recorded."""

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.test import Client

from chorus.accounts.models import Notification
from chorus.core.errors import NotAllowed, ServiceError
from chorus.listening import alerts, services
from chorus.listening.models import Alert, AlertRule
from tests.listening import spike_stream

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)  # a Monday morning


@pytest.fixture
def query(owner):
    topic = services.topic_create(actor=owner, name="Coffee", kind="brand")
    return services.query_create(actor=owner, topic=topic, name="Us", text="chorus")


def replay(stream, *, every=dt.timedelta(minutes=1)):
    """Run the detector once a minute over the replayed minutes; the alerts it fired."""
    fired = []
    moment = stream.start
    while moment <= stream.start + stream.minutes * spike_stream.MINUTE:
        fired += alerts.detect(now=moment)
        moment += every
    return fired


def test_a_spike_alerts_once_and_the_flat_part_never(owner, query):
    alerts.rule_create(actor=owner, topic=query.topic, kind="volume", notify_members=False)
    stream = spike_stream.store(query, start=START, minutes=180, spike_minute=90)
    fired = replay(stream)
    assert len(fired) == 1
    alert = fired[0]
    assert stream.spike_at < alert.window_end <= stream.spike_at + 2 * spike_stream.MINUTE
    assert alert.observed >= alert.threshold > alert.baseline
    assert f"/listening/topics/{query.topic.pk}/?since=" in alert.link


def test_no_alert_without_a_spike_and_none_below_the_minimum_count(owner, query):
    alerts.rule_create(actor=owner, topic=query.topic, kind="volume", notify_members=False)
    assert replay(spike_stream.store(query, start=START, minutes=240)) == []
    Alert.objects.all().delete()
    # A quiet topic with no history: a few posts a minute at night, then a few more, stay
    # under the minimum count.
    other = services.topic_create(actor=owner, name="Quiet", kind="brand")
    quiet = services.query_create(actor=owner, topic=other, name="Q", text="quiet")
    alerts.rule_create(actor=owner, topic=other, kind="volume", min_count=50)
    stream = spike_stream.store(
        quiet,
        start=START + dt.timedelta(hours=16),
        minutes=30,
        weeks=0,
        spike_minute=5,
        spike_rate=1,
        spike_length=5,
        seed=3,
    )
    assert not [a for a in replay(stream) if a.topic_id == other.pk]


def test_the_cooldown_holds_and_a_short_one_fires_again(owner, query):
    long = alerts.rule_create(
        actor=owner, topic=query.topic, kind="volume", cooldown_minutes=60, notify_members=False
    )
    short = alerts.rule_create(
        actor=owner, topic=query.topic, kind="volume", cooldown_minutes=3, notify_members=False
    )
    stream = spike_stream.store(query, start=START, minutes=120, spike_minute=30, spike_length=20)
    replay(stream)
    assert long.alerts.count() == 1
    assert short.alerts.count() > 1
    times = list(short.alerts.order_by("window_end").values_list("window_end", flat=True))
    assert all(b - a >= dt.timedelta(minutes=3) for a, b in zip(times, times[1:], strict=False))


def test_negative_share_skips_unknown_sentiment(owner, query):
    rule = alerts.rule_create(
        actor=owner, topic=query.topic, kind="negative_share", min_count=10, notify_members=False
    )
    stream = spike_stream.store(
        query, start=START, minutes=120, spike_minute=60, negative_spike=True
    )
    reading = alerts.read(rule, stream.start + 30 * spike_stream.MINUTE)
    total = alerts._mentions(
        rule, stream.start + 15 * spike_stream.MINUTE, stream.start + 30 * spike_stream.MINUTE
    ).count()
    assert 0 < reading.posts < total  # posts of unknown sentiment were not counted
    fired = replay(stream)
    assert len(fired) == 1
    assert stream.spike_at <= fired[0].window_end


def test_in_app_and_email_go_through_the_notifications(
    owner, make_member, query, mailoutbox, django_capture_on_commit_callbacks
):
    viewer = make_member("viewer", workspace=owner.workspace)
    alerts.rule_create(actor=owner, topic=query.topic, kind="volume", email_members=[viewer])
    stream = spike_stream.store(query, start=START, minutes=100, spike_minute=90)
    with django_capture_on_commit_callbacks(execute=True):
        replay(stream)
    assert Notification.objects.filter(user=owner.user).count() == 1
    note = Notification.objects.get(user=viewer.user)
    assert "Coffee" in note.message and note.url.startswith("/listening/topics/")
    assert [m.to for m in mailoutbox] == [[viewer.user.email]]


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


def test_the_webhook_receives_a_signed_body(owner, query, receiver):
    url, received = receiver
    rule = alerts.rule_create(
        actor=owner, topic=query.topic, kind="volume", webhook_url=url, notify_members=False
    )
    [alert] = replay(spike_stream.store(query, start=START, minutes=100, spike_minute=90))
    [(headers, body)] = received
    expected = hmac.new(rule.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Chorus-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["topic"]["name"] == "Coffee" and payload["alert"] == alert.pk
    assert Alert.objects.get().deliveries == [
        {"channel": "webhook", "to": url, "ok": True, "status": 204}
    ]


@pytest.mark.parametrize("url", ["http://10.0.0.7/hook", "http://169.254.169.254/latest"])
def test_a_webhook_to_a_private_address_is_refused_and_recorded(owner, query, url):
    alerts.rule_create(
        actor=owner, topic=query.topic, kind="volume", webhook_url=url, notify_members=False
    )
    fired = replay(spike_stream.store(query, start=START, minutes=100, spike_minute=90))
    assert len(fired) == 1
    [delivery] = Alert.objects.get().deliveries
    assert delivery["ok"] is False and "not reachable" in delivery["detail"]


def test_rules_are_checked_and_only_managers_write_them(owner, make_member, query):
    viewer = make_member("viewer", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        alerts.rule_create(actor=viewer, topic=query.topic, kind="volume")
    with pytest.raises(ServiceError) as caught:
        alerts.rule_create(actor=owner, topic=query.topic, kind="volume", webhook_url="ftp://x")
    assert caught.value.field == "webhook_url"
    with pytest.raises(ServiceError) as caught:
        alerts.rule_create(actor=owner, topic=query.topic, kind="volume", sensitivity=0)
    assert caught.value.field == "sensitivity"


def test_pages_and_api(owner, make_member, query, api_token_for):
    client = Client()
    client.force_login(owner.user)
    response = client.post(
        f"/listening/topics/{query.topic.pk}/alert-rules/",
        {
            "kind": "volume",
            "sensitivity": "4",
            "min_count": "10",
            "window_minutes": "5",
            "cooldown_minutes": "60",
            "notify_members": "on",
            "query": "",
        },
    )
    assert response.status_code == 302
    rule = query.topic.alert_rules.get()
    replay(spike_stream.store(query, start=START, minutes=100, spike_minute=90))
    page = client.get("/listening/alerts/")
    assert page.status_code == 200 and "Coffee" in page.content.decode()
    topic_page = client.get(Alert.objects.get().link)
    assert topic_page.status_code == 200
    token = api_token_for(owner, ["listening:read"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = Client().get("/api/v1/listening/alerts", **auth).json()
    assert listed["items"][0]["topic_id"] == query.topic.pk
    AlertRule.objects.filter(pk=rule.pk).update(webhook_secret="k3y")
    rules = Client().get(f"/api/v1/listening/topics/{query.topic.pk}/alert-rules", **auth).json()
    assert rules[0]["webhook_secret"] == "k3y"
    assert [r["id"] for r in rules] == [rule.pk]
    viewer = make_member("viewer", workspace=owner.workspace)
    seen = (
        Client()
        .get(
            f"/api/v1/listening/topics/{query.topic.pk}/alert-rules",
            HTTP_AUTHORIZATION=f"Bearer {api_token_for(viewer, ['listening:read'])}",
        )
        .json()
    )
    assert seen[0]["webhook_secret"] == ""  # the signing key is for managers only
    assert Client().delete(f"/api/v1/listening/alert-rules/{rule.pk}", **auth).status_code == 403


def test_incoming_posts_check_the_rules_at_once(owner, query):
    """A spike arriving through ingest alerts without waiting for the minute task."""
    from chorus.listening.matcher import ListeningPost
    from chorus.listening.services import IncomingPost

    alerts._last_ingest_check.clear()
    alerts.rule_create(actor=owner, topic=query.topic, kind="volume", notify_members=False)
    now = dt.datetime.now(dt.UTC)
    spike_stream.store(query, start=now - dt.timedelta(minutes=90), minutes=90)
    assert alerts.detect(now=now) == []
    posts = [
        IncomingPost(
            post=ListeningPost.from_text(f"chorus spike {n}", network="bluesky", lang="en"),
            uri=f"at://spike/{n}",
            posted_at=now,
        )
        for n in range(150)
    ]
    assert services.ingest(posts) == 150
    assert Alert.objects.filter(rule__topic=query.topic).count() == 1
