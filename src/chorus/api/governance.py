"""API for the audit log (admins, `audit:read`) and compliance policies."""

import datetime as dt
import zoneinfo

from django.http import StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts.roles import Capability
from chorus.accounts.scopes import Scope
from chorus.accounts.services import check_capability
from chorus.api.auth import member
from chorus.api.inputs import Day, PathId, RefId
from chorus.governance import export, selectors, services
from chorus.governance.models import AuditAction, PolicyAction, PolicyKind
from chorus.networks import selectors as network_selectors

router = Router(tags=["governance"])


# --------------------------------------------------------------------------- audit log


class AuditFiltersIn(Schema):
    action: AuditAction | None = None
    actor: str = Field("", max_length=254, description="part of the actor's email")
    target: str = Field(
        "", max_length=255, description="part of the target's label, or its type or id"
    )
    date_from: Day | None = Field(None, description="first day, in the workspace's zone")
    date_to: Day | None = Field(None, description="last day (included), workspace's zone")


class AuditEntryOut(Schema):
    id: int
    created_at: dt.datetime
    workspace_id: PathId | None
    actor_id: PathId | None
    actor_email: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    changes: dict
    ip_address: str
    user_agent: str
    previous_hash: str
    entry_hash: str


class ChainReportOut(Schema):
    ok: bool
    entries: int
    first_broken_entry: int | None
    problem: str | None


def _filters(request, params: AuditFiltersIn) -> selectors.AuditFilters:
    try:
        zone = zoneinfo.ZoneInfo(request.membership.workspace.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC

    def start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=zone)

    return selectors.AuditFilters(
        action=params.action.value if params.action else "",
        actor=params.actor,
        target=params.target,
        since=start(params.date_from) if params.date_from else None,
        until=start(params.date_to + dt.timedelta(days=1)) if params.date_to else None,
    )


@router.get("/audit", response=list[AuditEntryOut], auth=member(Scope.AUDIT_READ))
@paginate
def audit_list(request, filters: Query[AuditFiltersIn]):
    """The workspace's audit log, newest first (admins and owners)."""
    check_capability(request.membership, Capability.VIEW_AUDIT_LOG)
    return selectors.audit_entries(request.membership.workspace, _filters(request, filters))


@router.get("/audit/export.csv", auth=member(Scope.AUDIT_READ))
def audit_export(request, filters: Query[AuditFiltersIn]):
    """The same entries as CSV (UTF-8 with BOM), all pages at once."""
    check_capability(request.membership, Capability.VIEW_AUDIT_LOG)
    workspace = request.membership.workspace
    entries = selectors.audit_entries(workspace, _filters(request, filters))
    response = StreamingHttpResponse(
        export.csv_lines(entries.iterator(chunk_size=1000)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename(workspace.pk)}"'
    return response


@router.get("/audit/verify", response=ChainReportOut, auth=member(Scope.AUDIT_READ))
def audit_verify(request):
    """Recompute the hash chain of this workspace's log; names the first broken entry."""
    check_capability(request.membership, Capability.VIEW_AUDIT_LOG)
    report = selectors.audit_chain_verify(workspace=request.membership.workspace)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "first_broken_entry": report.problem.entry_id if report.problem else None,
        "problem": str(report.problem) if report.problem else None,
    }


# --------------------------------------------------------------------------- policies


class PolicyIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    kind: PolicyKind
    action: PolicyAction = PolicyAction.BLOCK
    terms: list[str] = []
    patterns: list[str] = []
    disclaimer: str = Field("", max_length=5000)
    domains: list[str] = []
    accounts: list[RefId] = Field([], description="social account ids; empty: every account")
    is_active: bool = True


class PolicyPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    kind: PolicyKind | None = None
    action: PolicyAction | None = None
    terms: list[str] | None = None
    patterns: list[str] | None = None
    disclaimer: str | None = Field(None, max_length=5000)
    domains: list[str] | None = None
    accounts: list[RefId] | None = None
    is_active: bool | None = None


class PolicyOut(Schema):
    id: int
    name: str
    kind: str
    action: str
    terms: list[str]
    patterns: list[str]
    disclaimer: str
    domains: list[str]
    accounts: list[int]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_accounts(obj) -> list[int]:
        return [account.pk for account in obj.accounts.all()]


class CheckIn(Schema):
    text: str = Field(..., max_length=20000)
    account: RefId | None = Field(None, description="social account id the post goes out as")
    links: list[str] = Field([], description="links the post carries outside its text")


class ViolationOut(Schema):
    policy: int
    policy_name: str
    kind: str
    action: str
    message: str
    spans: list[tuple[int, int]]


class CheckOut(Schema):
    blocked: bool
    requires_approval: bool
    violations: list[ViolationOut]


def _accounts(request, ids: list[int]) -> list:
    return [
        network_selectors.access_account(membership=request.membership, account_id=pk) for pk in ids
    ]


@router.get("/policies", response=list[PolicyOut], auth=member(Scope.WORKSPACE_READ))
@paginate
def policy_list(request):
    return selectors.policies_of(request.membership.workspace)


@router.post("/policies/check", response=CheckOut, auth=member(Scope.WORKSPACE_READ))
def policy_check(request, payload: CheckIn):
    """Run the workspace's active policies over a text (as the composer does)."""
    account = _accounts(request, [payload.account])[0] if payload.account else None
    violations = services.policy_check(
        workspace=request.membership.workspace,
        text=payload.text,
        account=account,
        links=payload.links,
    )
    return {
        "blocked": any(v.blocks for v in violations),
        "requires_approval": any(not v.blocks for v in violations),
        "violations": [
            {
                "policy": v.policy.pk,
                "policy_name": v.policy.name,
                "kind": v.kind,
                "action": v.action,
                "message": v.message,
                "spans": v.spans,
            }
            for v in violations
        ],
    }


@router.post("/policies", response={201: PolicyOut}, auth=member(Scope.POLICIES_WRITE))
def policy_create(request, payload: PolicyIn):
    data = payload.dict()
    data["accounts"] = _accounts(request, data["accounts"])
    data["kind"], data["action"] = payload.kind.value, payload.action.value
    return Status(201, services.policy_create(actor=request.membership, **data))


@router.get("/policies/{policy_id}", response=PolicyOut, auth=member(Scope.WORKSPACE_READ))
def policy_detail(request, policy_id: PathId):
    return selectors.access_policy(workspace=request.membership.workspace, policy_id=policy_id)


@router.patch("/policies/{policy_id}", response=PolicyOut, auth=member(Scope.POLICIES_WRITE))
def policy_update(request, policy_id: PathId, payload: PolicyPatch):
    policy = selectors.access_policy(workspace=request.membership.workspace, policy_id=policy_id)
    data = {key: value for key, value in payload.dict(exclude_unset=True).items()}
    if data.get("accounts") is not None:
        data["accounts"] = _accounts(request, data["accounts"])
    for key in ("kind", "action"):
        if data.get(key) is not None:
            data[key] = str(getattr(data[key], "value", data[key]))
    data = {key: value for key, value in data.items() if value is not None}
    return services.policy_update(actor=request.membership, policy=policy, **data)


@router.delete("/policies/{policy_id}", response={204: None}, auth=member(Scope.POLICIES_WRITE))
def policy_delete(request, policy_id: PathId):
    policy = selectors.access_policy(workspace=request.membership.workspace, policy_id=policy_id)
    services.policy_delete(actor=request.membership, policy=policy)
    return Status(204, None)
