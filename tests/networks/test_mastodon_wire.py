"""Wire-level behaviour of the Mastodon connector: error shapes, headers, parsing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from chorus.networks.providers import mastodon_wire
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    Media,
    OAuthApp,
    Poll,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.mastodon import Mastodon, MediaProcessing

SERVER = "https://social.example"
TOKEN = "secret-token-value"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=SERVER, assert_all_called=False) as router:
        yield router


@pytest.fixture
def provider() -> Iterator[Mastodon]:
    credentials = Credentials(
        identity={"server_url": SERVER, "account_id": "7", "acct": "brand@social.example"},
        secrets={"access_token": TOKEN, "client_secret": "cs"},
    )
    with httpx.Client() as http:
        yield Mastodon(credentials, http=http)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mastodon_wire, "now", lambda: NOW)


def account(**extra: object) -> dict:
    return {
        "id": "7",
        "username": "brand",
        "acct": "brand",
        "display_name": "Brand",
        "url": f"{SERVER}/@brand",
        "avatar": f"{SERVER}/a.png",
        "followers_count": 10,
        "following_count": 2,
        "statuses_count": 33,
        **extra,
    }


def status_json(status_id: str = "100", **extra: object) -> dict:
    return {
        "id": status_id,
        "url": f"{SERVER}/@brand/{status_id}",
        "created_at": "2026-01-02T03:04:05.000Z",
        "content": "<p>hi</p>",
        "visibility": "public",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "account": account(),
        **extra,
    }


# --------------------------------------------------------------------------- error shapes


def test_401_is_auth_expired_and_never_shows_the_token(api, provider) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(
        401, json={"error": "The access token is invalid"}
    )
    with pytest.raises(AuthExpired) as caught:
        provider.verify()
    assert "The access token is invalid" in caught.value.message
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("This action is outside the authorized scopes", AuthExpired),
        ("Your login is currently disabled", AuthExpired),
        ("This action is not allowed", Rejected),
    ],
)
def test_403_is_auth_expired_only_when_the_token_is_the_problem(
    api, provider, error, expected
) -> None:
    api.post("/api/v1/statuses").respond(403, json={"error": error})
    with pytest.raises(expected):
        provider.publish(PostDraft(text="hi", idempotency_key="k"))


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (httpx.Response(400, text="Invalid Bearer token"), "Invalid Bearer token"),
        (
            httpx.Response(
                400, text="Invalid Bearer token\n", headers={"content-type": "text/plain"}
            ),
            "Invalid Bearer token",
        ),
        (httpx.Response(400, json="Invalid Bearer token"), "Invalid Bearer token"),
        (httpx.Response(422, json={"error": "The access token was revoked"}), "was revoked"),
        (httpx.Response(403, json={"error": "Invalid token"}), "Invalid token"),
    ],
    ids=["400-plain", "400-text-plain", "400-json-string", "422-json", "403-json"],
)
def test_token_failures_in_other_dialects_are_auth_expired(api, provider, answer, said) -> None:
    api.post("/api/v1/statuses").mock(return_value=answer)
    with pytest.raises(AuthExpired) as caught:
        provider.publish(PostDraft(text="hi", idempotency_key="k"))
    assert said in caught.value.message and "reconnect" in caught.value.message
    assert TOKEN not in caught.value.message


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (httpx.Response(400, text="Status can't be blank"), "Status can't be blank"),
        (httpx.Response(422, text="Validation failed: too long"), "Validation failed: too long"),
        (
            httpx.Response(400, text="<html><body>Bad Request</body></html>"),
            "HTTP 400 from social.example",
        ),
    ],
    ids=["400-plain", "422-plain", "400-html"],
)
def test_plain_text_refusals_keep_the_servers_words(api, provider, answer, said) -> None:
    api.post("/api/v1/statuses").mock(return_value=answer)
    with pytest.raises(Rejected) as caught:
        provider.publish(PostDraft(text="hi", idempotency_key="k"))
    assert caught.value.message == said


def test_404_is_rejected_with_the_servers_words(api, provider) -> None:
    api.post("/api/v1/statuses").respond(404, json={"error": "Record not found"})
    with pytest.raises(Rejected) as caught:
        provider.publish(PostDraft(text="hi", idempotency_key="k"))
    assert caught.value.message == "Record not found"


def test_422_is_rejected_with_the_servers_words(api, provider) -> None:
    api.post("/api/v1/statuses").respond(
        422, json={"error": "Validation failed: Text character limit of 500 exceeded"}
    )
    with pytest.raises(Rejected) as caught:
        provider.publish(PostDraft(text="x" * 600, idempotency_key="k"))
    assert caught.value.message == "Validation failed: Text character limit of 500 exceeded"


def test_429_retry_after_comes_from_x_ratelimit_reset(api, provider, frozen_clock) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(
        429,
        json={"error": "Too many requests"},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-01-02T03:06:05.000Z",
            "Retry-After": "999",
        },
    )
    with pytest.raises(RateLimited) as caught:
        provider.verify()
    assert caught.value.retry_after == 120
    assert provider.rate_budget is not None
    assert (provider.rate_budget.limit, provider.rate_budget.remaining) == (300, 0)
    assert provider.rate_budget.reset_at == datetime(2026, 1, 2, 3, 6, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 30),
        ({"Retry-After": "Fri, 02 Jan 2026 03:05:05 GMT"}, 60),
        ({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 45)}, 45),
        ({"X-RateLimit-Reset": "2026-01-02T03:00:00Z"}, 1),  # already past: retry soon
        ({}, 300),  # nothing said: wait one documented window
    ],
)
def test_429_retry_after_fallbacks(api, provider, frozen_clock, headers, expected) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        provider.verify()
    assert caught.value.retry_after == expected


@pytest.mark.parametrize("code", [500, 502, 503, 504, 408])
def test_server_errors_are_transient(api, provider, code) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(code, text="<html>oops</html>")
    with pytest.raises(Transient) as caught:
        provider.verify()
    assert str(code) in caught.value.message


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("peer closed"),
    ],
)
def test_network_faults_are_transient(api, provider, fault) -> None:
    api.get("/api/v1/accounts/verify_credentials").mock(side_effect=fault)
    with pytest.raises(Transient):
        provider.verify()


@pytest.mark.parametrize("body", ['{"id": "7", "acct"', "<html>maintenance</html>", "[1, 2]"])
def test_malformed_json_is_transient(api, provider, body) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(
        200, text=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(Transient):
        provider.verify()


def test_delete_of_a_missing_post_is_fine_but_other_refusals_are_not(api, provider) -> None:
    api.delete("/api/v1/statuses/1").respond(404, json={"error": "Record not found"})
    api.delete("/api/v1/statuses/2").respond(403, json={"error": "This action is not allowed"})
    provider.delete(RemoteRef("1"))
    with pytest.raises(Rejected):
        provider.delete(RemoteRef("2"))


# --------------------------------------------------------------------------- rate budget


def test_rate_budget_is_read_from_every_response(api, provider) -> None:
    route = api.get("/api/v1/accounts/verify_credentials")
    route.side_effect = [
        httpx.Response(
            200,
            json=account(),
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "299",
                "X-RateLimit-Reset": "2026-01-02T03:05:00.019685Z",
            },
        ),
        httpx.Response(200, json=account(), headers={"X-RateLimit-Limit": "300"}),
        httpx.Response(
            200,
            json=account(),
            headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "298"},
        ),
    ]
    provider.verify()
    first = provider.rate_budget
    assert first is not None
    assert (first.limit, first.remaining) == (300, 299)
    assert first.reset_at == datetime(2026, 1, 2, 3, 5, 0, 19685, tzinfo=UTC)
    provider.verify()  # incomplete headers: keep what we knew
    assert provider.rate_budget == first
    provider.verify()
    assert provider.rate_budget.remaining == 298
    assert provider.rate_budget.reset_at is None


# --------------------------------------------------------------------------- publishing


def test_publish_sends_the_idempotency_key_and_every_field(api, provider) -> None:
    api.post("/api/v2/media").respond(200, json={"id": "m1", "url": f"{SERVER}/m1.png"})
    post = api.post("/api/v1/statuses").respond(200, json=status_json("101"))
    published = provider.publish(
        PostDraft(
            text="Hello",
            idempotency_key="draft-42-v1",
            media=(Media(data=b"png", mime_type="image/png", alt_text="a cat"),),
            link="https://chorus.test/x",
            reply_to=RemoteRef("99"),
            content_warning="cats",
            language="de",
            visibility="unlisted",
        )
    )
    request = post.calls.last.request
    assert request.headers["Idempotency-Key"] == "draft-42-v1"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {
        "status": "Hello\n\nhttps://chorus.test/x",
        "visibility": "unlisted",
        "media_ids": ["m1"],
        "spoiler_text": "cats",
        "sensitive": True,
        "language": "de",
        "in_reply_to_id": "99",
    }
    assert published.ref == RemoteRef("101", url=f"{SERVER}/@brand/101")
    assert published.published_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    upload = api.routes[0].calls.last.request
    assert b'name="description"' in upload.content and b"a cat" in upload.content
    assert b'name="file"; filename="upload"' in upload.content


def test_publish_sends_a_poll(api, provider) -> None:
    post = api.post("/api/v1/statuses").respond(200, json=status_json())
    provider.publish(
        PostDraft(
            text="Pick one",
            idempotency_key="k",
            poll=Poll(options=("a", "b", "c"), expires_in_seconds=600, multiple=True),
        )
    )
    body = json.loads(post.calls.last.request.content)
    assert body["poll"] == {"options": ["a", "b", "c"], "expires_in": 600, "multiple": True}


def test_an_upload_still_processing_raises_media_processing_with_the_ids(api, provider) -> None:
    api.post("/api/v2/media").mock(
        side_effect=[
            httpx.Response(200, json={"id": "m1", "url": f"{SERVER}/m1.png"}),
            httpx.Response(202, json={"id": "m2", "url": None}),
        ]
    )
    post = api.post("/api/v1/statuses").respond(200, json=status_json())
    media = (Media(b"a", "image/png"), Media(b"b", "video/mp4"))
    with pytest.raises(MediaProcessing) as caught:
        provider.publish(PostDraft(text="clip", idempotency_key="k", media=media))
    assert caught.value.media_ids == ("m1", "m2")
    assert not post.called

    api.get("/api/v1/media/m1").respond(200, json={"id": "m1", "url": f"{SERVER}/m1.png"})
    api.get("/api/v1/media/m2").mock(
        side_effect=[
            httpx.Response(206, json={"id": "m2", "url": None}),
            httpx.Response(200, json={"id": "m2", "url": f"{SERVER}/m2.mp4"}),
        ]
    )
    retry = PostDraft(text="clip", idempotency_key="k", media=media)
    with pytest.raises(MediaProcessing):
        provider.publish(retry, media_ids=caught.value.media_ids)
    provider.publish(retry, media_ids=caught.value.media_ids)
    assert json.loads(post.calls.last.request.content)["media_ids"] == ["m1", "m2"]
    assert api.routes[0].call_count == 2  # no upload on either retry


def test_media_ids_must_match_the_drafts_media(provider) -> None:
    with pytest.raises(ValueError):
        provider.publish(
            PostDraft(text="x", idempotency_key="k", media=(Media(b"a", "image/png"),)),
            media_ids=("m1", "m2"),
        )


# --------------------------------------------------------------------------- connect


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  https://Mastodon.Social/about/  ", "https://mastodon.social"),
        ("http://mastodon.social", "https://mastodon.social"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("http://localhost:8080/api", "http://localhost:8080"),
        ("social.example:8443/", "https://social.example:8443"),
    ],
)
def test_server_urls_are_normalised(typed, normalised) -> None:
    assert Mastodon.normalize_server_url(typed) == normalised


@pytest.mark.parametrize("typed", ["ftp://mastodon.social", "https://", ""])
def test_nonsense_server_urls_are_rejected(typed) -> None:
    with pytest.raises(Rejected):
        Mastodon.normalize_server_url(typed)


def test_register_app_falls_back_to_the_v1_instance_and_sends_the_form(api) -> None:
    api.get("/api/v2/instance").respond(404, json={"error": "Record not found"})
    api.get("/api/v1/instance").respond(200, json={"uri": "social.example", "version": "3.5.3"})
    apps = api.post("/api/v1/apps").respond(
        200, json={"id": "1", "client_id": "cid", "client_secret": "csec"}
    )
    with httpx.Client() as http:
        app = Mastodon.register_app(
            "social.example", redirect_uri="https://c.test/cb", http=http, website="https://c.test"
        )
    assert app == OAuthApp(SERVER, "cid", "csec", "https://c.test/cb", "read write")
    form = dict(httpx.QueryParams(apps.calls.last.request.content.decode()))
    assert form == {
        "client_name": "Chorus",
        "redirect_uris": "https://c.test/cb",
        "scopes": "read write",
        "website": "https://c.test",
    }


def test_register_app_explains_what_is_not_mastodon(api) -> None:
    api.get("/api/v2/instance").respond(404, text="<html>Not found</html>")
    api.get("/api/v1/instance").respond(200, json={"hello": "world"})
    with httpx.Client() as http, pytest.raises(Rejected) as caught:
        Mastodon.register_app(SERVER, redirect_uri="https://c.test/cb", http=http)
    assert caught.value.message == (
        f"{SERVER} does not look like a Mastodon server: /api/v2/instance answered HTTP 404; "
        "/api/v1/instance is not a Mastodon instance document"
    )


@pytest.mark.parametrize(
    "answer", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(503)]
)
def test_register_app_on_an_unreachable_server_is_transient(api, answer) -> None:
    api.get("/api/v2/instance").mock(side_effect=[answer])
    with httpx.Client() as http, pytest.raises(Transient):
        Mastodon.register_app(SERVER, redirect_uri="https://c.test/cb", http=http)


def test_exchange_code_rejects_a_bad_code_in_plain_words(api) -> None:
    api.post("/oauth/token").respond(
        400,
        json={
            "error": "invalid_grant",
            "error_description": "The provided authorization grant is invalid.",
        },
    )
    app = OAuthApp(SERVER, "cid", "csec", "https://c.test/cb", "read write")
    with httpx.Client() as http, pytest.raises(Rejected) as caught:
        Mastodon.exchange_code(app, "bad", http=http)
    assert caught.value.message == "The provided authorization grant is invalid."


# --------------------------------------------------------------------------- reading


def test_find_published_pages_back_to_the_first_attempt_and_no_further(api, provider) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(200, json=account())
    newer = [
        status_json(str(200 - n), created_at="2026-01-02T03:10:00.000Z", content="<p>other</p>")
        for n in range(40)
    ]
    ours = status_json(
        "150",
        created_at="2026-01-02T03:03:00.000Z",  # a minute before `since`: clock drift
        content='<p>Hi <span class="h-card"><a href="https://far.example/@bob">@<span>bob</span>'
        "</a></span><br>there</p>",
        media_attachments=[{"id": "9"}],
    )
    old = status_json("100", created_at="2026-01-01T00:00:00.000Z", content="<p>hi</p>")
    pages = api.get("/api/v1/accounts/7/statuses").mock(
        side_effect=[
            httpx.Response(200, json=newer),
            httpx.Response(200, json=[ours, old]),
        ]
    )
    media = (Media(data=b"x", mime_type="image/png"),)
    sent = PostDraft(text="Hi @bob@far.example\nthere", idempotency_key="k", media=media)
    found = provider.find_published(sent, since=NOW)
    assert found is not None and found.ref.remote_id == "150"
    assert pages.calls[1].request.url.params["max_id"] == "161"
    assert pages.calls[0].request.url.params["limit"] == "40"

    pages.side_effect = [httpx.Response(200, json=[old])]
    assert provider.find_published(sent, since=NOW) is None


def test_find_published_never_publishes_and_fails_as_transient(api, provider) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(200, json=account())
    api.get("/api/v1/accounts/7/statuses").respond(503, text="Service Unavailable")
    create = api.post("/api/v1/statuses")
    with pytest.raises(Transient):
        provider.find_published(PostDraft(text="hi", idempotency_key="k"), since=NOW)
    assert not create.called


def test_interactions_follow_the_prev_link_and_keep_the_filters(api, provider) -> None:
    provider.page_size = 2
    seen = []

    def notifications(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        pages = {
            "9": (["11", "10"], f'<{SERVER}/api/v1/notifications?min_id=11>; rel="prev"'),
            "11": (["12"], f'<{SERVER}/api/v1/notifications?min_id=12>; rel="prev"'),
        }
        ids, link = pages[request.url.params["min_id"]]
        body = [
            {
                "id": i,
                "type": "favourite",
                "created_at": f"2026-01-02T03:04:{i}Z",
                "account": account(id="8", acct="fan@elsewhere.example"),
                "status": status_json("100"),
            }
            for i in ids
        ]
        return httpx.Response(200, json=body, headers={"Link": link})

    api.get("/api/v1/notifications").mock(side_effect=notifications)
    page = provider.fetch_interactions("9")
    assert page.cursor == "12"  # compared as numbers, not strings ("9" > "12")
    assert [i.remote_id for i in page.items] == ["10", "11", "12"]
    assert [p["min_id"] for p in seen] == ["9", "11"]
    for params in seen:
        assert params.get_list("types[]") == [
            "mention",
            "quote",
            "reblog",
            "favourite",
            "follow",
            "update",
        ]
        assert params["include_filtered"] == "true"


def test_quotes_are_mapped_to_the_quoted_post(api, provider) -> None:
    quoting = status_json(
        "200",
        content="<p>So true<br>really</p>",
        account=account(id="8", acct="fan@elsewhere.example"),
        quote={"state": "accepted", "quoted_status": status_json("100")},
    )
    api.get("/api/v1/notifications").respond(
        200,
        json=[
            {
                "id": "5",
                "type": "quote",
                "created_at": "2026-01-02T03:04:05Z",
                "account": account(id="8", acct="fan@elsewhere.example", display_name="Fan"),
                "status": quoting,
            },
            {"id": "6", "type": "poll", "created_at": "2026-01-02T03:04:06Z", "account": {}},
        ],
    )
    page = provider.fetch_interactions()
    assert page.cursor == "6"
    [quote] = page.items
    assert quote.kind == "quote"
    assert quote.remote_id == "200"
    assert quote.subject == RemoteRef("100")
    assert quote.text == "So true\nreally"
    assert (quote.author_handle, quote.author_name) == ("fan@elsewhere.example", "Fan")


def test_metrics_read_quotes_and_batch_twenty_ids(api, provider) -> None:
    refs = [RemoteRef(str(n)) for n in range(1, 23)]

    def statuses(request: httpx.Request) -> httpx.Response:
        ids = request.url.params.get_list("id[]")
        return httpx.Response(
            200,
            json=[status_json(i, favourites_count=1, reblogs_count=2, quotes_count=3) for i in ids],
        )

    route = api.get("/api/v1/statuses").mock(side_effect=statuses)
    metrics = provider.fetch_post_metrics(refs)
    assert [len(c.request.url.params.get_list("id[]")) for c in route.calls] == [20, 2]
    assert [m.ref for m in metrics] == refs
    assert {(m.likes, m.reposts, m.quotes) for m in metrics} == {(1, 2, 3)}


@pytest.mark.parametrize("status", [400, 404, 405])
def test_metrics_fall_back_to_single_reads_where_batch_reads_are_missing(
    api, provider, status
) -> None:
    api.get("/api/v1/statuses").respond(status, json={"error": "Record not found"})
    api.get("/api/v1/statuses/1").respond(200, json=status_json("1", favourites_count=3))
    api.get("/api/v1/statuses/2").respond(404, json={"error": "Record not found"})
    metrics = provider.fetch_post_metrics([RemoteRef("1"), RemoteRef("2")])
    assert [(m.ref.remote_id, m.likes) for m in metrics] == [("1", 3)]


def test_a_batch_read_refused_for_the_token_is_auth_expired_not_a_fallback(api, provider) -> None:
    api.get("/api/v1/statuses").respond(400, text="Invalid Bearer token")
    single = api.get("/api/v1/statuses/1")
    with pytest.raises(AuthExpired):
        provider.fetch_post_metrics([RemoteRef("1")])
    assert not single.called


def instance_v2(**configuration: dict) -> dict:
    return {"domain": "social.example", "version": "4.3.0", "configuration": configuration}


def test_server_limits_come_from_the_v2_instance_and_zero_or_missing_keep_defaults(api) -> None:
    api.get("/api/v2/instance").respond(
        200,
        json=instance_v2(
            statuses={"max_characters": 5000, "characters_reserved_per_url": 0},
            media_attachments={
                "supported_mime_types": ["image/png", "video/mp4"],
                "image_size_limit": 0,
                "video_size_limit": 200 * 1024 * 1024,
            },
            polls={"max_options": 8, "max_characters_per_option": "100"},
        ),
    )
    v1 = api.get("/api/v1/instance")
    with httpx.Client() as http:
        limits = Mastodon.fetch_limits({"server_url": SERVER}, http=http)
    defaults = Mastodon.limits
    assert limits.max_text == 5000 and limits.url_length == defaults.url_length == 23
    assert limits.media_types == ("image/png", "video/mp4")
    assert limits.max_image_bytes == defaults.max_image_bytes
    assert limits.max_video_bytes == 200 * 1024 * 1024 and limits.max_media == 4
    assert (limits.max_poll_options, limits.max_poll_option_length) == (8, 100)
    assert limits.max_alt_text == defaults.max_alt_text
    assert not v1.called


def test_server_limits_fall_back_to_v1_and_its_older_spellings(api) -> None:
    api.get("/api/v2/instance").respond(404, json={"error": "Not found"})
    api.get("/api/v1/instance").respond(
        200,
        json={
            "uri": "pleroma.example",
            "max_toot_chars": 2000,
            "upload_limit": 8_000_000,
            "poll_limits": {"max_options": 20, "max_option_chars": 200},
            "description_limit": 5000,
        },
    )
    with httpx.Client() as http:
        limits = Mastodon.fetch_limits({"server_url": SERVER}, http=http)
    assert (limits.max_text, limits.max_image_bytes, limits.max_video_bytes) == (
        2000,
        8_000_000,
        8_000_000,
    )
    assert (limits.max_poll_options, limits.max_poll_option_length) == (20, 200)
    assert limits.max_alt_text == 5000 and limits.media_types == Mastodon.limits.media_types


def test_server_limits_of_a_server_that_is_not_mastodon_are_rejected(api) -> None:
    api.get("/api/v2/instance").respond(404, text="Not Found")
    api.get("/api/v1/instance").respond(404, text="Not Found")
    with httpx.Client() as http, pytest.raises(Rejected):
        Mastodon.fetch_limits({"server_url": SERVER}, http=http)


def test_account_metrics(api, provider) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(200, json=account())
    metrics = provider.fetch_account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (10, 2, 33)
