"""Wire-level behaviour of the LinkedIn connector: every refusal shape LinkedIn documents
(learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling), its headers, token
endpoint refusals, and the little text format (chorus.text.linkedin)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    Transient,
)
from chorus.networks.providers.linkedin import LinkedIn
from chorus.networks.providers.linkedin_oauth import API_URL, AUTH_URL
from chorus.networks.providers.linkedin_wire import raise_for
from chorus.text.linkedin import little_text, plain_text

NOW = int(time.time())
MEMBER = "urn:li:person:abc"
GRANTED = "openid profile w_member_social"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def account(settings) -> Iterator[LinkedIn]:
    settings.CHORUS_NETWORK_OPTIONS = {"linkedin": {"client_id": "app", "client_secret": "sec"}}
    credentials = Credentials(
        identity={"member": MEMBER, "author": MEMBER},
        secrets={"access_token": "at-1", "expires_at": str(NOW + 86400 * 30), "scope": GRANTED},
    )
    with httpx.Client() as http:
        yield LinkedIn(credentials, http=http)


def refusal(status: int, message: str, **more) -> httpx.Response:
    return httpx.Response(status, json={"status": status, "message": message, **more})


def post(account: LinkedIn, text="hello") -> None:
    account.publish(PostDraft(text=text, idempotency_key="k"))


def test_a_post_carries_the_version_headers_and_reads_x_restli_id(api, account):
    route = api.post(f"{API_URL}/rest/posts").mock(
        return_value=httpx.Response(201, headers={"x-restli-id": "urn:li:share:7"})
    )
    account.publish(PostDraft(text="a_b (c)", idempotency_key="k"))
    sent = route.calls.last.request
    assert sent.headers["LinkedIn-Version"].isdigit() and len(sent.headers["LinkedIn-Version"]) == 6
    assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert sent.headers["Authorization"] == "Bearer at-1"
    payload = json.loads(sent.content)
    assert payload["author"] == MEMBER and payload["commentary"] == "a\\_b \\(c\\)"
    assert payload["distribution"]["feedDistribution"] == "MAIN_FEED"


def test_401_is_auth_expired(api, account):
    api.post(f"{API_URL}/rest/posts").mock(
        return_value=refusal(
            401,
            "The token used in the request has been revoked by the user",
            code="REVOKED_ACCESS_TOKEN",
            serviceErrorCode=65601,
        )
    )
    with pytest.raises(AuthExpired, match="revoked by the user"):
        post(account)


def test_403_when_the_token_lacks_the_scope_is_auth_expired(api, account):
    account.credentials.secrets["scope"] = "openid profile"
    api.post(f"{API_URL}/rest/posts").mock(
        return_value=refusal(
            403,
            "Not enough permissions to access: partnerApiPostsExternal.CREATE",
            code="ACCESS_DENIED",
            serviceErrorCode=100,
        )
    )
    with pytest.raises(AuthExpired, match="w_member_social"):
        post(account)


def test_403_with_the_scope_granted_is_rejected_in_linkedins_words(api, account):
    api.post(f"{API_URL}/rest/posts").mock(
        return_value=refusal(403, "Member is restricted from posting", code="ACCESS_DENIED")
    )
    with pytest.raises(Rejected, match="Member is restricted from posting"):
        post(account)


def test_429_uses_retry_after(api, account):
    api.post(f"{API_URL}/rest/posts").mock(
        return_value=httpx.Response(
            429,
            json={"status": 429, "message": "Too many requests"},
            headers={"Retry-After": "120"},
        )
    )
    with pytest.raises(RateLimited) as caught:
        post(account)
    assert caught.value.retry_after == 120


def test_daily_limit_without_retry_after_waits_until_midnight_utc():
    response = refusal(
        429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
    )
    now = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
    with pytest.raises(RateLimited, match="daily limit") as caught:
        raise_for(response, now=now)
    assert caught.value.retry_after == 2 * 3600


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(api, account, status):
    api.post(f"{API_URL}/rest/posts").mock(return_value=refusal(status, "Internal Server Error"))
    with pytest.raises(Transient):
        post(account)


def test_timeout_is_transient(api, account):
    api.post(f"{API_URL}/rest/posts").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(Transient):
        post(account)


def test_422_is_rejected_with_the_message_and_input_error(api, account):
    api.post(f"{API_URL}/rest/posts").mock(
        return_value=refusal(
            422,
            "ERROR :: /commentary :: is invalid",
            errorDetailType="com.linkedin.common.error.BadRequest",
            errorDetails={"inputErrors": [{"description": "Commentary too long"}]},
        )
    )
    with pytest.raises(Rejected, match=r"/commentary :: is invalid \(Commentary too long\)"):
        post(account)


def test_400_is_rejected_with_the_message(api, account):
    api.post(f"{API_URL}/rest/posts").mock(
        return_value=refusal(400, "A version must be present. Please specify a version.")
    )
    with pytest.raises(Rejected, match="version must be present"):
        post(account)


def test_a_2xx_that_is_not_json_is_transient(api, account):
    api.post(f"{API_URL}/rest/images").mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(Transient):
        account.publish(
            PostDraft(text="x", idempotency_key="k", media=(Media(b"img", "image/png"),))
        )


def test_refresh_refused_by_linkedin_is_auth_expired(api, account):
    account.credentials.secrets |= {"refresh_token": "rt", "expires_at": str(NOW - 10)}
    api.post(f"{AUTH_URL}/oauth/v2/accessToken").mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_request", "error_description": "Invalid refresh token"}
        )
    )
    with pytest.raises(AuthExpired, match="Invalid refresh token"):
        post(account)


def test_wrong_app_keys_name_the_settings(api, account):
    account.credentials.secrets |= {"refresh_token": "rt", "expires_at": str(NOW - 10)}
    api.post(f"{AUTH_URL}/oauth/v2/accessToken").mock(
        return_value=httpx.Response(
            401,
            json={"error": "invalid_client", "error_description": "Client authentication failed"},
        )
    )
    with pytest.raises(AuthExpired, match="CHORUS_LINKEDIN_CLIENT_SECRET"):
        post(account)


def test_expired_without_refresh_token_asks_to_reconnect(api, account):
    account.credentials.secrets["expires_at"] = str(NOW - 10)
    with pytest.raises(AuthExpired, match="60 days"):
        post(account)


def test_refresh_keeps_the_refresh_token_and_scope(api, account):
    account.credentials.secrets |= {"refresh_token": "rt", "expires_at": str(NOW + 60)}
    api.post(f"{AUTH_URL}/oauth/v2/accessToken").mock(
        return_value=httpx.Response(200, json={"access_token": "at-2", "expires_in": 5184000})
    )
    route = api.post(f"{API_URL}/rest/posts").mock(
        return_value=httpx.Response(201, headers={"x-restli-id": "urn:li:share:8"})
    )
    post(account)
    assert route.calls.last.request.headers["Authorization"] == "Bearer at-2"
    secrets = account.credentials.secrets
    assert secrets["refresh_token"] == "rt" and secrets["scope"] == GRANTED
    assert account.credentials_changed


@pytest.mark.parametrize(
    ("typed", "little"),
    [
        ("Hello (world)", "Hello \\(world\\)"),
        ("a_b*c~d|e", "a\\_b\\*c\\~d\\|e"),
        ("{x} [y] <z>", "\\{x\\} \\[y\\] \\<z\\>"),
        ("mail me @ home, back\\slash", "mail me \\@ home, back\\\\slash"),
        ("#launch day #2026 and # alone", "#launch day #2026 and \\# alone"),
        ("see https://example.com/a_(b)?q=1 now", "see https://example.com/a_(b)?q=1 now"),
        ("สวัสดี #ไทย (ครับ)", "สวัสดี #ไทย \\(ครับ\\)"),
    ],
)
def test_little_text_escapes_reserved_characters(typed, little):
    assert little_text(typed) == little
    assert plain_text(little) == typed


def test_plain_text_reads_hashtag_templates_and_mentions():
    assert plain_text("Go {hashtag|\\#|Launch} with @[Acme](urn:li:organization:1)") == (
        "Go #Launch with Acme"
    )
