"""API for approvals: the posts waiting for me, approve / reject, outside review links, and
approval workflows. Who may act is decided in `chorus.publishing.approvals`."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from chorus.accounts.scopes import Scope
from chorus.api.auth import member
from chorus.api.inputs import PathId, RefId
from chorus.api.publishing import PostOut, VariantIn, _reload
from chorus.core.site import absolute_url
from chorus.publishing import approval_workflows, approvals, review_links, selectors
from chorus.publishing.services import VariantInput

router = Router(tags=["approvals"])


class PendingOut(PostOut):
    approval_steps: int
    approval_reasons: list[str]

    @staticmethod
    def resolve_approval_steps(obj) -> int:
        return len(obj.approval_plan)


class DecisionIn(Schema):
    comment: str = ""


class EditApproveIn(Schema):
    """Approve, optionally with edited content (the post's own accounts only)."""

    comment: str = ""
    text: str | None = None
    variants: list[VariantIn] = []


class ReviewLinkIn(Schema):
    reviewer: str = Field("", max_length=200)


class ReviewLinkOut(Schema):
    id: int
    url: str
    step: int
    reviewer: str
    expires_at: dt.datetime


class StepIn(Schema):
    role: str = ""
    members: list[RefId] = []


class WorkflowIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    account: RefId | None = None
    campaign: RefId | None = None
    applies_to_all: bool = False
    authors_approve_own: bool = False
    steps: list[StepIn] = Field(..., min_length=1, max_length=approval_workflows.MAX_STEPS)


class StepOut(Schema):
    order: int
    role: str
    members: list[int]


class WorkflowOut(Schema):
    id: int
    name: str
    scope: str
    account: int | None = Field(None, alias="account_id")
    campaign: int | None = Field(None, alias="campaign_id")
    applies_to_all: bool
    authors_approve_own: bool
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj) -> list[dict]:
        return approvals.plan_of(obj)


@router.get("/approvals", response=list[PendingOut], auth=member(Scope.POSTS_READ))
def approval_list(request):
    """Posts whose current approval step I may approve, soonest first."""
    return approvals.approvals_waiting_for(request.membership)


def _edited_inputs(post, payload: EditApproveIn) -> list[VariantInput] | None:
    """The post's content with the requested text changes (None: no changes asked)."""
    if payload.text is None and not payload.variants:
        return None
    overrides = {v.account: v for v in payload.variants}
    inputs = []
    for variant in post.variants.prefetch_related("variantmedia_set"):
        own = overrides.pop(variant.account_id, None)
        text = own.text if own and own.text is not None else payload.text
        inputs.append(
            VariantInput(
                account_id=variant.account_id,
                text=variant.text if text is None else text,
                thread=list(variant.thread),
                first_comment=variant.first_comment,
                link=variant.link,
                content_warning=variant.content_warning,
                poll=variant.poll,
                media=[(vm.asset_id, vm.alt_text) for vm in variant.variantmedia_set.all()],
            )
        )
    # Accounts the post does not have: passed on, so the service refuses them by name.
    inputs += [VariantInput(account_id=account_id) for account_id in overrides]
    return inputs


@router.post("/posts/{post_id}/approve", response=PostOut, auth=member(Scope.APPROVALS_WRITE))
def post_approve(request, post_id: PathId, payload: DecisionIn):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    approvals.post_approve(actor=request.membership, post=post, comment=payload.comment)
    return _reload(request, post)


@router.post("/posts/{post_id}/edit-approve", response=PostOut, auth=member(Scope.APPROVALS_WRITE))
def post_edit_approve(request, post_id: PathId, payload: EditApproveIn):
    """Edit the post's text (all accounts, or per account in `variants`) and approve it."""
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    approvals.post_approve(
        actor=request.membership,
        post=post,
        comment=payload.comment,
        variants=_edited_inputs(post, payload),
    )
    return _reload(request, post)


@router.post("/posts/{post_id}/reject", response=PostOut, auth=member(Scope.APPROVALS_WRITE))
def post_reject(request, post_id: PathId, payload: DecisionIn):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    approvals.post_reject(actor=request.membership, post=post, comment=payload.comment)
    return _reload(request, post)


@router.post(
    "/posts/{post_id}/review-link",
    response={201: ReviewLinkOut},
    auth=member(Scope.APPROVALS_WRITE),
)
def review_link_create(request, post_id: PathId, payload: ReviewLinkIn):
    """A one-time link for an outside reviewer (valid until the post's time, at most 7 days)."""
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    link, token = review_links.review_link_create(
        actor=request.membership, post=post, reviewer=payload.reviewer
    )
    return Status(
        201,
        {
            "id": link.pk,
            "url": absolute_url(reverse("review", kwargs={"token": token})),
            "step": link.step,
            "reviewer": link.reviewer,
            "expires_at": link.expires_at,
        },
    )


@router.get("/approval-workflows", response=list[WorkflowOut], auth=member(Scope.POSTS_READ))
def workflow_list(request):
    return list(approval_workflows.workflows_of(request.membership))


@router.get(
    "/approval-workflows/{workflow_id}", response=WorkflowOut, auth=member(Scope.POSTS_READ)
)
def workflow_detail(request, workflow_id: PathId):
    return approval_workflows.access_workflow(
        membership=request.membership, workflow_id=workflow_id
    )


def _save(request, payload: WorkflowIn, workflow=None):
    return approval_workflows.workflow_save(
        actor=request.membership,
        workflow=workflow,
        name=payload.name,
        account_id=payload.account,
        campaign_id=payload.campaign,
        applies_to_all=payload.applies_to_all,
        authors_approve_own=payload.authors_approve_own,
        steps=[approval_workflows.StepInput(role=s.role, members=s.members) for s in payload.steps],
    )


@router.post("/approval-workflows", response={201: WorkflowOut}, auth=member(Scope.WORKFLOWS_WRITE))
def workflow_create(request, payload: WorkflowIn):
    return Status(201, _save(request, payload))


@router.put(
    "/approval-workflows/{workflow_id}", response=WorkflowOut, auth=member(Scope.WORKFLOWS_WRITE)
)
def workflow_update(request, workflow_id: PathId, payload: WorkflowIn):
    workflow = approval_workflows.access_workflow(
        membership=request.membership, workflow_id=workflow_id
    )
    return _save(request, payload, workflow)


@router.delete(
    "/approval-workflows/{workflow_id}",
    response={204: None},
    auth=member(Scope.WORKFLOWS_WRITE),
)
def workflow_delete(request, workflow_id: PathId):
    workflow = approval_workflows.access_workflow(
        membership=request.membership, workflow_id=workflow_id
    )
    approval_workflows.workflow_delete(actor=request.membership, workflow=workflow)
    return Status(204, None)
