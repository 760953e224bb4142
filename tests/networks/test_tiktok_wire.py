"""TikTok's refusals become the provider interface's typed errors (respx), with TikTok's
log id kept; chunk planning and the video length read from the MP4 header."""

import httpx
import pytest
import respx
from tests.networks.test_tiktok_emulator import mp4

from chorus.networks.providers import tiktok_media
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    Media,
    OAuthApp,
    RateLimited,
    Rejected,
    Transient,
)
from chorus.networks.providers.tiktok import TikTok
from chorus.networks.providers.tiktok_wire import API_URL

USER = f"{API_URL}/v2/user/info/"
TOKEN = f"{API_URL}/v2/oauth/token/"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def app(settings):
    settings.CHORUS_NETWORK_OPTIONS = {"tiktok": {"client_key": "ck", "client_secret": "cs"}}


def tiktok() -> TikTok:
    credentials = Credentials(
        identity={"open_id": "o1"}, secrets={"access_token": "act.1", "refresh_token": "rft.1"}
    )
    return TikTok(credentials, http=httpx.Client())


def refusal(status: int, code: str, message="no", log_id="202612031200LOG"):
    body = {"data": {}, "error": {"code": code, "message": message, "log_id": log_id}}
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("answer", "raised", "words"),
    [
        (refusal(401, "access_token_invalid"), AuthExpired, "Reconnect"),
        (refusal(401, "scope_not_authorized"), AuthExpired, "allow every permission"),
        (refusal(401, "scope_permission_missed"), Rejected, "not approved"),
        (refusal(429, "rate_limit_exceeded"), RateLimited, "slow down"),
        (refusal(403, "spam_risk_too_many_posts"), RateLimited, "daily limit"),
        (refusal(403, "reached_active_user_cap"), RateLimited, "active posting accounts"),
        (refusal(403, "spam_risk_user_banned_from_posting"), Rejected, "stopped this account"),
        (
            refusal(403, "unaudited_client_can_only_post_to_private_accounts"),
            Rejected,
            "audited",
        ),
        (refusal(403, "url_ownership_unverified"), Rejected, "not verified"),
        (refusal(400, "privacy_level_option_mismatch"), Rejected, "audience"),
        (refusal(400, "invalid_params", "fields is required"), Rejected, "fields is required"),
        (refusal(500, "internal_error"), Transient, "try again"),
        (httpx.Response(502, text="<html>Bad gateway</html>"), Transient, "not JSON"),
    ],
)
@respx.mock
def test_each_refusal_is_typed_and_keeps_the_log_id(answer, raised, words):
    respx.get(USER).mock(return_value=answer)
    with pytest.raises(raised) as caught:
        tiktok().verify()
    assert words in caught.value.message
    if answer.headers.get("content-type") == "application/json":
        assert "TikTok log id 202612031200LOG" in caught.value.message


@respx.mock
def test_rate_limit_waits_for_retry_after():
    respx.get(USER).mock(
        return_value=httpx.Response(
            429,
            headers={"Retry-After": "42"},
            json={
                "data": {},
                "error": {"code": "rate_limit_exceeded", "message": "", "log_id": ""},
            },
        )
    )
    with pytest.raises(RateLimited) as caught:
        tiktok().verify()
    assert caught.value.retry_after == 42


@respx.mock
def test_success_envelope_gives_the_data():
    user = {"open_id": "o1", "username": "cafe", "display_name": "Café"}
    respx.get(USER).mock(
        return_value=httpx.Response(
            200,
            json={"data": {"user": user}, "error": {"code": "ok", "message": "", "log_id": "L"}},
        )
    )
    identity = tiktok().verify()
    assert identity.handle == "cafe" and identity.display_name == "Café"
    assert identity.profile_url == "https://www.tiktok.com/@cafe"


@respx.mock
def test_token_refusals():
    respx.post(TOKEN).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": "invalid_grant",
                "error_description": "Refresh token is invalid or expired.",
                "log_id": "L2",
            },
        )
    )
    with pytest.raises(AuthExpired, match="Refresh token is invalid"):
        tiktok().refresh()
    app = OAuthApp(API_URL, "ck", "cs", "https://chorus.test/cb", "user.info.basic")
    with pytest.raises(Rejected, match="did not accept the sign-in"):
        TikTok.exchange_code(app, "used", http=httpx.Client())


@respx.mock
def test_token_endpoint_fault_is_transient():
    respx.post(TOKEN).mock(return_value=httpx.Response(503, text="busy"))
    with pytest.raises(Transient):
        tiktok().refresh()


@pytest.mark.parametrize(
    ("size", "plan"),
    [
        (1, (1, 1)),
        (4 * MB, (4 * MB, 1)),
        (7 * MB, (7 * MB, 1)),
        (10 * MB, (10 * MB, 1)),
        (25 * MB, (10 * MB, 2)),
        (1000 * MB, (10 * MB, 100)),
    ],
)
def test_chunks_follow_tiktoks_rules(size, plan):
    chunk, count = tiktok_media.chunks(size)
    assert (chunk, count) == plan
    assert chunk == size or 5 * MB <= chunk <= 64 * MB
    last = size - chunk * (count - 1)
    assert chunk <= last < 128 * MB or count == 1


def test_pieces_cover_every_byte_once():
    data = b"x" * (25 * MB + 3)
    pieces = tiktok_media.pieces(data)
    assert pieces[0] == (0, 10 * MB - 1) and pieces[-1] == (10 * MB, len(data) - 1)


def test_video_length_from_the_movie_header():
    assert tiktok_media.video_seconds(Media(mp4(42), "video/mp4")) == 42
    assert tiktok_media.video_seconds(Media(b"\x1aE\xdf\xa3 webm", "video/webm")) is None
    assert tiktok_media.video_seconds(Media(mp4(42)[:30], "video/mp4")) is None
