"""Threads' Graph-shaped refusals become the provider interface's typed errors (respx)."""

import httpx
import pytest
import respx

from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    OAuthApp,
    PostDraft,
    RateLimited,
    Rejected,
    Transient,
)
from chorus.networks.providers.threads import GRAPH_URL, Threads

ME = f"{GRAPH_URL}/v1.0/me"
LIMIT = f"{GRAPH_URL}/v1.0/7/threads_publishing_limit"


def threads() -> Threads:
    credentials = Credentials(identity={"user_id": "7"}, secrets={"access_token": "tok"})
    return Threads(credentials, http=httpx.Client())


def error(code, message="no", subcode=None, status=400, **more):
    body = {"message": message, "type": "OAuthException", "code": code, **more}
    if subcode is not None:
        body["error_subcode"] = subcode
    return httpx.Response(status, json={"error": body})


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (error(190, "Session has expired", 463), AuthExpired),
        (error(190, "Invalid OAuth access token", status=401), AuthExpired),
        (error(4, "Application request limit reached"), RateLimited),
        (error(17, "User request limit reached"), RateLimited),
        (httpx.Response(429), RateLimited),
        (error(2, "Service temporarily unavailable", status=503), Transient),
        (error(1, "An unknown error occurred", is_transient=True, status=500), Transient),
        (httpx.Response(502, text="<html>bad gateway</html>"), Transient),
        (error(100, "Param text must be at most 500 characters long."), Rejected),
        (error(10, "Application does not have permission for this action", status=403), Rejected),
    ],
)
@respx.mock
def test_graph_refusals_become_typed_errors(answer, raised):
    respx.get(ME).mock(return_value=answer)
    with pytest.raises(raised):
        threads().verify()


@respx.mock
def test_a_timeout_is_transient():
    respx.get(ME).mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(Transient):
        threads().verify()


@respx.mock
def test_the_token_travels_as_a_parameter_and_the_answer_is_read():
    route = respx.get(ME).mock(
        return_value=httpx.Response(200, json={"id": "7", "username": "desk", "name": "Desk"})
    )
    identity = threads().verify()
    assert route.calls.last.request.url.params["access_token"] == "tok"
    assert (identity.remote_id, identity.handle) == ("7", "desk")
    assert identity.profile_url == "https://www.threads.net/@desk"


@respx.mock
def test_reply_quota_is_read_for_replies():
    from chorus.networks.providers.base import RemoteRef

    respx.get(LIMIT).mock(
        return_value=httpx.Response(
            200,
            json={
                "data": [
                    {
                        "quota_usage": 0,
                        "config": {"quota_total": 250},
                        "reply_quota_usage": 1000,
                        "reply_config": {"quota_total": 1000},
                    }
                ]
            },
        )
    )
    respx.get(f"{GRAPH_URL}/v1.0/me/replies").mock(
        return_value=httpx.Response(200, json={"data": []})
    )
    reply = PostDraft(text="hi", idempotency_key="k", reply_to=RemoteRef("1"))
    with pytest.raises(RateLimited, match="1000 replies"):
        threads().publish(reply)


@respx.mock
def test_a_used_code_is_a_refused_sign_in_and_a_refused_refresh_is_auth_expired(settings):
    settings.CHORUS_NETWORK_OPTIONS = {"threads": {"app_id": "a", "app_secret": "b"}}
    respx.post(f"{GRAPH_URL}/oauth/access_token").mock(
        return_value=error(100, "This authorization code has been used.", 36009)
    )
    app = OAuthApp(GRAPH_URL, "a", "b", "https://chorus.test/cb", "threads_basic")
    with pytest.raises(Rejected, match="has been used"):
        Threads.exchange_code(app, "used#_", http=httpx.Client())
    respx.get(f"{GRAPH_URL}/refresh_access_token").mock(
        return_value=error(190, "Error validating access token", 463)
    )
    with pytest.raises(AuthExpired):
        threads().refresh()


def test_authorization_url_names_every_permission(settings):
    settings.CHORUS_NETWORK_OPTIONS = {"threads": {"app_id": "a", "app_secret": "b"}}
    app = Threads.register_app("", redirect_uri="https://chorus.test/cb", http=httpx.Client())
    url = Threads.authorization_url(app, state="st")
    assert url.startswith("https://threads.net/oauth/authorize?")
    for scope in ("threads_basic", "threads_content_publish", "threads_manage_insights"):
        assert scope in url
