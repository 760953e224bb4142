"""Server-side checks of the web views (the browser tests cover the flows)."""

import pytest

from chorus.accounts.models import Membership
from chorus.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_is_sent_to_login(client):
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_switching_to_a_workspace_you_are_not_in_is_404(client, owner, make_member):
    stranger = make_member(Role.OWNER)
    client.force_login(owner.user)
    assert (
        client.post("/workspaces/switch/", {"workspace": stranger.workspace_id}).status_code == 404
    )


def test_editor_cannot_post_role_changes(client, owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    client.force_login(editor.user)
    response = client.post(f"/members/{owner.pk}/role/", {"role": "viewer"})
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_user_language_choice_wins_over_browser(client, owner):
    owner.user.language = "th"
    owner.user.save()
    client.force_login(owner.user)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="th">' in response.content.decode()


def test_user_zone_overrides_workspace_zone(client, owner):
    owner.workspace.timezone = "Asia/Yerevan"
    owner.workspace.save()
    client.force_login(owner.user)
    assert client.get("/").context["TIME_ZONE"] == "Asia/Yerevan"
    owner.user.timezone = "Africa/Nairobi"
    owner.user.save()
    assert client.get("/").context["TIME_ZONE"] == "Africa/Nairobi"


def test_user_with_no_workspace_is_asked_to_create_one(client, owner):
    client.force_login(owner.user)
    Membership.objects.filter(pk=owner.pk).delete()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/workspaces/new/"
    response = client.post("/workspaces/new/", {"name": "Fresh", "timezone": "UTC"})
    assert response.status_code == 302
    assert Membership.objects.get(user=owner.user).workspace.name == "Fresh"


def test_password_reset_sends_a_working_link(client, owner, mailoutbox):
    client.post("/password/reset/", {"email": owner.user.email})
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.context["validlink"]
