from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from chorus.accounts import selectors, services
from chorus.accounts.models import ApiToken, Invitation, Membership, Team, User
from chorus.accounts.roles import Role
from chorus.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_up_creates_user_workspace_and_owner_membership():
    user = services.user_sign_up(
        email="Mali@Example.org",
        password=PASSWORD,
        workspace_name="Mekong Coffee",
        workspace_timezone="Asia/Bangkok",
        language="th",
    )
    membership = Membership.objects.get(user=user)
    assert user.email == "mali@example.org"
    assert user.language == "th"
    assert membership.role == Role.OWNER
    assert membership.workspace.name == "Mekong Coffee"
    assert membership.workspace.timezone == "Asia/Bangkok"


def test_sign_up_rejects_duplicate_email_weak_password_and_bad_zone():
    services.user_sign_up(email="a@example.org", password=PASSWORD, workspace_name="A")
    with pytest.raises(Conflict):
        services.user_sign_up(email="A@example.org", password=PASSWORD, workspace_name="B")
    with pytest.raises(ServiceError) as weak:
        services.user_sign_up(email="b@example.org", password="123", workspace_name="B")
    assert weak.value.field == "password"
    with pytest.raises(ServiceError) as zone:
        services.user_sign_up(
            email="c@example.org",
            password=PASSWORD,
            workspace_name="C",
            workspace_timezone="Mars/Olympus",
        )
    assert zone.value.field == "timezone"
    assert User.objects.count() == 1


def test_invitation_emails_a_link_that_creates_the_member(
    owner, django_capture_on_commit_callbacks
):
    team = services.team_create(actor=owner, name="Customer care")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            actor=owner, email="Agent@Example.org", role=Role.CONTRIBUTOR, teams=[team]
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@example.org"]
    url = services.invitation_url(invitation)
    assert url in message.body
    token = url.rstrip("/").rsplit("/", 1)[-1]
    found = services.invitation_from_token(token)
    user = services.invitation_sign_up(invitation=found, password=PASSWORD, full_name="Agent")
    membership = Membership.objects.get(user=user, workspace=owner.workspace)
    assert membership.role == Role.CONTRIBUTOR
    assert list(membership.teams.all()) == [team]
    with pytest.raises(NotFound):
        services.invitation_from_token(token)


def test_invitation_rules(owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.invitation_create(actor=editor, email="x@example.org", role=Role.VIEWER)
    admin = make_member(Role.ADMIN, workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.invitation_create(actor=admin, email="x@example.org", role=Role.OWNER)
    with pytest.raises(Conflict):
        services.invitation_create(actor=owner, email=editor.user.email, role=Role.VIEWER)
    first = services.invitation_create(actor=owner, email="x@example.org", role=Role.VIEWER)
    services.invitation_create(actor=owner, email="x@example.org", role=Role.EDITOR)
    first.refresh_from_db()
    assert first.revoked_at is not None, "re-inviting replaces the earlier link"


def test_invitation_for_someone_else_cannot_be_accepted(owner, make_member):
    invitation = services.invitation_create(actor=owner, email="x@example.org", role=Role.VIEWER)
    stranger = make_member(Role.OWNER)
    with pytest.raises(NotAllowed):
        services.invitation_accept(invitation=invitation, user=stranger.user)


def test_expired_or_tampered_invitation_token_is_refused(owner):
    invitation = services.invitation_create(actor=owner, email="x@example.org", role=Role.VIEWER)
    token = services.invitation_url(invitation).rstrip("/").rsplit("/", 1)[-1]
    with pytest.raises(NotFound):
        services.invitation_from_token(token[:-2] + "xx")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    with pytest.raises(NotFound):
        services.invitation_from_token(token)


def test_last_owner_cannot_be_demoted_or_removed(owner, make_member):
    with pytest.raises(ServiceError):
        services.membership_change_role(actor=owner, membership=owner, role=Role.ADMIN)
    with pytest.raises(ServiceError):
        services.membership_remove(actor=owner, membership=owner)
    second = make_member(Role.OWNER, workspace=owner.workspace)
    services.membership_change_role(actor=second, membership=owner, role=Role.ADMIN)
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_admin_cannot_touch_owners_and_editor_cannot_manage(owner, make_member):
    admin = make_member(Role.ADMIN, workspace=owner.workspace)
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.membership_change_role(actor=admin, membership=owner, role=Role.VIEWER)
    with pytest.raises(NotAllowed):
        services.membership_remove(actor=admin, membership=owner)
    with pytest.raises(NotAllowed):
        services.membership_change_role(actor=editor, membership=admin, role=Role.VIEWER)
    services.membership_change_role(actor=admin, membership=editor, role=Role.VIEWER)
    editor.refresh_from_db()
    assert editor.role == Role.VIEWER


def test_removing_a_member_revokes_their_tokens(owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    _token, raw = services.api_token_create(membership=editor, name="ci", scopes=["workspace:read"])
    assert services.api_token_authenticate(raw) is not None
    services.membership_remove(actor=owner, membership=editor)
    assert services.api_token_authenticate(raw) is None
    assert ApiToken.objects.get(user=editor.user).revoked_at is not None


def test_member_of_another_workspace_is_not_found(owner, make_member):
    other = make_member(Role.OWNER)
    with pytest.raises(NotFound):
        selectors.access_member(workspace=owner.workspace, membership_id=other.pk)
    with pytest.raises(NotFound):
        services.membership_change_role(actor=owner, membership=other, role=Role.VIEWER)


def test_teams_are_unique_per_workspace_case_insensitively(owner, make_member):
    services.team_create(actor=owner, name="Social")
    with pytest.raises(Conflict):
        services.team_create(actor=owner, name="social")
    other = make_member(Role.OWNER)
    services.team_create(actor=other, name="Social")
    assert Team.objects.filter(name__iexact="social").count() == 2


def test_api_tokens_are_hashed_scoped_and_expire(owner):
    token, raw = services.api_token_create(membership=owner, name="ci", scopes=["workspace:read"])
    assert raw.startswith("chorus_")
    assert raw not in token.token_hash and token.prefix in raw
    assert services.api_token_authenticate(raw) == token
    assert services.api_token_authenticate(raw + "x") is None
    with pytest.raises(ServiceError):
        services.api_token_create(membership=owner, name="bad", scopes=["root"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    assert services.api_token_authenticate(raw) is None


def test_invitations_purge_forgets_only_long_expired(owner):
    old = services.invitation_create(actor=owner, email="old@example.org", role=Role.VIEWER)
    fresh = services.invitation_create(actor=owner, email="new@example.org", role=Role.VIEWER)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=40))
    assert services.invitations_purge(older_than_days=30) == 1
    assert list(Invitation.objects.values_list("pk", flat=True)) == [fresh.pk]
