"""Wire-level behaviour shared by the Facebook and Instagram connectors: every documented
Graph API error shape (developers.facebook.com/docs/graph-api/guides/error-handling) and
rate-limit header (.../graph-api/overview/rate-limiting) mapped onto the typed errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from chorus.networks.media_links import public_media_url, read_media_token, site_is_reachable_from
from chorus.networks.providers import meta_graph
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    Media,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.facebook import Facebook
from chorus.networks.providers.instagram import Instagram
from chorus.text import count
from chorus.text.instagram import caption_problems, hashtags, mentions

GRAPH = "https://graph.facebook.com"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def meta_app(settings) -> None:
    settings.CHORUS_META_APP_ID = "app"
    settings.CHORUS_META_APP_SECRET = "secret"
    settings.CHORUS_META_GRAPH_URL = GRAPH
    settings.CHORUS_META_GRAPH_VERSION = "v23.0"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=f"{GRAPH}/v23.0", assert_all_called=False) as router:
        yield router


@pytest.fixture
def page() -> Iterator[Facebook]:
    credentials = Credentials(
        identity={"page_id": "42", "graph_url": GRAPH}, secrets={"access_token": "tok"}
    )
    with httpx.Client() as http:
        yield Facebook(credentials, http=http)


def graph_error(
    code: int, subcode: int | None = None, status: int = 400, headers=None, **extra
) -> httpx.Response:
    error = {"message": f"error {code}", "type": "OAuthException", "code": code, **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error}, headers=headers)


@pytest.mark.parametrize(
    ("code", "subcode", "words"),
    [
        (190, 463, "the access expired"),
        (190, 460, "password was changed"),
        (190, 458, "app was removed"),
        (190, 467, "no longer valid"),
        (190, None, "error 190"),
        (102, None, "error 102"),
    ],
)
def test_token_errors_are_auth_expired(api, page, code, subcode, words):
    api.get("/42").mock(return_value=graph_error(code, subcode))
    with pytest.raises(AuthExpired, match=words):
        page.verify()


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613, 80001, 80014])
def test_rate_codes_are_rate_limited_with_regain_time(api, page, code):
    usage = {"42": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    api.get("/42").mock(
        return_value=httpx.Response(
            400,
            json={"error": {"message": "slow down", "code": code}},
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )
    )
    with pytest.raises(RateLimited) as limited:
        page.verify()
    assert limited.value.retry_after == 180


def test_a_bare_429_waits_its_retry_after(api, page):
    api.get("/42").mock(return_value=httpx.Response(429, text="Too Many Requests",
                                                    headers={"Retry-After": "42"}))  # fmt: skip
    with pytest.raises(RateLimited) as limited:
        page.verify()
    assert limited.value.retry_after == 42


def test_rate_limit_without_a_regain_time_waits_the_default(api, page):
    api.get("/42").mock(return_value=graph_error(4, headers={"X-App-Usage": '{"call_count":100}'}))
    with pytest.raises(RateLimited) as limited:
        page.verify()
    assert limited.value.retry_after == meta_graph._DEFAULT_RETRY_AFTER


@pytest.mark.parametrize(
    "response",
    [
        graph_error(1),
        graph_error(2),
        graph_error(100, is_transient=True),
        httpx.Response(503, text="<html>busy</html>"),
        httpx.Response(500, json={"error": {"message": "x", "code": 1}}),
    ],
)
def test_passing_faults_are_transient(api, page, response):
    api.get("/42").mock(return_value=response)
    with pytest.raises(Transient):
        page.verify()


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (graph_error(100, message="(#100) Invalid parameter"), "Invalid parameter"),
        (graph_error(200), "error 200"),
        (graph_error(10, error_user_msg="You need pages_manage_posts"), "pages_manage_posts"),
        (graph_error(368, message="Temporarily blocked for policy"), "blocked"),
    ],
)
def test_refusals_keep_metas_words(api, page, response, words):
    api.get("/42").mock(return_value=response)
    with pytest.raises(Rejected, match=words):
        page.verify()


def test_timeouts_are_transient(api, page):
    api.get("/42").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(Transient, match="did not answer in time"):
        page.verify()


def test_usage_headers_become_a_budget_and_the_proof_is_sent(api, page, monkeypatch):
    monkeypatch.setattr(meta_graph, "_now", lambda: NOW)
    usage = {"42": [{"call_count": 30, "total_time": 85, "estimated_time_to_regain_access": 0}]}
    route = api.get("/42").mock(
        return_value=httpx.Response(
            200,
            json={"id": "42", "name": "Page"},
            headers={
                "X-Business-Use-Case-Usage": json.dumps(usage),
                "X-App-Usage": '{"call_count": 10}',
            },
        )
    )
    page.verify()
    reset = NOW + timedelta(seconds=meta_graph._DEFAULT_RETRY_AFTER)
    assert page.rate_budget == meta_graph.RateBudget(limit=100, remaining=15, reset_at=reset)
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer tok"
    assert "appsecret_proof=" in str(sent.url) and "tok" not in str(sent.url)


def test_garbled_usage_headers_are_ignored(api, page):
    api.get("/42").mock(
        return_value=httpx.Response(200, json={"id": "42"}, headers={"X-App-Usage": "not json"})
    )
    page.verify()
    assert page.rate_budget is None


def test_facebook_delete_of_a_missing_post_is_done(api, page):
    api.delete("/42_1").mock(return_value=graph_error(100, 33))
    page.delete(RemoteRef("42_1"))
    api.delete("/42_2").mock(return_value=graph_error(200))
    with pytest.raises(Rejected):
        page.delete(RemoteRef("42_2"))


def test_login_dialog_uses_a_business_configuration_when_set(settings):
    app = Facebook.register_app("", redirect_uri="https://c.test/cb", http=httpx.Client())
    assert "scope=pages_show_list" in Facebook.authorization_url(app, state="s")
    settings.CHORUS_META_CONFIG_ID = "cfg1"
    url = Facebook.authorization_url(app, state="s")
    assert "config_id=cfg1" in url and "scope=" not in url


def test_missing_app_credentials_say_what_to_set(settings):
    settings.CHORUS_META_APP_SECRET = ""
    with pytest.raises(Rejected, match="CHORUS_META_APP_ID and CHORUS_META_APP_SECRET"):
        Instagram.register_app("", redirect_uri="https://c.test/cb", http=httpx.Client())


# --------------------------------------------------------------------------- media links


def test_private_site_address_is_said_clearly(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    media = Media(b"jpeg", "image/jpeg", filename="abc.jpg")
    with pytest.raises(Rejected, match="not reachable from the internet.*CHORUS_SITE_URL"):
        public_media_url(media, network="Instagram", network_url=GRAPH)
    assert site_is_reachable_from("http://127.0.0.1:9999")  # the emulator, also private
    settings.SITE_URL = "https://chorus.example.org"
    url = public_media_url(media, network="Instagram", network_url=GRAPH)
    assert url.startswith("https://chorus.example.org/media/network/")
    token = url.split("/")[-2]
    assert read_media_token(token)[0] == "abc.jpg"
    assert read_media_token(token[:-2] + "xx") is None


def test_media_outside_the_library_is_refused(settings):
    settings.SITE_URL = "https://chorus.example.org"
    with pytest.raises(Rejected, match="media library"):
        public_media_url(Media(b"x", "image/jpeg"), network="Instagram", network_url=GRAPH)


# --------------------------------------------------------------------------- text rules


def test_utf16_counting_counts_emoji_twice_and_thai_marks_once():
    assert count("สวัสดี", "utf16") == 6
    assert count("😀", "utf16") == 2
    assert count("a" * 63_206, "utf16") == Facebook.limits.max_text


def test_instagram_hashtags_and_mentions():
    assert hashtags("#ข้าวมันไก่ #food2026 a#not #123 &#39;") == ["ข้าวมันไก่", "food2026"]
    assert mentions("@chorus.cafe hi mail@example.org @a_b.") == ["chorus.cafe", "a_b"]
    assert caption_problems(" ".join(f"#t{i}" for i in range(30))) == []
    assert caption_problems(" ".join(f"#t{i}" for i in range(31))) == [
        "31 hashtags (Instagram takes at most 30)"
    ]
