"""Wire-level behaviour of the X connector: every refusal shape X documents, its rate-limit
headers, token renewal, and parsing (docs.x.com/x-api/fundamentals/response-codes-and-errors)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.x import API_URL, X

NOW = int(time.time())


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def account(settings) -> Iterator[X]:
    settings.CHORUS_NETWORK_OPTIONS = {"x": {"client_id": "app", "client_secret": "sec"}}
    credentials = Credentials(
        identity={"user_id": "42", "username": "brand"},
        secrets={"access_token": "at-1", "refresh_token": "rt-1", "expires_at": str(NOW + 7200)},
    )
    with httpx.Client() as http:
        yield X(credentials, http=http)


def problem(status: int, detail: str, **more) -> httpx.Response:
    body = {"title": "x", "detail": detail, "type": "about:blank", "status": status, **more}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def post(account: X, text="hello") -> None:
    account.publish(PostDraft(text=text, idempotency_key="k"))


def test_401_is_auth_expired(api, account):
    api.post("/2/tweets").mock(return_value=problem(401, "Unauthorized"))
    with pytest.raises(AuthExpired, match="Reconnect"):
        post(account)


def test_403_duplicate_is_rejected_with_xs_words(api, account):
    words = "You are not allowed to create a Tweet with duplicate content."
    api.post("/2/tweets").mock(return_value=problem(403, words))
    with pytest.raises(Rejected, match="duplicate content"):
        post(account)


def test_403_not_permitted_is_rejected_with_xs_words(api, account):
    words = "You are not permitted to perform this action."
    api.post("/2/tweets").mock(return_value=problem(403, words))
    with pytest.raises(Rejected, match="not permitted to perform"):
        post(account)


def test_403_client_not_enrolled_names_the_tier_and_the_guide(api, account):
    api.get("/2/users/me").mock(
        return_value=problem(
            403,
            "When authenticating requests you must use keys from an App attached to a Project.",
            reason="client-not-enrolled",
            type="https://api.twitter.com/2/problems/client-forbidden",
        )
    )
    with pytest.raises(Rejected, match="docs/networks/x.md"):
        account.verify()


def test_400_with_an_errors_list_keeps_the_message(api, account):
    body = {
        "errors": [{"message": "The `ids` query parameter value [x] is not valid"}],
        "title": "Invalid Request",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    api.get("/2/tweets").mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(Rejected, match="is not valid"):
        account.fetch_post_metrics([RemoteRef("x")])


def test_429_waits_until_x_rate_limit_reset(api, account):
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(time.time()) + 300),
    }
    api.get("/2/users/me").mock(
        return_value=httpx.Response(
            429,
            json={
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            },
            headers=headers,
        )
    )
    with pytest.raises(RateLimited) as limited:
        account.verify()
    assert 290 <= limited.value.retry_after <= 301
    assert account.rate_budget.limit == 100 and account.rate_budget.remaining == 0


def test_429_daily_cap_waits_for_the_24_hour_reset(api, account):
    headers = {
        "x-user-limit-24hour-limit": "17",
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(int(time.time()) + 7200),
        "x-rate-limit-reset": str(int(time.time()) + 60),
    }
    api.post("/2/tweets").mock(
        return_value=httpx.Response(429, headers=headers, json={"title": "Too Many Requests"})
    )
    with pytest.raises(RateLimited, match="daily limit") as limited:
        post(account)
    assert 7100 <= limited.value.retry_after <= 7201


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(api, account, status):
    api.post("/2/tweets").mock(return_value=problem(status, "Service Unavailable"))
    with pytest.raises(Transient):
        post(account)


def test_a_timeout_is_transient(api, account):
    api.post("/2/tweets").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(Transient):
        post(account)


def test_an_html_error_page_is_not_shown(api, account):
    api.get("/2/users/me").mock(
        return_value=httpx.Response(
            502, text="<html>bad gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(Transient) as failed:
        account.verify()
    assert "<html>" not in failed.value.message


def test_the_budget_is_kept_from_every_answer(api, account):
    api.get("/2/users/me").mock(
        return_value=httpx.Response(
            200,
            json={"data": {"id": "42", "username": "brand", "name": "Brand"}},
            headers={
                "x-rate-limit-limit": "75",
                "x-rate-limit-remaining": "74",
                "x-rate-limit-reset": str(NOW + 900),
            },
        )
    )
    account.verify()
    budget = account.rate_budget
    assert (budget.limit, budget.remaining) == (75, 74)
    assert budget.reset_at == datetime.fromtimestamp(NOW + 900, tz=UTC)


def test_refresh_sends_basic_auth_and_stores_the_rotated_pair(api, account):
    route = api.post("/2/oauth2/token").mock(
        return_value=httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": "at-2",
                "refresh_token": "rt-2",
                "scope": "tweet.read",
            },
        )
    )
    account.refresh()
    request = route.calls.last.request
    assert request.headers["authorization"].startswith("Basic ")
    assert (
        b"grant_type=refresh_token" in request.content and b"refresh_token=rt-1" in request.content
    )
    assert account.credentials.secrets["refresh_token"] == "rt-2"
    assert account.credentials.secrets["access_token"] == "at-2" and account.credentials_changed


def test_a_spent_refresh_token_is_auth_expired(api, account):
    api.post("/2/oauth2/token").mock(
        return_value=httpx.Response(
            400,
            json={
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
        )
    )
    with pytest.raises(AuthExpired, match="token was invalid"):
        account.refresh()


def test_an_expiring_token_is_renewed_before_posting(api, account):
    account.credentials.secrets["expires_at"] = str(int(time.time()) + 5)
    api.post("/2/oauth2/token").mock(
        return_value=httpx.Response(
            200, json={"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 7200}
        )
    )
    create = api.post("/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "1001", "text": "hello"}})
    )
    post(account)
    assert create.calls.last.request.headers["authorization"] == "Bearer at-2"


def test_publish_sends_reply_and_poll_as_documented(api, account):
    from chorus.networks.providers.base import Poll

    create = api.post("/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "1002", "text": "q"}})
    )
    account.publish(
        PostDraft(
            text="q",
            idempotency_key="k",
            reply_to=RemoteRef("77"),
            poll=Poll(options=("a", "b"), expires_in_seconds=86400),
        )
    )
    body = json.loads(create.calls.last.request.content)
    assert body == {
        "text": "q",
        "reply": {"in_reply_to_tweet_id": "77"},
        "poll": {"options": ["a", "b"], "duration_minutes": 1440},
    }


def test_find_published_on_a_tier_that_cannot_read_refuses_to_guess(api, account):
    api.get("/2/users/42/tweets").mock(
        return_value=problem(403, "Client Forbidden", reason="client-not-enrolled")
    )
    with pytest.raises(Rejected, match="check the account on X"):
        account.find_published(
            PostDraft(text="hi", idempotency_key="k"),
            since=datetime.now(UTC) - timedelta(minutes=1),
        )


def test_deleting_a_missing_post_is_fine(api, account):
    api.delete("/2/tweets/5").mock(return_value=problem(404, "Not Found"))
    account.delete(RemoteRef("5"))


def test_wrong_app_keys_name_the_settings(api, account):
    api.post("/2/oauth2/token").mock(
        return_value=httpx.Response(
            401,
            json={"error": "unauthorized_client", "error_description": "Missing valid auth"},
        )
    )
    with pytest.raises(AuthExpired, match="CHORUS_X_CLIENT_SECRET"):
        account.refresh()
