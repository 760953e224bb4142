"""The social-accounts API: connect, list with health, members, disconnect; no secrets out."""

import json

import pytest

from chorus.accounts.roles import Role
from chorus.networks import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(owner, mastodon_server):
    username, _ = mastodon_server.new_user("brand")
    url = services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    return services.oauth_complete(actor=owner, state=state, code=code)


def test_list_and_detail_never_show_secrets(api, owner, account, api_token_for):
    token = api_token_for(owner, scopes=["accounts:read"])
    listed = api.get("/social-accounts", token=token)
    assert listed.status_code == 200
    body = json.dumps(listed.json())
    assert account.secrets["access_token"] not in body
    assert "secrets" not in body and "access_token" not in body
    item = listed.json()["items"][0]
    assert item["healthy"] is True and item["provider"] == "mastodon"


def test_oauth_start_returns_the_consent_url(api, owner, mastodon_server, api_token_for):
    token = api_token_for(owner, scopes=["accounts:write"])
    response = api.post(
        "/social-accounts/connect/oauth",
        {"provider": "mastodon", "server_url": mastodon_server.base_url},
        token=token,
    )
    assert response.status_code == 200
    assert response.json()["authorization_url"].startswith(
        mastodon_server.base_url.rstrip("/") + "/oauth/authorize?"
    )


def test_connect_errors_are_json_with_the_networks_reason(api, owner, api_token_for, live_server):
    token = api_token_for(owner, scopes=["accounts:write"])
    response = api.post(
        "/social-accounts/connect/oauth",
        {"provider": "mastodon", "server_url": live_server.url},
        token=token,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "connect_failed"
    unknown = api.post(
        "/social-accounts/connect/oauth", {"provider": "myspace", "server_url": "x"}, token=token
    )
    assert unknown.status_code == 404


def test_editor_token_cannot_connect_or_disconnect(api, owner, make_member, account, api_token_for):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    token = api_token_for(editor)
    assert api.delete(f"/social-accounts/{account.pk}", token=token).status_code == 403
    response = api.post(
        "/social-accounts/connect/oauth",
        {"provider": "mastodon", "server_url": "https://example.org"},
        token=token,
    )
    assert response.status_code == 403


def test_members_then_disconnect(api, owner, make_member, account, api_token_for):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    token = api_token_for(owner)
    response = api.put(
        f"/social-accounts/{account.pk}/members", {"members": [editor.pk]}, token=token
    )
    assert response.json()["allowed_members"] == [editor.pk]
    assert api.delete(f"/social-accounts/{account.pk}", token=token).status_code == 204
    assert api.get("/social-accounts", token=token).json()["count"] == 0


def test_networks_lists_each_networks_limits(api, owner, api_token_for):
    token = api_token_for(owner, scopes=["accounts:read"])
    networks = {n["key"]: n for n in api.get("/networks", token=token).json()}
    assert networks["mastodon"]["auth"] == "oauth"
    assert networks["mastodon"]["limits"]["max_text"] == 500
