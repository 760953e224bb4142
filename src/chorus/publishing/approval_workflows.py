"""Approval workflows: the steps (members and/or a role) a post's approval walks through,
for the workspace, one social account or one campaign."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import GRANTS, Capability, Role
from chorus.accounts.services import check_capability
from chorus.core.errors import Conflict, NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.networks.models import SocialAccount
from chorus.publishing.approvals import plan_of
from chorus.publishing.models import ApprovalStep, ApprovalWorkflow, Campaign

MAX_STEPS = 3


@dataclass
class StepInput:
    role: str = ""
    members: list[int] = field(default_factory=list)


APPROVER_ROLES = [r for r in Role if r in GRANTS[Capability.APPROVE_POSTS]]


def _workflow_snapshot(workflow: ApprovalWorkflow) -> dict:
    return {
        "name": workflow.name,
        "scope": workflow.scope,
        "account": workflow.account_id,
        "campaign": workflow.campaign_id,
        "applies_to_all": workflow.applies_to_all,
        "authors_approve_own": workflow.authors_approve_own,
        "steps": plan_of(workflow),
    }


@transaction.atomic
def workflow_save(
    *,
    actor: Membership,
    name: str,
    steps: list[StepInput],
    account_id: int | None = None,
    campaign_id: int | None = None,
    applies_to_all: bool = False,
    authors_approve_own: bool = False,
    workflow: ApprovalWorkflow | None = None,
) -> ApprovalWorkflow:
    """Create or change a workflow: 1 to 3 steps, each naming members and/or a role."""
    check_capability(actor, Capability.MANAGE_APPROVALS)
    if workflow is not None and workflow.workspace_id != actor.workspace_id:
        raise NotFound(_("No such workflow."))
    if not (name or "").strip():
        raise ServiceError(_("A workflow needs a name."), field="name")
    if not 1 <= len(steps) <= MAX_STEPS:
        raise ServiceError(_("A workflow has 1 to 3 steps."), field="steps")
    if account_id and campaign_id:
        raise ServiceError(
            _("A workflow is for the workspace, one social account or one campaign."),
            field="account",
        )
    account = campaign = None
    if account_id:
        account = SocialAccount.objects.filter(pk=account_id, workspace=actor.workspace).first()
        if account is None:
            raise NotFound(_("No such social account."), field="account")
    if campaign_id:
        campaign = Campaign.objects.filter(pk=campaign_id, workspace=actor.workspace).first()
        if campaign is None:
            raise NotFound(_("No such campaign."), field="campaign")
    members = {
        m.pk: m
        for m in Membership.objects.filter(
            workspace=actor.workspace, pk__in={pk for s in steps for pk in s.members}
        )
    }
    for n, step in enumerate(steps, start=1):
        if not step.role and not step.members:
            raise ServiceError(
                _("Step %(n)s needs a role or at least one member.") % {"n": n}, field="steps"
            )
        if step.role and step.role not in APPROVER_ROLES:
            raise ServiceError(
                _("Step %(n)s: only these roles approve: %(roles)s.")
                % {"n": n, "roles": ", ".join(str(r.label) for r in APPROVER_ROLES)},
                field="steps",
            )
        if set(step.members) - set(members):
            raise NotFound(
                _("Step %(n)s names someone who is not a member.") % {"n": n}, field="steps"
            )
    same_scope = ApprovalWorkflow.objects.filter(
        workspace=actor.workspace, account=account, campaign=campaign
    ).exclude(pk=getattr(workflow, "pk", None))
    if same_scope.exists():
        raise Conflict(_("There is already a workflow for this; change that one."), field="account")
    before = _workflow_snapshot(workflow) if workflow else None
    workflow = workflow or ApprovalWorkflow(workspace=actor.workspace)
    workflow.name = name.strip()[:120]
    workflow.account, workflow.campaign = account, campaign
    workflow.applies_to_all = applies_to_all
    workflow.authors_approve_own = authors_approve_own
    workflow.save()
    workflow.steps.all().delete()
    for n, step in enumerate(steps, start=1):
        row = ApprovalStep.objects.create(workflow=workflow, order=n, role=step.role or "")
        row.members.set([members[pk] for pk in step.members])
    audit_record(
        action=AuditAction.WORKFLOW_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=workflow,
        changes={"before": before, "after": _workflow_snapshot(workflow)},
    )
    return workflow


@transaction.atomic
def workflow_delete(*, actor: Membership, workflow: ApprovalWorkflow) -> None:
    """Posts already submitted keep the steps they were given."""
    check_capability(actor, Capability.MANAGE_APPROVALS)
    if workflow.workspace_id != actor.workspace_id:
        raise NotFound(_("No such workflow."))
    audit_record(
        action=AuditAction.WORKFLOW_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=workflow,
        changes={"before": _workflow_snapshot(workflow), "after": None},
    )
    workflow.delete()


def workflows_of(membership: Membership):
    return (
        ApprovalWorkflow.objects.filter(workspace=membership.workspace)
        .select_related("account", "campaign")
        .prefetch_related("steps__members__user")
        .order_by("account_id", "campaign_id", "name")
    )


def access_workflow(*, membership: Membership, workflow_id: int) -> ApprovalWorkflow:
    workflow = workflows_of(membership).filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(_("No such workflow."))
    return workflow


def step_label(step: dict, members_by_id: dict[int, Membership]) -> str:
    """ "Admin or higher", "Ana, Ben", or both, for a plan step."""
    parts = [
        members_by_id[pk].user.display_name for pk in step.get("members", []) if pk in members_by_id
    ]
    if step.get("role"):
        parts.append(_("any %(role)s or higher") % {"role": Role(step["role"]).label.lower()})
    return ", ".join(parts) or _("nobody left")
