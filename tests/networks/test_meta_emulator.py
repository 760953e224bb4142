"""The Facebook and Instagram connectors against the emulator's Graph API, end to end:
login, page tokens, posts with photos and video, comments both ways, reconciliation,
metrics, expired access and lost Pages; Instagram's container flow, quota and media fetch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    OAuthApp,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.facebook import Facebook
from chorus.networks.providers.instagram import Instagram
from chorus.networks.providers.meta_graph import (
    exchange_code_for_user_token,
    managed_accounts,
)
from chorus.testing.emulator import EmulatorServer
from chorus.testing.emulator_meta import meta_settings

REDIRECT = "https://chorus.test/connect/meta/callback/"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0, rate_limit=None) as running:
        yield running


@pytest.fixture
def graph(server: EmulatorServer, settings) -> Iterator[EmulatorServer]:
    server.reset()
    for name, value in meta_settings(server.base_url).items():
        setattr(settings, name, value)
    yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def sign_in(graph: EmulatorServer, http: httpx.Client, *, user: str = "") -> dict:
    """The whole login as the connect view runs it; returns the accounts by provider."""
    app = Facebook.register_app("", redirect_uri=REDIRECT, http=http)
    dialog = http.get(Facebook.authorization_url(app, state="s1"))
    assert dialog.status_code == 200 and "Continue as" in dialog.text
    link = dialog.text.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query["state"] == ["s1"]
    token = exchange_code_for_user_token(app, query["code"][0], http=http)
    found: dict = {"app": app}
    for choice in managed_accounts(token, http=http):
        found.setdefault(choice.provider, choice)  # the first Page: Chorus Café
    return found


@pytest.fixture
def page(graph: EmulatorServer, http: httpx.Client) -> Facebook:
    choice = sign_in(graph, http)["facebook"]
    return Facebook(choice.credentials, http=http)


def draft(text: str, key: str = "k1", **extra) -> PostDraft:
    return PostDraft(text=text, idempotency_key=key, **extra)


# --------------------------------------------------------------------------- Facebook


def test_login_lists_pages_and_linked_instagram(graph, http):
    accounts = sign_in(graph, http)
    assert accounts["facebook"].name == "Chorus Café"
    assert accounts["instagram"].handle == "chorus.cafe"
    assert accounts["instagram"].credentials.identity["page_id"] == accounts["facebook"].remote_id
    identity = Facebook(accounts["facebook"].credentials, http=http).verify()
    assert identity.remote_id == accounts["facebook"].remote_id


def test_the_generic_oauth_path_connects_the_first_page(graph, http):
    app = Facebook.register_app("", redirect_uri=REDIRECT, http=http)
    dialog = http.get(Facebook.authorization_url(app, state="s"))
    link = dialog.text.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    code = parse_qs(urlsplit(link).query)["code"][0]
    credentials = Instagram.exchange_code(app, code, http=http)
    assert Instagram(credentials, http=http).verify().handle == "chorus.cafe"


def test_a_used_code_is_refused_clearly(graph, http):
    app = Facebook.register_app("", redirect_uri=REDIRECT, http=http)
    with pytest.raises(Rejected, match="did not accept the sign-in"):
        exchange_code_for_user_token(app, "not-a-code", http=http)


def test_wrong_app_secret_is_refused(graph, http, settings):
    app = Facebook.register_app("", redirect_uri=REDIRECT, http=http)
    bad = OAuthApp(app.server_url, app.client_id, "wrong", app.redirect_uri, app.scopes)
    with pytest.raises(Rejected, match="client secret"):
        exchange_code_for_user_token(bad, "x", http=http)


def test_text_and_link_post_then_reconcile_finds_it_once(page):
    since = datetime.now(UTC) - timedelta(seconds=1)
    post = draft("สวัสดี from Chorus", link="https://example.org/a")
    published = page.publish(post)
    assert published.ref.remote_id.startswith(page.node_id + "_")
    found = page.find_published(post, since=since)
    assert found is not None and found.ref.remote_id == published.ref.remote_id
    assert page.find_published(post, since=since, exclude=frozenset({found.ref.remote_id})) is None
    assert page.find_published(draft("something else"), since=since) is None


def test_one_photo_and_several_photos(page, graph):
    one = page.publish(draft("one", media=(Media(PNG, "image/png", filename="a.png"),)))
    many = page.publish(
        draft("many", media=tuple(Media(PNG, "image/png", filename=f"{i}.png") for i in range(3)))
    )
    state = graph._call("POST", "meta/state", json={})["nodes"]
    assert len(state[one.ref.remote_id]["photos"]) == 1
    assert len(state[many.ref.remote_id]["photos"]) == 3
    assert sum(1 for e in graph.events() if e["network"] == "meta") == 2


def test_video_post_and_mixed_media_refused(page):
    video = Media(b"\x00\x00\x00\x18ftypmp42", "video/mp4", filename="v.mp4")
    published = page.publish(draft("a video", media=(video,)))
    assert published.ref.remote_id.startswith(page.node_id + "_")
    with pytest.raises(Rejected, match="either photos or one video"):
        page.publish(draft("both", media=(video, Media(PNG, "image/png", filename="p.png"))))


def test_video_over_the_limit_is_refused_before_sending(page, graph, monkeypatch):
    monkeypatch.setattr(
        Facebook,
        "limits",
        Facebook.limits.__class__(**{**Facebook.limits.__dict__, "max_video_bytes": 10}),
    )
    with pytest.raises(Rejected, match="larger than Facebook takes"):
        page.publish(draft("big", media=(Media(b"x" * 11, "video/mp4", filename="v.mp4"),)))
    assert graph.stats()["routes"].get("meta.videos", 0) == 0


def test_comments_are_read_as_replies_and_answered(page, graph):
    post = page.publish(draft("ask me"))
    first = page.fetch_interactions()
    graph._call("POST", "meta/comment", json={"on": post.ref.remote_id, "message": "ราคาเท่าไหร่"})
    found = page.fetch_interactions(first.cursor)
    assert [i.text for i in found.items] == ["ราคาเท่าไหร่"]
    comment = found.items[0]
    assert comment.kind == "reply" and comment.subject.remote_id == post.ref.remote_id
    answer = draft("100 บาท", key="k2", reply_to=RemoteRef(comment.remote_id))
    since = datetime.now(UTC) - timedelta(seconds=1)
    reply = page.publish(answer)
    assert page.find_published(answer, since=since).ref.remote_id == reply.ref.remote_id
    again = page.fetch_interactions(found.cursor)
    assert again.items == ()  # our own answer is not an interaction, and nothing is repeated


def test_metrics_and_insights_not_reported_left_out(page, graph):
    post = page.publish(draft("count me"))
    graph._call("POST", "meta/comment", json={"on": post.ref.remote_id, "message": "hi"})
    gone = page.publish(draft("gone", key="k3"))
    page.delete(gone.ref)
    page.delete(gone.ref)  # deleting twice is not an error
    metrics = page.fetch_post_metrics([post.ref, gone.ref])
    assert [(m.ref, m.replies) for m in metrics] == [(post.ref, 1)]
    account = page.fetch_account_metrics()
    assert "page_post_engagements" in account.extra
    assert "page_daily_follows_unique" not in account.extra  # the emulator does not report it


def test_lost_page_is_auth_expired(graph, http):
    accounts = sign_in(graph, http)
    page = Facebook(accounts["facebook"].credentials, http=http)
    graph._call("POST", "meta/unmanage", json={"page": page.node_id})
    with pytest.raises(AuthExpired, match="no longer manages this Page"):
        page.verify()


def test_removed_app_is_auth_expired(graph, http):
    instagram = Instagram(sign_in(graph, http)["instagram"].credentials, http=http)
    graph._call("POST", "meta/revoke", json={})
    with pytest.raises(AuthExpired, match="app was removed"):
        instagram.verify()


def test_faults_map_onto_typed_errors(page, graph):
    graph._call(
        "POST",
        "meta/configure",
        json={
            "faults": [
                {"route": "meta.feed", "status": 500, "code": 1},
                {"route": "meta.feed", "status": 400, "code": 100, "message": "(#100) Bad param"},
                {
                    "route": "meta.feed",
                    "status": 400,
                    "code": 32,
                    "message": "Page limit",
                    "headers": {
                        "X-Business-Use-Case-Usage": json.dumps(
                            {"1": [{"call_count": 100, "estimated_time_to_regain_access": 7}]}
                        )
                    },
                },
            ]
        },
    )
    with pytest.raises(Transient):
        page.publish(draft("a"))
    with pytest.raises(Rejected, match="Bad param"):
        page.publish(draft("a"))
    with pytest.raises(RateLimited) as limited:
        page.publish(draft("a"))
    assert limited.value.retry_after == 7 * 60


def test_lost_answer_is_reconciled_not_sent_twice(page, graph):
    graph._call(
        "POST",
        "meta/configure",
        json={
            "faults": [
                {"route": "meta.feed", "status": 500, "code": 2, "after_commit": True},
            ]
        },
    )
    since = datetime.now(UTC) - timedelta(seconds=1)
    post = draft("only once")
    with pytest.raises(Transient):
        page.publish(post)
    assert page.find_published(post, since=since) is not None
    assert sum(1 for e in graph.events() if e["text"] == "only once") == 1


def test_usage_headers_become_the_rate_budget(page, graph):
    graph._call("POST", "meta/configure", json={"calls_per_hour": 4})
    page.verify()
    page.verify()
    assert page.rate_budget is not None and page.rate_budget.remaining == 50
    page.verify()
    page.verify()
    assert page.rate_budget.remaining == 0 and page.rate_budget.reset_at is not None
    with pytest.raises(RateLimited):
        page.verify()


def test_wrong_app_secret_proof_is_refused(page, settings):
    settings.CHORUS_META_APP_SECRET = "not-the-secret"
    with pytest.raises(Rejected, match="appsecret_proof"):
        page.verify()


def test_is_configured_follows_settings(settings):
    settings.CHORUS_META_APP_ID = ""
    assert not Facebook.is_configured() and not Instagram.is_configured()
    settings.CHORUS_META_APP_ID = "1"
    settings.CHORUS_META_APP_SECRET = "2"
    assert Facebook.is_configured() and Instagram.is_configured()
