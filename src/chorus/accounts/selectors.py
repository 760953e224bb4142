"""Reads for accounts: every lookup that crosses a permission boundary starts here."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import ApiToken, Invitation, Membership, Team, User, Workspace
from chorus.core.errors import NotFound


def memberships_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace_id")
    )


def access_workspace(*, user: User, workspace_id: int) -> Membership:
    """The user's membership in that workspace, or NotFound (never reveal it exists)."""
    membership = (
        Membership.objects.select_related("workspace", "user")
        .filter(user=user, workspace_id=workspace_id)
        .first()
    )
    if membership is None:
        raise NotFound(_("No such workspace."))
    return membership


def members_of(workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .prefetch_related("teams")
        .order_by("user__full_name", "user__email")
    )


def access_member(*, workspace: Workspace, membership_id: int) -> Membership:
    membership = members_of(workspace).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(_("No such member."))
    return membership


def teams_of(workspace: Workspace) -> QuerySet[Team]:
    return (
        Team.objects.filter(workspace=workspace)
        .annotate(member_count=Count("members"))
        .prefetch_related("members__user")
        .order_by("name")
    )


def access_team(*, workspace: Workspace, team_id: int) -> Team:
    team = Team.objects.filter(workspace=workspace, pk=team_id).first()
    if team is None:
        raise NotFound(_("No such team."))
    return team


def open_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        workspace=workspace, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def access_invitation(*, workspace: Workspace, invitation_id: int) -> Invitation:
    invitation = open_invitations(workspace).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound(_("No such invitation."))
    return invitation


def tokens_of(membership: Membership) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(
        user=membership.user, workspace=membership.workspace, revoked_at=None
    ).order_by("-created_at")


def access_token(*, membership: Membership, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(workspace=membership.workspace, pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."))
    return token
