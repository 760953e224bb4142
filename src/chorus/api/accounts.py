"""API for the workspace, its members, teams, invitations and the caller's tokens."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts import selectors, services
from chorus.accounts.roles import Capability, Role
from chorus.accounts.scopes import Scope
from chorus.api.auth import WORKSPACE_TIME, member
from chorus.api.inputs import Moment, PathId, RefId

router = Router(tags=["workspace"])


class WorkspaceOut(Schema):
    id: int
    name: str
    timezone: str
    role: str


class MemberOut(Schema):
    id: int
    email: str = Field(..., alias="user.email")
    full_name: str = Field(..., alias="user.full_name")
    role: Role
    teams: list[int]
    joined_at: datetime = Field(..., alias="created_at")

    @staticmethod
    def resolve_teams(obj) -> list[int]:
        return [team.pk for team in obj.teams.all()]


class RoleIn(Schema):
    role: Role


class InvitationIn(Schema):
    email: str = Field(..., max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    role: Role
    teams: list[RefId] = []


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


class TeamIn(Schema):
    name: str = Field(..., min_length=1, max_length=80)


class TeamOut(Schema):
    id: int
    name: str
    members: list[int]

    @staticmethod
    def resolve_members(obj) -> list[int]:
        return [m.pk for m in obj.members.all()]


class TeamMembersIn(Schema):
    members: list[RefId]


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=80)
    scopes: list[Scope]
    expires_at: Moment | None = Field(None, description=WORKSPACE_TIME)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    secret: str


@router.get("/workspace", response=WorkspaceOut, auth=member(Scope.WORKSPACE_READ))
def workspace_detail(request):
    workspace = request.membership.workspace
    return {
        "id": workspace.pk,
        "name": workspace.name,
        "timezone": workspace.timezone,
        "role": request.membership.role,
    }


@router.get("/members", response=list[MemberOut], auth=member(Scope.WORKSPACE_READ))
@paginate
def member_list(request):
    return selectors.members_of(request.membership.workspace)


@router.patch("/members/{member_id}", response=MemberOut, auth=member(Scope.MEMBERS_WRITE))
def member_update(request, member_id: PathId, payload: RoleIn):
    target = selectors.access_member(
        workspace=request.membership.workspace, membership_id=member_id
    )
    return services.membership_change_role(
        actor=request.membership, membership=target, role=payload.role
    )


@router.delete("/members/{member_id}", response={204: None}, auth=member(Scope.MEMBERS_WRITE))
def member_delete(request, member_id: PathId):
    target = selectors.access_member(
        workspace=request.membership.workspace, membership_id=member_id
    )
    services.membership_remove(actor=request.membership, membership=target)
    return Status(204, None)


@router.get("/invitations", response=list[InvitationOut], auth=member(Scope.MEMBERS_WRITE))
@paginate
def invitation_list(request):
    services.check_capability(request.membership, Capability.MANAGE_MEMBERS)
    return selectors.open_invitations(request.membership.workspace)


@router.post("/invitations", response={201: InvitationOut}, auth=member(Scope.MEMBERS_WRITE))
def invitation_create(request, payload: InvitationIn):
    workspace = request.membership.workspace
    teams = [selectors.access_team(workspace=workspace, team_id=pk) for pk in payload.teams]
    invitation = services.invitation_create(
        actor=request.membership, email=payload.email, role=payload.role, teams=teams
    )
    return Status(201, invitation)


@router.delete(
    "/invitations/{invitation_id}", response={204: None}, auth=member(Scope.MEMBERS_WRITE)
)
def invitation_delete(request, invitation_id: PathId):
    invitation = selectors.access_invitation(
        workspace=request.membership.workspace, invitation_id=invitation_id
    )
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    return Status(204, None)


@router.get("/teams", response=list[TeamOut], auth=member(Scope.WORKSPACE_READ))
@paginate
def team_list(request):
    return selectors.teams_of(request.membership.workspace)


@router.post("/teams", response={201: TeamOut}, auth=member(Scope.MEMBERS_WRITE))
def team_create(request, payload: TeamIn):
    return Status(201, services.team_create(actor=request.membership, name=payload.name))


@router.put("/teams/{team_id}/members", response=TeamOut, auth=member(Scope.MEMBERS_WRITE))
def team_members_set(request, team_id: PathId, payload: TeamMembersIn):
    workspace = request.membership.workspace
    team = selectors.access_team(workspace=workspace, team_id=team_id)
    chosen = [
        selectors.access_member(workspace=workspace, membership_id=pk) for pk in payload.members
    ]
    return services.team_set_members(actor=request.membership, team=team, memberships=chosen)


@router.delete("/teams/{team_id}", response={204: None}, auth=member(Scope.MEMBERS_WRITE))
def team_delete(request, team_id: PathId):
    team = selectors.access_team(workspace=request.membership.workspace, team_id=team_id)
    services.team_delete(actor=request.membership, team=team)
    return Status(204, None)


@router.get("/tokens", response=list[TokenOut], auth=member(Scope.TOKENS_WRITE))
@paginate
def token_list(request):
    return selectors.tokens_of(request.membership)


@router.post("/tokens", response={201: TokenCreatedOut}, auth=member(Scope.TOKENS_WRITE))
def token_create(request, payload: TokenIn):
    token, secret = services.api_token_create(
        membership=request.membership,
        name=payload.name,
        scopes=[scope.value for scope in payload.scopes],
        expires_at=payload.expires_at,
        via=getattr(request, "api_token", None),
    )
    token.secret = secret
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None}, auth=member(Scope.TOKENS_WRITE))
def token_delete(request, token_id: PathId):
    token = selectors.access_token(membership=request.membership, token_id=token_id)
    services.api_token_revoke(membership=request.membership, token=token)
    return Status(204, None)
