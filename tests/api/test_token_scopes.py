"""Token scopes cannot grow (issue 10.4), and a new password revokes every API token."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chorus.accounts import services
from chorus.accounts.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_tokens_write_token_cannot_create_a_token_with_more_scopes(api, owner, api_token_for):
    narrow = api_token_for(owner, scopes=["tokens:write"])
    response = api.post(
        "/tokens",
        {"name": "escalate", "scopes": ["audit:read", "members:write", "posts:write"]},
        token=narrow,
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert "scopes" in error["fields"]
    assert "audit:read" in error["message"]
    assert ApiToken.objects.filter(name="escalate").count() == 0


def test_a_token_creates_tokens_within_its_scopes(api, owner, api_token_for):
    token = api_token_for(owner, scopes=["tokens:write", "posts:read", "posts:write"])
    response = api.post("/tokens", {"name": "reader", "scopes": ["posts:read"]}, token=token)
    assert response.status_code == 201, response.content
    assert response.json()["scopes"] == ["posts:read"]


def test_a_token_cannot_create_a_token_outliving_it(api, owner):
    expires = timezone.now() + timedelta(days=7)
    _row, parent = services.api_token_create(
        membership=owner, name="week", scopes=["tokens:write"], expires_at=expires
    )
    forever = api.post("/tokens", {"name": "forever", "scopes": ["tokens:write"]}, token=parent)
    assert forever.status_code == 403
    assert "expires_at" in forever.json()["error"]["fields"]
    later = (expires + timedelta(days=1)).isoformat()
    response = api.post(
        "/tokens", {"name": "later", "scopes": ["tokens:write"], "expires_at": later}, token=parent
    )
    assert response.status_code == 403
    sooner = (expires - timedelta(days=1)).isoformat()
    response = api.post(
        "/tokens",
        {"name": "sooner", "scopes": ["tokens:write"], "expires_at": sooner},
        token=parent,
    )
    assert response.status_code == 201
    assert ApiToken.objects.filter(name__in=["forever", "later"]).count() == 0


def test_the_browser_session_creates_tokens_with_any_scope_its_role_allows(client, owner):
    client.force_login(owner.user)
    response = client.post(
        "/api/v1/tokens",
        {"name": "full", "scopes": ["audit:read", "tokens:write"]},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_the_token_page_suggests_an_expiry(client, owner):
    client.force_login(owner.user)
    page = client.get(reverse("api_tokens"))
    expected = (timezone.localdate() + timedelta(days=90)).isoformat()
    assert f'value="{expected}"' in page.content.decode()


def test_a_password_change_revokes_the_users_api_tokens(client, owner, api, api_token_for):
    raw = api_token_for(owner)
    assert api.get("/workspace", token=raw).status_code == 200
    client.force_login(owner.user)
    response = client.post(
        "/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-Long-passphrase-77",
            "new_password2": "another-Long-passphrase-77",
        },
    )
    assert response.status_code == 302
    client.logout()  # `api` shares this client: the token alone must be refused
    assert api.get("/workspace", token=raw).status_code == 401
    assert ApiToken.objects.get(user=owner.user).revoked_at is not None


def test_a_password_reset_revokes_the_users_api_tokens(
    client, owner, api, api_token_for, mailoutbox
):
    raw = api_token_for(owner)
    client.post("/password/reset/", {"email": owner.user.email})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password/reset/" in line)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form = client.get(path, follow=True)
    assert form.context["validlink"]
    response = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {
            "new_password1": "another-Long-passphrase-77",
            "new_password2": "another-Long-passphrase-77",
        },
    )
    assert response.status_code == 302
    assert api.get("/workspace", token=raw).status_code == 401
