"""Sandbox accounts connect, publish and read interactions through the unchanged providers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chorus.networks.providers.base import PostDraft, RemoteRef
from chorus.networks.providers.bluesky import Bluesky
from chorus.networks.providers.mastodon import Mastodon
from chorus.sandbox.server import SandboxServer
from chorus.sandbox.voices import LINES

REDIRECT = "http://127.0.0.1:8000/social-accounts/oauth/callback/"
EVERY_KIND = {"reply", "mention", "quote", "like", "repost", "follow", "direct_message"}
ALL_LINES = {line for kinds in LINES.values() for lines in kinds.values() for line in lines}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def mastodon_sign_in(sandbox: SandboxServer, http: httpx.Client, username: str) -> Mastodon:
    """The OAuth flow as Chorus and a person at the consent page go through it."""
    app = Mastodon.register_app(sandbox.base_url, redirect_uri=REDIRECT, http=http)
    url = Mastodon.authorization_url(app, state="s1")
    page = http.get(url)
    assert page.status_code == 200 and "Authorize" in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    granted = http.post(f"{sandbox.base_url}/oauth/authorize", data={**query, "username": username})
    assert granted.status_code == 302
    back = parse_qs(urlsplit(granted.headers["Location"]).query)
    assert back["state"] == ["s1"]
    credentials = Mastodon.exchange_code(app, back["code"][0], http=http)
    return Mastodon(credentials, http=http)


def test_mastodon_account_connects_publishes_and_hears_from_its_audience(sandbox, http):
    provider = mastodon_sign_in(sandbox, http, "cafe")
    me = provider.verify()
    assert me.handle == f"cafe@{urlsplit(sandbox.base_url).netloc}"
    post = provider.publish(PostDraft(text="Cold brew is back ☕", idempotency_key="k1"))

    for kind in sorted(EVERY_KIND):
        assert sandbox.act(1, account="cafe", kinds=[kind]), kind
    page = provider.fetch_interactions()

    assert {item.kind for item in page.items} == EVERY_KIND
    for item in page.items:
        if item.kind in ("reply", "quote", "like", "repost"):
            assert item.subject == RemoteRef(item.subject.remote_id, item.subject.url)
            assert item.subject.remote_id == post.ref.remote_id
        if item.kind in ("reply", "mention", "quote", "direct_message"):
            assert any(line.replace("{handle}", "@cafe") in item.text for line in ALL_LINES)
    assert provider.fetch_interactions(page.cursor).items == ()  # nothing new since

    sandbox.act(1, account="cafe", kinds=["like"])
    assert [i.kind for i in provider.fetch_interactions(page.cursor).items] == ["like"]
    [metrics] = provider.fetch_post_metrics([post.ref])
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes) == (2, 1, 1, 1)
    assert provider.fetch_account_metrics().followers == 1


def test_mastodon_context_conversations_and_accounts(sandbox, http):
    provider = mastodon_sign_in(sandbox, http, "cafe")
    post = provider.publish(PostDraft(text="Hello", idempotency_key="k1"))
    sandbox.act(1, account="cafe", kinds=["reply"])
    sandbox.act(1, account="cafe", kinds=["direct_message"])
    token = {"Authorization": f"Bearer {provider.credentials.secrets['access_token']}"}
    base = sandbox.base_url

    context = http.get(f"{base}/api/v1/statuses/{post.ref.remote_id}/context", headers=token)
    [reply] = context.json()["descendants"]
    assert reply["in_reply_to_id"] == post.ref.remote_id
    [conversation] = http.get(f"{base}/api/v1/conversations", headers=token).json()
    assert conversation["last_status"]["visibility"] == "direct"
    author = http.get(f"{base}/api/v1/accounts/{reply['account']['id']}", headers=token).json()
    assert author["username"] == reply["account"]["username"]
    assert http.get(f"{base}/api/v1/accounts/999", headers=token).status_code == 404


def test_mastodon_consent_page_refuses_unknown_clients_and_can_be_denied(sandbox, http):
    app = Mastodon.register_app(sandbox.base_url, redirect_uri=REDIRECT, http=http)
    bad = http.get(f"{sandbox.base_url}/oauth/authorize", params={"client_id": "nope"})
    assert bad.status_code == 400
    url = Mastodon.authorization_url(app, state="x")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    denied = http.post(f"{sandbox.base_url}/oauth/authorize", data={**query, "deny": "1"})
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]


def bluesky_sign_in(sandbox: SandboxServer, http: httpx.Client, handle: str) -> Bluesky:
    credentials = Bluesky.sign_in(
        handle, "any-password", service_url=sandbox.base_url, http=http, plc_url=sandbox.base_url
    )
    return Bluesky(credentials, http=http)


def test_bluesky_account_connects_publishes_and_hears_from_its_audience(sandbox, http):
    provider = bluesky_sign_in(sandbox, http, "cafe.sandbox")
    assert provider.verify().handle == "cafe.sandbox"
    post = provider.publish(PostDraft(text="ស្វាគមន៍ ☕", idempotency_key="k1"))

    kinds = EVERY_KIND - {"direct_message"}  # Bluesky DMs live on its chat service
    for kind in sorted(kinds):
        assert sandbox.act(1, account="cafe.sandbox", kinds=[kind]), kind
    assert sandbox.act(1, account="cafe.sandbox", kinds=["direct_message"]) == []
    page = provider.fetch_interactions()

    assert {item.kind for item in page.items} == kinds
    for item in page.items:
        if item.kind in ("reply", "quote", "like", "repost"):
            assert item.subject.remote_id == post.ref.remote_id
    assert provider.fetch_interactions(page.cursor).items == ()
    [metrics] = provider.fetch_post_metrics([post.ref])
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes) == (1, 1, 1, 1)
    assert provider.fetch_account_metrics().followers == 1

    token = {"Authorization": f"Bearer {provider.credentials.secrets['accessJwt']}"}
    thread = http.get(
        f"{sandbox.base_url}/xrpc/app.bsky.feed.getPostThread",
        params={"uri": post.ref.remote_id},
        headers=token,
    ).json()["thread"]
    [reply] = thread["replies"]
    assert reply["post"]["record"]["reply"]["parent"]["uri"] == post.ref.remote_id


def test_state_survives_a_restart(tmp_path, http):
    state = tmp_path / "sandbox.pickle"
    with SandboxServer(pace_s=0, state=state, seed=1) as first:
        provider = mastodon_sign_in(first, http, "cafe")
        post = provider.publish(PostDraft(text="Hello", idempotency_key="k1"))
        first.act(3, account="cafe", kinds=["like"])
        port = int(urlsplit(first.base_url).port)
    with SandboxServer(pace_s=0, state=state, port=port) as second:
        assert second.base_url == first.base_url
        [metrics] = provider.fetch_post_metrics([post.ref])
        assert metrics.likes == 3
        assert provider.verify().handle.startswith("cafe@")


def test_the_audience_acts_on_its_own_at_its_pace(tmp_path):
    from chorus.sandbox.app import Sandbox

    app = Sandbox(base_url="http://127.0.0.1:1", pace_s=20, seed=3)
    app.m_accounts["token"] = app._m_user("cafe")
    app.b_accounts.add(app._did_of("cafe.sandbox"))
    total = sum(app.tick() for _ in range(30))  # ten minutes at the default pace
    assert 20 <= total <= 120
    notes = sum(len(v) for v in app.m_notifications.values())
    notes += sum(len(v) for v in app.b_notifications.values())
    assert notes == total


def test_mastodon_paging_hands_over_every_interaction_once(sandbox, http):
    provider = mastodon_sign_in(sandbox, http, "cafe")
    provider.publish(PostDraft(text="Hello", idempotency_key="k1"))
    sandbox.act(45, account="cafe", kinds=["like"])
    first = provider.fetch_interactions()
    assert len(first.items) == provider.page_size  # without a cursor: the newest page only

    sandbox.act(100, account="cafe", kinds=["like", "reply", "mention", "direct_message"])
    later = provider.fetch_interactions(first.cursor)  # walks forward through 3 pages
    assert len(later.items) == 100
    assert len({item.remote_id for item in later.items}) == 100
    assert [i.created_at for i in later.items] == sorted(i.created_at for i in later.items)
    assert provider.fetch_interactions(later.cursor).items == ()


def test_bluesky_paging_reads_back_to_the_cursor(sandbox, http):
    provider = bluesky_sign_in(sandbox, http, "cafe.sandbox")
    provider.publish(PostDraft(text="Hello", idempotency_key="k1"))
    sandbox.act(1, account="cafe.sandbox", kinds=["like"])
    first = provider.fetch_interactions()
    assert len(first.items) == 1

    sandbox.act(120, account="cafe.sandbox", kinds=["like", "reply", "mention", "repost"])
    later = provider.fetch_interactions(first.cursor)  # three pages of 50
    assert len(later.items) == 120
    assert len({item.remote_id for item in later.items}) == 120


def test_telegram_channel_connects_publishes_and_hears_from_its_audience(sandbox, http):
    from chorus.networks.providers.telegram import Telegram

    credentials = Telegram.sign_in(
        "@mycafe", "1234:sandbox", service_url=sandbox.base_url, http=http
    )
    provider = Telegram(credentials, http=http)
    post = provider.publish(PostDraft(text="**ស្វាគមន៍** ☕", idempotency_key="k1"))
    assert sandbox.act(1, account="mycafe", kinds=["reply"])
    assert sandbox.act(1, account="mycafe", kinds=["follow"])
    assert sandbox.act(1, account="mycafe", kinds=["like"]) == []  # bots read no likes
    page = provider.fetch_interactions()
    [comment] = page.items
    assert comment.kind == "reply" and comment.subject.remote_id == post.ref.remote_id
    assert comment.text in ALL_LINES
    provider.fetch_interactions(page.cursor)
    assert provider.fetch_interactions(page.cursor).items == ()
    assert provider.fetch_account_metrics().followers >= 1


def test_telegram_state_survives_a_restart(tmp_path, http):
    from chorus.networks.providers.telegram import Telegram

    state = tmp_path / "sandbox.pickle"
    with SandboxServer(pace_s=0, state=state, seed=1) as first:
        credentials = Telegram.sign_in("@mycafe", "1234:s", service_url=first.base_url, http=http)
        provider = Telegram(credentials, http=http)
        post = provider.publish(PostDraft(text="Hello", idempotency_key="k1"))
        port = int(urlsplit(first.base_url).port)
    with SandboxServer(pace_s=0, state=state, port=port) as second:
        assert second.act(1, account="mycafe", kinds=["reply"])
        [comment] = provider.fetch_interactions().items
        assert comment.subject.remote_id == post.ref.remote_id
        assert provider.publish(PostDraft(text="Again", idempotency_key="k2")).ref != post.ref
