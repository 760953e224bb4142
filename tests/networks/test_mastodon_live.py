"""The Mastodon connector against a real, stateful Mastodon API server (mastodon-mock)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.servers.mastodon_server import MastodonTestServer

from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    Poll,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.mastodon import Mastodon, MediaProcessing

REDIRECT_URI = "https://chorus.test/connect/mastodon/callback"
# A 1x1 transparent PNG: the smallest real image the server will store.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Connected:
    provider: Mastodon
    username: str
    token: str


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def connect(server: MastodonTestServer, http: httpx.Client, username: str) -> Connected:
    """The whole connect flow, as the web view will run it."""
    app = Mastodon.register_app(server.base_url, redirect_uri=REDIRECT_URI, http=http)
    code, _ = server.approve(Mastodon.authorization_url(app, state="s1"), username)
    credentials = Mastodon.exchange_code(app, code, http=http)
    token = credentials.secrets["access_token"]
    return Connected(Mastodon(credentials, http=http), username, token)


@pytest.fixture
def me(mastodon_server: MastodonTestServer, http: httpx.Client) -> Connected:
    username, _ = mastodon_server.new_user("chorus")
    return connect(mastodon_server, http, username)


@pytest.fixture
def other(mastodon_server: MastodonTestServer) -> Iterator[httpx.Client]:
    """Another person on the same server."""
    _, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as client:
        yield client


def status(server: MastodonTestServer, token: str, status_id: str, part: str = "") -> dict:
    with server.client(token) as client:
        response = client.get(f"/api/v1/statuses/{status_id}{part}")
        response.raise_for_status()
        return response.json()


def draft(text: str, key: str, **kwargs) -> PostDraft:
    return PostDraft(text=text, idempotency_key=key, **kwargs)


# --------------------------------------------------------------------------- connect


def test_oauth_connect_flow(mastodon_server: MastodonTestServer, http: httpx.Client) -> None:
    username, _ = mastodon_server.new_user("owner")
    app = Mastodon.register_app(
        mastodon_server.base_url + "/about/", redirect_uri=REDIRECT_URI, http=http
    )
    assert app.server_url == mastodon_server.base_url
    assert app.client_id and app.client_secret and app.scopes == "read write"

    url = Mastodon.authorization_url(app, state="xyz")
    assert url.startswith(mastodon_server.base_url + "/oauth/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [app.client_id]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["scope"] == ["read write"]

    code, state = mastodon_server.approve(url, username)
    assert state == "xyz"
    credentials = Mastodon.exchange_code(app, code, http=http)
    assert credentials.identity["server_url"] == mastodon_server.base_url
    assert credentials.identity["client_id"] == app.client_id
    assert credentials.identity["acct"].startswith(f"{username}@")
    assert credentials.secrets["client_secret"] == app.client_secret

    identity = Mastodon(credentials, http=http).verify()
    assert identity.remote_id == credentials.identity["account_id"]
    assert identity.handle.split("@")[0] == username
    assert identity.profile_url


def test_bad_code_is_rejected(mastodon_server: MastodonTestServer, http: httpx.Client) -> None:
    app = Mastodon.register_app(mastodon_server.base_url, redirect_uri=REDIRECT_URI, http=http)
    with pytest.raises(Rejected):
        Mastodon.exchange_code(app, "not-a-code", http=http)


class _NotMastodon(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body>Just a blog</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def blog_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotMastodon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_non_mastodon_site_is_rejected(blog_url: str, http: httpx.Client) -> None:
    with pytest.raises(Rejected) as caught:
        Mastodon.register_app(blog_url, redirect_uri=REDIRECT_URI, http=http)
    assert caught.value.message.startswith(f"{blog_url} does not look like a Mastodon server")
    assert "/api/v1/instance" in caught.value.message


def test_an_unreachable_server_is_transient(http: httpx.Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Transient):
        Mastodon.register_app(f"http://127.0.0.1:{port}", redirect_uri=REDIRECT_URI, http=http)


# --------------------------------------------------------------------------- publishing


def test_publish_text_with_content_warning_poll_and_link(
    mastodon_server: MastodonTestServer, me: Connected
) -> None:
    post = me.provider.publish(
        draft(
            "Which release name?",
            "k-poll",
            link="https://chorus.test/blog/42",
            content_warning="release spoilers",
            language="en",
            poll=Poll(options=("Aurora", "Borealis"), expires_in_seconds=3600, multiple=True),
        )
    )
    assert post.ref.remote_id
    assert post.ref.url
    assert post.published_at is not None and post.published_at.tzinfo is not None

    source = status(mastodon_server, me.token, post.ref.remote_id, "/source")
    assert source["text"] == "Which release name?\n\nhttps://chorus.test/blog/42"
    remote = status(mastodon_server, me.token, post.ref.remote_id)
    assert remote["spoiler_text"] == "release spoilers"
    assert remote["sensitive"] is True
    assert remote["language"] == "en"
    assert [o["title"] for o in remote["poll"]["options"]] == ["Aurora", "Borealis"]
    assert remote["poll"]["multiple"] is True


def test_link_already_in_text_is_not_repeated(
    mastodon_server: MastodonTestServer, me: Connected
) -> None:
    post = me.provider.publish(
        draft("Read https://chorus.test/a now", "k-link", link="https://chorus.test/a")
    )
    source = status(mastodon_server, me.token, post.ref.remote_id, "/source")
    assert source["text"] == "Read https://chorus.test/a now"


def test_publish_image_with_alt_text(mastodon_server: MastodonTestServer, me: Connected) -> None:
    image = Media(data=PNG, mime_type="image/png", alt_text="A tiny dot", filename="dot.png")
    post = me.provider.publish(draft("Look", "k-image", media=(image,)))
    attachments = status(mastodon_server, me.token, post.ref.remote_id)["media_attachments"]
    assert len(attachments) == 1
    assert attachments[0]["type"] == "image"
    assert attachments[0]["description"] == "A tiny dot"


def test_media_still_processing_is_resumed_without_uploading_again(
    mastodon_server: MastodonTestServer, me: Connected
) -> None:
    """The mock finishes uploads at once, so faults play the server's 202/206 answers."""
    with mastodon_server.client(me.token) as client:
        upload = client.post(
            "/api/v2/media",
            files={"file": ("clip.png", PNG, "image/png")},
            data={"description": "processing clip"},
        )
    media_id = upload.json()["id"]
    pending = {"id": media_id, "type": "video", "url": None, "description": "processing clip"}
    image = Media(data=PNG, mime_type="image/png", alt_text="processing clip")
    post_draft = draft("Video day", "k-video", media=(image,))

    with (
        mastodon_server.fault(
            match={"methods": ["POST"], "path": "/api/v2/media"},
            effect={"type": "status", "status": 202, "body": pending},
            count=1,
        ),
        pytest.raises(MediaProcessing) as first,
    ):
        me.provider.publish(post_draft)
    assert first.value.media_ids == (media_id,)
    assert isinstance(first.value, Transient)

    with (
        mastodon_server.fault(
            match={"methods": ["GET"], "path": f"/api/v1/media/{media_id}"},
            effect={"type": "status", "status": 206, "body": pending},
            count=1,
        ),
        pytest.raises(MediaProcessing),
    ):
        me.provider.publish(post_draft, media_ids=first.value.media_ids)

    # Any new upload now would fail loudly, proving the retry reuses the first one.
    with mastodon_server.fault(
        match={"methods": ["POST"], "path": "/api/v2/media"},
        effect={"type": "status", "status": 500},
    ):
        post = me.provider.publish(post_draft, media_ids=first.value.media_ids)
    attachments = status(mastodon_server, me.token, post.ref.remote_id)["media_attachments"]
    assert [a["id"] for a in attachments] == [media_id]


def test_same_idempotency_key_publishes_once(me: Connected) -> None:
    before = me.provider.fetch_account_metrics().posts
    first = me.provider.publish(draft("Only once", "k-once"))
    second = me.provider.publish(draft("Only once", "k-once"))
    assert first.ref.remote_id == second.ref.remote_id
    assert me.provider.fetch_account_metrics().posts == before + 1


def test_retry_after_a_server_error_publishes_once(
    mastodon_server: MastodonTestServer, me: Connected
) -> None:
    with (
        mastodon_server.fault(
            match={"methods": ["POST"], "path": "/api/v1/statuses"},
            effect={"type": "status", "status": 500},
            count=1,
        ),
        pytest.raises(Transient),
    ):
        me.provider.publish(draft("Retry me", "k-retry"))
    first = me.provider.publish(draft("Retry me", "k-retry"))
    again = me.provider.publish(draft("Retry me", "k-retry"))
    assert first.ref.remote_id == again.ref.remote_id
    assert me.provider.fetch_account_metrics().posts == 1


def test_reply_builds_a_thread(mastodon_server: MastodonTestServer, me: Connected) -> None:
    root = me.provider.publish(draft("1/ a thread", "k-root"))
    reply = me.provider.publish(draft("2/ continued", "k-reply", reply_to=root.ref))
    assert status(mastodon_server, me.token, reply.ref.remote_id)["in_reply_to_id"] == (
        root.ref.remote_id
    )


def test_too_long_text_is_rejected_with_the_servers_words(me: Connected) -> None:
    with pytest.raises(Rejected) as caught:
        me.provider.publish(draft("x" * 501, "k-long"))
    assert caught.value.message.startswith("Validation failed:")
    assert "500" in caught.value.message


def test_delete_and_delete_again(mastodon_server: MastodonTestServer, me: Connected) -> None:
    post = me.provider.publish(draft("Short-lived", "k-delete"))
    me.provider.delete(post.ref)
    with mastodon_server.client(me.token) as client:
        assert client.get(f"/api/v1/statuses/{post.ref.remote_id}").status_code == 404
    me.provider.delete(post.ref)  # already gone: not an error


# --------------------------------------------------------------------------- inbox and metrics


def test_interactions_each_kind_once_then_nothing_new(
    mastodon_server: MastodonTestServer, me: Connected, other: httpx.Client
) -> None:
    empty = me.provider.fetch_interactions()
    assert empty.items == ()
    post = me.provider.publish(draft("Hello fediverse", "k-inbox"))
    our_id = me.provider.credentials.identity["account_id"]
    other.post(f"/api/v1/accounts/{our_id}/follow").raise_for_status()
    other.post(f"/api/v1/statuses/{post.ref.remote_id}/favourite").raise_for_status()
    other.post(f"/api/v1/statuses/{post.ref.remote_id}/reblog").raise_for_status()
    other.post("/api/v1/statuses", json={"status": f"@{me.username} look at this"})
    other.post(
        "/api/v1/statuses",
        json={"status": f"@{me.username} great post", "in_reply_to_id": post.ref.remote_id},
    ).raise_for_status()
    other.post(
        "/api/v1/statuses", json={"status": f"@{me.username} psst", "visibility": "direct"}
    ).raise_for_status()

    page = me.provider.fetch_interactions(empty.cursor)
    by_kind = {i.kind: i for i in page.items}
    assert sorted(i.kind for i in page.items) == [
        "direct_message",
        "follow",
        "like",
        "mention",
        "reply",
        "repost",
    ]
    assert by_kind["reply"].subject == RemoteRef(post.ref.remote_id)
    assert by_kind["reply"].text.endswith("great post")
    assert by_kind["like"].subject.remote_id == post.ref.remote_id
    assert by_kind["repost"].subject.remote_id == post.ref.remote_id
    assert by_kind["direct_message"].text.endswith("psst")
    assert by_kind["mention"].subject is None
    assert all(i.author_handle.startswith("fan") for i in page.items)

    assert me.provider.fetch_interactions(page.cursor).items == ()


def test_interactions_page_through_links_in_bounded_steps(
    mastodon_server: MastodonTestServer, me: Connected, other: httpx.Client
) -> None:
    first = me.provider.fetch_interactions()
    for n in range(5):
        other.post("/api/v1/statuses", json={"status": f"@{me.username} ping {n}"})
    me.provider.page_size = 2
    me.provider.max_pages = 2

    seen = []
    page = me.provider.fetch_interactions(first.cursor)
    assert len(page.items) == 4
    seen += [i.text for i in page.items]
    page = me.provider.fetch_interactions(page.cursor)
    assert len(page.items) == 1
    seen += [i.text for i in page.items]
    assert me.provider.fetch_interactions(page.cursor).items == ()
    assert sorted(t.rsplit(" ", 1)[-1] for t in seen) == ["0", "1", "2", "3", "4"]


def test_post_and_account_metrics(
    mastodon_server: MastodonTestServer, me: Connected, other: httpx.Client
) -> None:
    liked = me.provider.publish(draft("Like me", "k-m1"))
    quiet = me.provider.publish(draft("Nobody sees me", "k-m2"))
    gone = me.provider.publish(draft("Deleted soon", "k-m3"))
    me.provider.delete(gone.ref)
    our_id = me.provider.credentials.identity["account_id"]
    other.post(f"/api/v1/accounts/{our_id}/follow").raise_for_status()
    other.post(f"/api/v1/statuses/{liked.ref.remote_id}/favourite").raise_for_status()
    other.post(f"/api/v1/statuses/{liked.ref.remote_id}/reblog").raise_for_status()
    other.post(
        "/api/v1/statuses", json={"status": "agreed", "in_reply_to_id": liked.ref.remote_id}
    ).raise_for_status()

    metrics = {m.ref.remote_id: m for m in me.provider.fetch_post_metrics([liked.ref, quiet.ref])}
    assert (metrics[liked.ref.remote_id].likes, metrics[liked.ref.remote_id].reposts) == (1, 1)
    assert metrics[liked.ref.remote_id].replies == 1
    assert (metrics[quiet.ref.remote_id].likes, metrics[quiet.ref.remote_id].replies) == (0, 0)

    # An older server without the batch endpoint: one read per post, deleted ones left out.
    with mastodon_server.fault(
        match={"methods": ["GET"], "path": "/api/v1/statuses"},
        effect={"type": "status", "status": 404, "body": {"error": "Record not found"}},
        count=1,
    ):
        fallback = me.provider.fetch_post_metrics([liked.ref, gone.ref])
    assert [(m.ref, m.likes) for m in fallback] == [(liked.ref, 1)]

    account = me.provider.fetch_account_metrics()
    assert (account.followers, account.following, account.posts) == (1, 0, 2)


def test_find_published_finds_the_status_a_draft_made_as_the_server_renders_it(
    me: Connected, other: httpx.Client
) -> None:
    since = datetime.now(UTC)
    reply_to = me.provider.publish(draft("The first one", "reconcile-0"))
    text = "Read https://example.org/a/very/long/path?x=1 #Chorus สวัสดี\n\nsecond paragraph"
    sent = me.provider.publish(
        draft(text, "reconcile-1", reply_to=reply_to.ref, content_warning="spoilers")
    )
    other.post("/api/v1/statuses", json={"status": text})  # someone else's copy: not ours
    again = draft(text, "reconcile-1", reply_to=reply_to.ref, content_warning="spoilers")
    found = me.provider.find_published(again, since=since)
    assert found is not None and found.ref.remote_id == sent.ref.remote_id
    assert (
        me.provider.find_published(again, since=since, exclude=frozenset({sent.ref.remote_id}))
        is None
    )
    elsewhere = draft(text, "reconcile-2", content_warning="spoilers")  # not a reply
    assert me.provider.find_published(elsewhere, since=since) is None
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert me.provider.find_published(again, since=later) is None


def test_server_limits_come_from_the_instance(me: Connected) -> None:
    limits = me.provider.server_limits()
    assert limits.max_text == 500
    assert limits.max_media == 4
    assert limits.max_image_bytes == 10 * 1024 * 1024  # the mock reports the pre-4.2 size
    assert "image/png" in limits.media_types
    assert limits.supports_polls and limits.max_poll_options == 4


# --------------------------------------------------------------------------- failures


def test_revoked_token_means_auth_expired(
    mastodon_server: MastodonTestServer, me: Connected
) -> None:
    me.provider.refresh()
    mastodon_server.revoke(me.token)
    with pytest.raises(AuthExpired):
        me.provider.refresh()
    with pytest.raises(AuthExpired):
        me.provider.publish(draft("Too late", "k-revoked"))


def test_rate_limit_fault_is_rate_limited_with_the_reset_time(
    mastodon_server: MastodonTestServer, me: Connected
) -> None:
    me.provider.verify()
    assert me.provider.rate_budget is not None
    assert me.provider.rate_budget.remaining > 0
    with (
        mastodon_server.fault(
            match={"path": "/api/v1/accounts/verify_credentials"},
            effect={"type": "ratelimit", "headers": {"X-RateLimit-Reset": _in_seconds(90)}},
            count=1,
        ),
        pytest.raises(RateLimited) as caught,
    ):
        me.provider.verify()
    assert 0 < caught.value.retry_after <= 90  # from X-RateLimit-Reset, not Retry-After: 300
    assert me.provider.rate_budget.remaining == 0
    assert me.provider.rate_budget.limit == 300


def _in_seconds(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize(
    "effect",
    [
        {"type": "status", "status": 500},
        {"type": "status", "status": 503},
        {"type": "malformed"},
    ],
)
def test_server_faults_are_transient(
    mastodon_server: MastodonTestServer, me: Connected, effect: dict
) -> None:
    rule = {"match": {"path": "/api/v1/notifications"}, "effect": effect, "count": 1}
    with mastodon_server.fault(**rule), pytest.raises(Transient):
        me.provider.fetch_interactions()
    me.provider.fetch_interactions()  # and the next poll works again


def test_a_slow_server_is_transient(mastodon_server: MastodonTestServer, me: Connected) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(0.3, connect=5)) as client,
        mastodon_server.fault(
            match={"path": "/api/v1/accounts/verify_credentials"},
            effect={"type": "latency", "delay_ms": 2000},
            count=1,
        ),
        pytest.raises(Transient),
    ):
        Mastodon(me.provider.credentials, http=client).verify()
