"""Topics, queries and stored matches through the services, the API and the pages."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from chorus.core.errors import NotAllowed, ServiceError
from chorus.governance.models import AuditEntry
from chorus.listening import selectors, services
from chorus.listening.matcher import ListeningPost
from chorus.listening.models import Mention, SamplePost
from chorus.listening.services import IncomingPost

pytestmark = pytest.mark.django_db


def incoming(
    text, uri, *, network="bluesky", lang="en", author="ann.example", days_ago=0, followers=None
):
    return IncomingPost(
        post=ListeningPost.from_text(text, network=network, lang=lang, author=author),
        uri=uri,
        posted_at=timezone.now() - dt.timedelta(days=days_ago),
        author_followers=followers,
    )


@pytest.fixture
def topic(owner):
    topic = services.topic_create(actor=owner, name="Coffee", kind="brand")
    services.query_create(
        actor=owner, topic=topic, name="Us", role="brand", text='chorus OR #chorus OR "ชอรัส คาเฟ่"'
    )
    services.query_create(
        actor=owner, topic=topic, name="Rival", role="competitor", text="rivalcafe OR กาแฟดำ"
    )
    return topic


def test_a_query_that_does_not_parse_is_refused_with_its_column(owner, topic):
    with pytest.raises(ServiceError) as caught:
        services.query_create(actor=owner, topic=topic, name="Bad", text="a AND b NEAR/ late")
    assert caught.value.field == "text"
    assert "column 14" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        services.query_create(actor=owner, topic=topic, name="All", text="NOT spam")
    assert caught.value.code == "matches_everything"


def test_only_editors_and_up_manage_topics(make_member, owner):
    contributor = make_member("contributor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.topic_create(actor=contributor, name="Mine")
    editor = make_member("editor", workspace=owner.workspace)
    services.topic_create(actor=editor, name="Theirs")


def test_topic_changes_are_audited(owner, topic):
    entries = AuditEntry.objects.filter(
        workspace=owner.workspace, target_type__startswith="listening"
    )
    assert entries.count() == 3  # the topic and its two queries


def test_ingest_stores_each_post_once_per_workspace_with_the_queries_it_matched(owner, topic):
    other = services.topic_create(actor=owner, name="Crisis", kind="crisis")
    services.query_create(
        actor=owner, topic=other, name="Outage", role="crisis", text="chorus NEAR/2 down"
    )
    posts = [
        incoming("Chorus is down again", "at://1", followers=120),
        incoming("ร้านกาแฟดำของชอรัส คาเฟ่", "at://2", lang="th"),
        incoming("nothing to see", "at://3"),
        incoming("rivalcafe vs #chorus", "at://4", network="mastodon"),
    ]
    assert services.ingest(posts) == 3
    assert services.ingest(posts[:1]) == 0  # replayed after a reconnect: no double count
    assert Mention.objects.count() == 3
    first = Mention.objects.get(uri="at://1")
    assert sorted(q.name for q in first.queries.all()) == ["Outage", "Us"]
    assert first.reach == 120
    thai = Mention.objects.get(uri="at://2")
    assert sorted(q.name for q in thai.queries.all()) == ["Rival", "Us"]
    assert SamplePost.objects.count() == 5


def test_mentions_get_a_sentiment_in_every_language(owner, topic):
    services.ingest(
        [
            incoming("chorus ไม่อร่อยเลย ผิดหวังมาก", "at://th", lang="th"),
            incoming("chorus ល្អណាស់", "at://km", lang="km"),
            incoming("chorus սուրճը վատ է", "at://hy", lang="hy"),
            incoming("chorus kahawa nzuri sana", "at://sw", lang="sw"),
            incoming("I love chorus", "at://en"),
            incoming("chorus ร้านเปิดกี่โมง", "at://neutral", lang="th-TH"),
        ]
    )
    assert dict(Mention.objects.values_list("uri", "sentiment")) == {
        "at://th": "negative",
        "at://km": "positive",
        "at://hy": "negative",
        "at://sw": "positive",
        "at://en": "positive",
        "at://neutral": "unknown",
    }


def test_analysis(owner, topic):
    services.ingest(
        [
            incoming("chorus coffee is great #coffee", "at://1", lang="en"),
            incoming("chorus again #Coffee #tea", "at://2", lang="en", days_ago=1),
            incoming("rivalcafe only", "at://3", network="mastodon", lang="sw"),
        ]
    )
    volume = selectors.volume_over_time(topic, days=3)
    assert [n for _day, n in volume] == [0, 1, 2]
    share = {s.name: s.percent for s in selectors.share_of_voice(topic)}
    assert share == {"Us": 66.7, "Rival": 33.3}
    assert selectors.top_hashtags(topic)[0] == ("coffee", 2)
    assert ("chorus", 2) in selectors.top_terms(topic)
    assert selectors.breakdown(topic, "language") == [("en", 2), ("sw", 1)]
    assert selectors.breakdown(topic, "network") == [("bluesky", 2), ("mastodon", 1)]


def test_retention_deletes_old_matches_per_workspace(owner, topic):
    services.ingest(
        [
            incoming("chorus old", "at://old", days_ago=40),
            incoming("chorus new", "at://new", days_ago=1),
        ]
    )
    assert services.purge_expired() == 0  # default 90 days
    services.retention_set(actor=owner, days=30)
    assert services.purge_expired() == 1
    assert list(Mention.objects.values_list("uri", flat=True)) == ["at://new"]


def test_deleting_a_query_drops_posts_only_it_matched(owner, topic):
    services.ingest([incoming("rivalcafe", "at://r"), incoming("chorus", "at://c")])
    services.query_delete(actor=owner, query=topic.queries.get(name="Rival"))
    assert list(Mention.objects.values_list("uri", flat=True)) == ["at://c"]


def test_preview_matches_recent_posts_or_points_at_the_error(owner, topic):
    services.ingest([incoming("hello chorus", "at://1"), incoming("bye", "at://2")])
    preview = selectors.preview(owner.workspace, "hello")
    assert preview.total == 1
    from chorus.listening.query import QueryError

    with pytest.raises(QueryError):
        selectors.preview(owner.workspace, "(hello")


def test_api(api, api_token_for, owner, make_member):
    token = api_token_for(owner)
    response = api.post("/listening/topics", {"name": "Brand"}, token)
    assert response.status_code == 201, response.content
    topic_id = response.json()["id"]
    response = api.post(
        f"/listening/topics/{topic_id}/queries", {"name": "Bad", "text": "brand NEAR/x late"}, token
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "near_distance" and "column 12" in error["message"]
    assert "text" in error["fields"]
    response = api.post(
        f"/listening/topics/{topic_id}/queries", {"name": "Us", "text": "brandname"}, token
    )
    assert response.status_code == 201
    services.ingest([incoming("brandname rocks", "at://x", followers=5)])
    mentions = api.get(f"/listening/topics/{topic_id}/mentions", token).json()["items"]
    assert mentions[0]["reach"] == 5 and mentions[0]["queries"] == [response.json()["id"]]
    preview = api.post("/listening/preview", {"text": "brandname NEAR/"}, token).json()
    assert preview["valid"] is False and preview["column"] == 16
    assert api.get(f"/listening/topics/{topic_id}/volume?days=2", token).json()[-1]["count"] == 1
    reader = api_token_for(owner, ["listening:read"])
    assert api.post("/listening/topics", {"name": "X"}, reader).status_code == 403


def test_pages(owner, topic):
    client = Client()
    client.force_login(owner.user)
    services.ingest([incoming("<b>chorus</b> rocks", "at://1", followers=9)])
    response = client.get("/listening/")
    assert response.status_code == 200 and "Coffee" in response.content.decode()
    response = client.get(f"/listening/topics/{topic.pk}/")
    body = response.content.decode()
    assert "&lt;b&gt;chorus&lt;/b&gt;" in body and "<b>chorus</b>" not in body
    response = client.post(
        f"/listening/topics/{topic.pk}/", {"name": "X", "role": "brand", "text": "a AND"}
    )
    assert response.status_code == 400 and "column 6" in response.content.decode()
    response = client.post("/listening/preview/", {"text": "chorus NEAR/ x"})
    assert "column 13" in response.content.decode()
    response = client.post("/listening/preview/", {"text": "chorus"})
    assert "rocks" in response.content.decode()


def test_a_large_matcher_is_frozen_and_the_one_it_replaces_is_freed(owner, topic, monkeypatch):
    import gc
    import weakref

    monkeypatch.setattr(services, "FREEZE_FROM_QUERIES", 2)
    monkeypatch.setattr(services, "matchers", services._MatcherCache())
    gc.unfreeze()
    try:
        first, _ = services.matchers.get()
        assert gc.get_freeze_count() > 0  # out of the collector's reach, the matcher with it
        assert services.ingest([incoming("#chorus", "at://f1")]) == 1
        freed = weakref.ref(first)
        del first
        services.query_create(actor=owner, topic=topic, name="New", text="brandnew")
        second, _ = services.matchers.get()
        assert freed() is None and second is services.matchers.get()[0]
        assert services.ingest([incoming("brandnew #chorus", "at://f2")]) == 1
    finally:
        gc.unfreeze()
