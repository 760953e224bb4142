"""API for connected social accounts and the networks Chorus speaks. Never returns secrets."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts import selectors as account_selectors
from chorus.accounts.scopes import Scope
from chorus.api.auth import member
from chorus.api.inputs import PathId, RefId
from chorus.networks import selectors, services
from chorus.networks.models import POSTING_LEVELS, AccessLevel
from chorus.networks.providers import PROVIDERS

router = Router(tags=["social accounts"])
POSTING = {level.value for level in POSTING_LEVELS}


class SocialAccountOut(Schema):
    id: int
    provider: str
    handle: str
    display_name: str
    profile_url: str
    sandbox: bool  # on the sandbox network: practice, never public
    status: str
    healthy: bool = Field(..., alias="is_healthy")
    connected_at: datetime
    last_ok_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    rate_limit: int | None
    rate_remaining: int | None
    rate_reset_at: datetime | None
    allowed_members: list[int]  # members who may post as it (draft or publish)
    members: list[dict]  # [{member, publish, draft, reply, analytics}] of granted members

    @staticmethod
    def resolve_allowed_members(obj) -> list[int]:
        return sorted(
            pk for pk, levels in selectors.account_grants(obj).items() if levels & POSTING
        )

    @staticmethod
    def resolve_members(obj) -> list[dict]:
        return [
            {"member": pk, **{level: level in levels for level in AccessLevel.values}}
            for pk, levels in sorted(selectors.account_grants(obj).items())
        ]


class PasswordConnectIn(Schema):
    provider: str
    identifier: str = Field(..., min_length=1, max_length=255)
    password: str = Field(..., min_length=1, max_length=255)
    service_url: str = ""
    # The network's own connect choices (Telegram: {"silent": "true"}); others are ignored.
    options: dict[str, str] = Field(default_factory=dict)


class OAuthConnectIn(Schema):
    provider: str
    server_url: str = Field(..., min_length=1, max_length=500)


class OAuthStartOut(Schema):
    authorization_url: str


class MemberLevelsIn(Schema):
    member: RefId
    publish: bool = False
    draft: bool = False
    reply: bool = False
    analytics: bool = False


class MembersIn(Schema):
    """The older body: these members may publish, the others lose access."""

    members: list[RefId]


class NetworkOut(Schema):
    key: str
    name: str
    auth: str
    offers_oauth: bool  # connect/oauth works too (Bluesky: recommended over app passwords)
    limits: dict
    needs_setup: bool  # the installation lacks the network's app credentials
    missing_settings: list[str]  # the environment variables to set
    guide: str


@router.get("/networks", response=list[NetworkOut], auth=member(Scope.ACCOUNTS_READ))
def network_list(request):
    return [
        {**network, "limits": asdict(PROVIDERS[network["key"]].limits)}
        for network in services.networks_for_connect()
    ]


@router.get("/social-accounts", response=list[SocialAccountOut], auth=member(Scope.ACCOUNTS_READ))
@paginate
def account_list(request):
    return selectors.accounts_of(request.membership).prefetch_related("grants")


@router.get(
    "/social-accounts/{account_id}", response=SocialAccountOut, auth=member(Scope.ACCOUNTS_READ)
)
def account_detail(request, account_id: PathId):
    return selectors.access_account(membership=request.membership, account_id=account_id)


@router.post(
    "/social-accounts/connect/password",
    response={201: SocialAccountOut},
    auth=member(Scope.ACCOUNTS_WRITE),
)
def account_connect_password(request, payload: PasswordConnectIn):
    account = services.account_connect_with_password(
        actor=request.membership,
        provider_key=payload.provider,
        identifier=payload.identifier,
        password=payload.password,
        service_url=payload.service_url,
        choices=payload.options,
    )
    return Status(201, account)


@router.post(
    "/social-accounts/connect/oauth", response=OAuthStartOut, auth=member(Scope.ACCOUNTS_WRITE)
)
def account_connect_oauth(request, payload: OAuthConnectIn):
    """Returns the server's consent page; open it in a browser signed in to Chorus."""
    url = services.oauth_begin(
        actor=request.membership, provider_key=payload.provider, server_url=payload.server_url
    )
    return {"authorization_url": url}


@router.post(
    "/social-accounts/{account_id}/check",
    response=SocialAccountOut,
    auth=member(Scope.ACCOUNTS_READ),
)
def account_check(request, account_id: PathId):
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    return services.account_check(account=account)


@router.put(
    "/social-accounts/{account_id}/members",
    response=SocialAccountOut,
    auth=member(Scope.ACCOUNTS_WRITE),
)
def account_members_set(request, account_id: PathId, payload: list[MemberLevelsIn] | MembersIn):
    """Each member's levels: `[{"member", "publish", "draft", "reply", "analytics"}]`.
    Members left out lose access. `{"members": [ids]}` (older) grants publish to those."""
    workspace = request.membership.workspace
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    if isinstance(payload, MembersIn):
        chosen = [
            account_selectors.access_member(workspace=workspace, membership_id=pk)
            for pk in payload.members
        ]
        return services.account_set_members(
            actor=request.membership, account=account, memberships=chosen
        )
    levels = {
        account_selectors.access_member(workspace=workspace, membership_id=row.member): {
            level for level in AccessLevel.values if getattr(row, level)
        }
        for row in payload
    }
    return services.account_set_member_levels(
        actor=request.membership, account=account, levels=levels
    )


@router.delete(
    "/social-accounts/{account_id}", response={204: None}, auth=member(Scope.ACCOUNTS_WRITE)
)
def account_disconnect(request, account_id: PathId):
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    services.account_disconnect(actor=request.membership, account=account)
    return Status(204, None)
