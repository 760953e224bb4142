import pytest

from chorus.accounts.models import ApiToken, Membership
from chorus.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_unauthenticated_and_bad_tokens_get_one_json_error_shape(api):
    for token in (None, "chorus_not-a-token"):
        response = api.get("/members", token=token)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_token_sees_only_its_workspace_members_paginated(api, owner, make_member, api_token_for):
    for _ in range(3):
        make_member(Role.VIEWER, workspace=owner.workspace)
    make_member(Role.OWNER)  # someone in another workspace
    token = api_token_for(owner)
    first = api.get("/members?page=1&page_size=2", token=token).json()
    second = api.get("/members?page=2&page_size=2", token=token).json()
    assert first["count"] == 4
    emails = {m["email"] for m in first["items"] + second["items"]}
    expected = set(
        Membership.objects.filter(workspace=owner.workspace).values_list("user__email", flat=True)
    )
    assert emails == expected


def test_token_scope_is_enforced(api, owner, api_token_for):
    read_only = api_token_for(owner, scopes=["workspace:read"])
    assert api.get("/workspace", token=read_only).status_code == 200
    response = api.post("/teams", {"name": "Social"}, token=read_only)
    assert response.status_code == 403
    assert "members:write" in response.json()["error"]["message"]


def test_role_is_enforced_even_with_every_scope(api, owner, make_member, api_token_for):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    token = api_token_for(editor)
    response = api.post("/invitations", {"email": "x@example.org", "role": "viewer"}, token=token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    response = api.patch(f"/members/{owner.pk}", {"role": "viewer"}, token=token)
    assert response.status_code == 403


def test_validation_errors_name_the_field(api, owner, api_token_for):
    token = api_token_for(owner)
    response = api.post("/invitations", {"email": "not-an-email", "role": "wizard"}, token=token)
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert "email" in fields and "role" in fields


def test_service_errors_keep_their_field(api, owner, api_token_for):
    token = api_token_for(owner)
    api.post("/teams", {"name": "Social"}, token=token)
    response = api.post("/teams", {"name": "SOCIAL"}, token=token)
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {"name": [response.json()["error"]["message"]]}


def test_invite_then_change_role_then_remove(api, owner, make_member, api_token_for):
    token = api_token_for(owner)
    created = api.post("/invitations", {"email": "new@example.org", "role": "editor"}, token=token)
    assert created.status_code == 201
    assert api.get("/invitations", token=token).json()["items"][0]["email"] == "new@example.org"
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    changed = api.patch(f"/members/{viewer.pk}", {"role": "editor"}, token=token)
    assert changed.status_code == 200 and changed.json()["role"] == "editor"
    assert api.delete(f"/members/{viewer.pk}", token=token).status_code == 204
    assert not Membership.objects.filter(pk=viewer.pk).exists()


def test_member_of_other_workspace_is_404(api, owner, make_member, api_token_for):
    stranger = make_member(Role.OWNER)
    token = api_token_for(owner)
    response = api.patch(f"/members/{stranger.pk}", {"role": "viewer"}, token=token)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_tokens_api_shows_secret_once_and_never_lists_it(api, owner, api_token_for):
    token = api_token_for(owner, scopes=["tokens:write", "workspace:read"])
    created = api.post("/tokens", {"name": "zapier", "scopes": ["workspace:read"]}, token=token)
    assert created.status_code == 201
    secret = created.json()["secret"]
    listed = api.get("/tokens", token=token).json()["items"]
    assert all("secret" not in item for item in listed)
    assert api.get("/workspace", token=secret).status_code == 200
    new_id = created.json()["id"]
    assert api.delete(f"/tokens/{new_id}", token=token).status_code == 204
    assert api.get("/workspace", token=secret).status_code == 401
    assert ApiToken.objects.get(pk=new_id).revoked_at is not None


def test_session_auth_requires_csrf(owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    assert client.get("/api/v1/workspace").status_code == 200
    response = client.post("/api/v1/teams", data={"name": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/members" in paths and "/api/v1/tokens" in paths
