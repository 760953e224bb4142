"""Approvals: which posts need one, who approves them, and every approval act.

The flow, end to end:

- The author schedules as usual (`services.post_schedule`, the composer, the API, CSV
  import). `approval_requirement` decides whether this submission needs approval: the
  author (or the one scheduling) lacks `publish_posts` (a contributor), or has only the
  "draft" level on one of the accounts, or a compliance policy with action
  `require_approval` matches a variant, or a workflow in scope applies to every post. A
  policy with action `block` refuses the submission (`PolicyBlocked`, with the violations).
- A post that needs approval waits in `pending_approval`, its variants **not armed**
  (status draft, no due time), so no dispatcher can pick it up. The steps of the workflow
  that applies (campaign's, else an account's, else the workspace's, else one step by any
  admin) are copied onto the post (`approval_plan`) and approved in order.
- The last approval arms the variants for their times. A rejection sends the post back to
  the author with the comment. Editing the post (content) starts a new round from step 1.
- Not approved before its time: `approvals_expire` (every minute) holds it ("approval
  expired") and tells the author. `Dispatcher.refusal` is the final guard: a variant whose
  post needs approval and is not approved is held, never sent.
- A step whose named approvers have all left falls back to the workspace's admins and
  owners, so nothing waits forever; the queue says so.
- Authors never approve their own posts unless the workflow allows it
  (`authors_approve_own`, copied into each step of the plan). When the author is the only
  one who could approve, the post page says so and the author is told, not asked to approve.
- An outside reviewer approves or rejects one step through a signed link, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chorus.accounts.models import Membership
from chorus.accounts.recipients import moment_text, speaking_to
from chorus.accounts.roles import Capability, Role, role_at_least, role_can
from chorus.accounts.services import notify
from chorus.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.governance.policies import Violation
from chorus.networks.models import SocialAccount
from chorus.networks.selectors import draft_only_accounts
from chorus.publishing.models import (
    ApprovalDecision,
    ApprovalStatus,
    ApprovalStep,
    ApprovalWorkflow,
    Post,
    PostApproval,
    PostState,
    ReviewLink,
    Variant,
    VariantStatus,
)

# A post needing approval must leave approvers at least this long before its time.
MIN_LEAD = timedelta(minutes=1)
DEFAULT_STEP = {"order": 1, "role": Role.ADMIN.value, "members": []}


class PolicyBlocked(ServiceError):
    """A compliance policy with action "block" matches; `violations` per account id."""

    code = "policy_blocked"

    def __init__(self, violations: dict[int, list[Violation]]):
        lines = [f"{v.policy.name}: {v.message}" for items in violations.values() for v in items]
        super().__init__(_("Blocked by policy. %(lines)s") % {"lines": " ".join(lines)})
        self.violations = violations


@dataclass
class Requirement:
    reasons: list[str] = field(default_factory=list)
    workflow: ApprovalWorkflow | None = None

    @property
    def required(self) -> bool:
        return bool(self.reasons)


# --------------------------------------------------------------------------- deciding


def _author_membership(post: Post) -> Membership | None:
    return Membership.objects.filter(user_id=post.author_id, workspace_id=post.workspace_id).first()


def policy_findings(post: Post) -> tuple[dict[int, list[Violation]], list[Violation]]:
    """(blocking violations per account id, violations that require approval)."""
    from chorus.governance.services import policy_check

    blocking: dict[int, list[Violation]] = {}
    approval: list[Violation] = []
    for variant in post.variants.select_related("account"):
        violations = policy_check(
            workspace=post.workspace,
            text="\n\n".join(p for p in variant.parts() if p),
            account=variant.account,
            links=[variant.link] if variant.link else None,
        )
        for violation in violations:
            if violation.blocks:
                blocking.setdefault(variant.account_id, []).append(violation)
            else:
                approval.append(violation)
    return blocking, approval


def workflows_for(post: Post) -> list[ApprovalWorkflow]:
    """Workflows in scope, most specific first: the campaign's, the accounts' (most steps
    first), the workspace's."""
    account_ids = list(post.variants.values_list("account_id", flat=True))
    found = []
    if post.campaign_id:
        found += list(ApprovalWorkflow.objects.filter(campaign_id=post.campaign_id))
    accounts = ApprovalWorkflow.objects.filter(account_id__in=account_ids).prefetch_related("steps")
    found += sorted(accounts, key=lambda w: (-len(w.steps.all()), w.pk))
    found += list(
        ApprovalWorkflow.objects.filter(
            workspace_id=post.workspace_id, account__isnull=True, campaign__isnull=True
        )
    )
    return found


def approval_requirement(*, post: Post, actor: Membership) -> Requirement:
    """Why this submission needs approval (no reasons: it does not). Raises PolicyBlocked."""
    blocking, approval = policy_findings(post)
    if blocking:
        raise PolicyBlocked(blocking)
    account_ids = set(post.variants.values_list("account_id", flat=True))
    handles = dict(SocialAccount.objects.filter(pk__in=account_ids).values_list("pk", "handle"))
    reasons = []
    people = {actor.pk: actor}
    author = _author_membership(post)
    if author is not None:
        people[author.pk] = author
    for person in people.values():
        name = person.user.display_name
        if not role_can(person.role, Capability.PUBLISH_POSTS):
            reasons.append(
                _("%(name)s's role (%(role)s) publishes only with approval.")
                % {"name": name, "role": person.get_role_display()}
            )
        for account_id in sorted(draft_only_accounts(person, account_ids)):
            reasons.append(
                _("%(name)s may only draft for %(handle)s.")
                % {"name": name, "handle": handles.get(account_id, account_id)}
            )
    for violation in approval:
        reasons.append(
            _("Policy “%(policy)s”: %(message)s")
            % {"policy": violation.policy.name, "message": violation.message}
        )
    workflows = workflows_for(post)
    for workflow in workflows:
        if workflow.applies_to_all:
            reasons.append(
                _("Workflow “%(name)s” applies to every post.") % {"name": workflow.name}
            )
    return Requirement(reasons=list(dict.fromkeys(reasons)), workflow=next(iter(workflows), None))


def plan_of(workflow: ApprovalWorkflow | None) -> list[dict]:
    if workflow is None:
        return [dict(DEFAULT_STEP)]
    if "steps" in getattr(workflow, "_prefetched_objects_cache", {}):
        steps = sorted(workflow.steps.all(), key=lambda s: s.order)  # a list of workflows
    else:
        steps = workflow.steps.prefetch_related("members")
    return [
        {
            "order": n,
            "role": s.role,
            "members": sorted(m.pk for m in s.members.all()),
            "authors_approve_own": workflow.authors_approve_own,
        }
        for n, s in enumerate(steps, start=1)
    ]


# --------------------------------------------------------------------------- who approves


def _members(workspace_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(workspace_id=workspace_id, user__is_active=True).select_related(
            "user"
        )
    )


@dataclass
class StepApprovers:
    members: list[Membership]
    fallback: bool  # nobody the step names is left: admins and owners approve instead
    # The author alone could approve, and the workflow does not let authors approve their own
    # posts: nobody is asked; the author is told to add an approver or allow it.
    only_author: bool = False


def approvers_for(post: Post, members: list[Membership] | None = None) -> StepApprovers:
    """Who may approve the post's current step. The author approves their own post only when
    the workflow allows it (`authors_approve_own`)."""
    if post.state != PostState.PENDING_APPROVAL or not post.approval_plan:
        return StepApprovers([], False)
    members = _members(post.workspace_id) if members is None else members
    step = post.approval_plan[min(post.approval_step, len(post.approval_plan)) - 1]
    named = set(step.get("members") or [])
    role = step.get("role") or ""

    def named_by_step(m: Membership) -> bool:
        return m.pk in named or bool(
            role and role_at_least(m.role, role) and role_can(m.role, Capability.APPROVE_POSTS)
        )

    def admin(m: Membership) -> bool:
        return role_can(m.role, Capability.MANAGE_APPROVALS)

    allowed = [m for m in members if step.get("authors_approve_own") or m.user_id != post.author_id]
    chosen = [m for m in allowed if named_by_step(m)]
    if chosen:
        return StepApprovers(chosen, False)
    if any(named_by_step(m) for m in members):  # the step names only the author
        return StepApprovers([], False, only_author=True)
    admins = [m for m in allowed if admin(m)]  # nobody the step names is left
    return StepApprovers(admins, True, only_author=not admins and any(map(admin, members)))


def may_approve(membership: Membership, post: Post) -> bool:
    return any(m.pk == membership.pk for m in approvers_for(post).members)


def check_may_approve_at_all(actor: Membership) -> None:
    """A role that approves, or named in a step of one of the workspace's workflows."""
    if role_can(actor.role, Capability.APPROVE_POSTS):
        return
    if ApprovalStep.objects.filter(
        workflow__workspace_id=actor.workspace_id, members=actor
    ).exists():
        return
    raise NotAllowed(_("Your role does not allow approving posts."))


def _notify_approvers(post: Post) -> None:
    approvers = approvers_for(post)
    total = len(post.approval_plan)
    if approvers.only_author:
        with speaking_to(post.author, post.workspace):
            message = _(
                "Your post needs approval, but only you could approve step %(n)s and authors "
                "may not approve their own posts: add an approver to the workflow, or allow "
                "authors to approve their own posts."
            ) % {"n": post.approval_step}
        notify(
            user=post.author, workspace=post.workspace, message=message, url=f"/posts/{post.pk}/"
        )
        return
    for member in approvers.members:
        with speaking_to(member.user, post.workspace):
            message = _(
                "A post by %(author)s waits for your approval (step %(n)s of %(total)s)."
            ) % {"author": post.author.display_name, "n": post.approval_step, "total": total}
        notify(user=member.user, workspace=post.workspace, message=message, url="/approvals/")


# --------------------------------------------------------------------------- submitting


def submit(
    *,
    actor: Membership,
    post: Post,
    times: dict[int, datetime],
    requirement: Requirement,
    via_queue: bool = False,
) -> Post:
    """Put the (locked) post in pending_approval for `times`; variants stay unarmed."""
    earliest = min(times.values())
    if earliest < timezone.now() + MIN_LEAD:
        raise ServiceError(
            _("This post needs approval before it goes out: choose a later time."),
            field="scheduled_at",
        )
    for variant in post.variants.all():
        variant.status = VariantStatus.DRAFT
        variant.scheduled_at = times[variant.account_id]
        variant.due_at = None
        variant.last_error = ""
        variant.save(update_fields=["status", "scheduled_at", "due_at", "last_error"])
    _start_round(post, requirement)
    post.scheduled_at = earliest
    post.via_queue = via_queue
    post.save()
    audit_record(
        action=AuditAction.POST_SUBMITTED,
        actor=actor,
        workspace=post.workspace,
        target=post,
        changes={
            "before": None,
            "after": {
                "round": post.approval_round,
                "steps": len(post.approval_plan),
                "reasons": post.approval_reasons,
            },
        },
    )
    _notify_approvers(post)
    return post


def _start_round(post: Post, requirement: Requirement) -> None:
    post.state = PostState.PENDING_APPROVAL
    post.approval_status = ApprovalStatus.PENDING
    post.approval_round += 1
    post.approval_step = 1
    post.approval_plan = plan_of(requirement.workflow)
    post.approval_reasons = requirement.reasons
    post.approval_workflow = requirement.workflow


def resubmit_after_edit(*, actor: Membership, post: Post) -> Post:
    """The content of a submitted post changed: decide again; approvals so far are void.

    Called by `services.post_save` for a pending or scheduled (possibly approved) post.
    """
    requirement = approval_requirement(post=post, actor=actor)
    if not requirement.required:
        if post.state == PostState.PENDING_APPROVAL:  # e.g. the matching term was removed
            _arm(post)
            post.approval_status = ApprovalStatus.NOT_REQUIRED
            post.save()
        return post
    times = {
        v.account_id: v.scheduled_at or post.scheduled_at
        for v in post.variants.all()
        if v.scheduled_at or post.scheduled_at
    }
    if not times:
        return post
    for variant in post.variants.all():
        variant.status = VariantStatus.DRAFT
        variant.scheduled_at = times.get(variant.account_id)
        variant.due_at = None
        variant.save(update_fields=["status", "scheduled_at", "due_at"])
    _start_round(post, requirement)
    post.save()
    _notify_approvers(post)
    return post


def _arm(post: Post) -> None:
    """Approved (or no longer needing approval): every unarmed variant waits for its time."""
    for variant in post.variants.filter(status=VariantStatus.DRAFT):
        variant.status = VariantStatus.SCHEDULED
        variant.scheduled_at = variant.scheduled_at or post.scheduled_at
        variant.due_at = variant.scheduled_at
        variant.last_error = ""
        variant.save(update_fields=["status", "scheduled_at", "due_at", "last_error"])
    post.state = PostState.SCHEDULED


# --------------------------------------------------------------------------- deciding a step


def locked_pending(post: Post, actor: Membership | None = None) -> Post:
    post = Post.objects.select_for_update().select_related("author", "workspace").get(pk=post.pk)
    if actor is not None and post.workspace_id != actor.workspace_id:
        raise NotFound(_("No such post."))
    if post.state != PostState.PENDING_APPROVAL:
        raise Conflict(_("This post is not waiting for approval."))
    if post.scheduled_at and post.scheduled_at <= timezone.now():
        raise Conflict(
            _(
                "Too late: the post's time has passed, so its approval expired. The author can "
                "choose a new time."
            )
        )
    return post


def _check_approver(actor: Membership, post: Post) -> None:
    check_may_approve_at_all(actor)
    if not may_approve(actor, post) and actor.user_id == post.author_id:
        raise NotAllowed(
            _("You wrote this post; this workflow does not let authors approve their own posts.")
        )
    if not may_approve(actor, post):
        raise NotAllowed(
            _("You are not an approver of step %(n)s of this post.") % {"n": post.approval_step}
        )


@transaction.atomic
def post_approve(
    *, actor: Membership, post: Post, comment: str = "", variants: list | None = None
) -> Post:
    """Approve the current step; with `variants` (VariantInput), edit the post first and
    approve it as edited, in one step."""
    check_may_approve_at_all(actor)
    post = locked_pending(post, actor)
    _check_approver(actor, post)
    edited = False
    if variants is not None:
        edited = _edit_as_approver(actor, post, variants)
    return decide(
        post,
        ApprovalDecision.APPROVED,
        comment=comment,
        membership=actor,
        reviewer=actor.user.email,
        audit_actor=actor,
        edited=edited,
    )


@transaction.atomic
def post_reject(*, actor: Membership, post: Post, comment: str) -> Post:
    check_may_approve_at_all(actor)
    post = locked_pending(post, actor)
    _check_approver(actor, post)
    check_comment(comment)
    return decide(
        post,
        ApprovalDecision.REJECTED,
        comment=comment,
        membership=actor,
        reviewer=actor.user.email,
        audit_actor=actor,
    )


def check_comment(comment: str) -> None:
    if not (comment or "").strip():
        raise ServiceError(_("Say why it is rejected, so the author can fix it."), field="comment")


def decide(
    post: Post,
    decision: str,
    *,
    comment: str,
    membership: Membership | None,
    reviewer: str,
    audit_actor,
    link: ReviewLink | None = None,
    edited: bool = False,
) -> Post:
    if decision == ApprovalDecision.APPROVED:  # policies may have changed since submission
        blocking, _approval = policy_findings(post)
        if blocking:
            raise PolicyBlocked(blocking)
    step, total = post.approval_step, len(post.approval_plan)
    fallback = approvers_for(post).fallback
    PostApproval.objects.create(
        post=post,
        round=post.approval_round,
        step=step,
        decision=decision,
        membership=membership,
        reviewer=reviewer[:254],
        review_link=link,
        comment=comment.strip(),
        edited=edited,
    )
    before = {"state": post.state, "step": step, "approval": post.approval_status}
    author_message = []  # translated later, in the author's language
    if decision == ApprovalDecision.REJECTED:
        post.state = PostState.REJECTED
        post.approval_status = ApprovalStatus.REJECTED
        author_message = [gettext_lazy("Your post was rejected by %(who)s: %(comment)s")]
    elif step < total:
        post.approval_step = step + 1
    else:
        _arm(post)
        post.approval_status = ApprovalStatus.APPROVED
        author_message = [
            gettext_lazy("Your post was approved by %(who)s; it goes out at its time.")
        ]
        if comment.strip():
            author_message.append(gettext_lazy("Comment: %(comment)s"))
    post.save()
    audit_record(
        action=AuditAction.POST_APPROVED
        if decision == ApprovalDecision.APPROVED
        else AuditAction.POST_REJECTED,
        actor=audit_actor,
        workspace=post.workspace_id,
        target=post,
        changes={
            "before": before,
            "after": {
                "state": post.state,
                "step": post.approval_step,
                "approval": post.approval_status,
                "round": post.approval_round,
                "of_steps": total,
                "comment": comment.strip(),
                "edited": edited,
                "fallback_to_admins": fallback,
                "review_link": link.pk if link else None,
            },
        },
    )
    if author_message:
        with speaking_to(post.author, post.workspace):
            message = " ".join(str(part) for part in author_message) % {
                "who": reviewer,
                "comment": comment.strip(),
            }
        notify(
            user=post.author, workspace=post.workspace, message=message, url=f"/posts/{post.pk}/"
        )
    else:
        _notify_approvers(post)
    return post


def _edit_as_approver(actor: Membership, post: Post, inputs: list) -> bool:
    """The approver's changes to the post's content (same accounts); True if anything
    changed. Checked against the networks' rules and the blocking policies."""
    from chorus.publishing import services

    variants = {v.account_id: v for v in post.variants.select_related("account")}
    if {i.account_id for i in inputs} != set(variants):
        raise ServiceError(
            _("Editing while approving keeps the same accounts; ask the author for others."),
            field="accounts",
        )
    accounts = {account_id: v.account for account_id, v in variants.items()}
    assets = services._assets(actor, inputs)
    problems = services.problems_of(inputs, accounts, assets)
    if problems:
        raise services.InvalidPost(problems)
    before = services.content_of(post)
    services.write_variants(post, inputs, assets)
    blocking, _approval = policy_findings(post)
    if blocking:
        raise PolicyBlocked(blocking)
    after = services.content_of(post)
    if before == after:
        return False
    audit_record(
        action=AuditAction.POST_EDITED,
        actor=actor,
        workspace=post.workspace_id,
        target=post,
        changes={"before": before, "after": after},
    )
    return True


# --------------------------------------------------------------------------- expiry


def approvals_expire(*, now: datetime | None = None) -> int:
    """Hold every post not fully approved before its time; tell its author. Returns how
    many. Runs every minute (`tasks.expire_approvals`); the dispatcher guards as well."""
    now = now or timezone.now()
    count = 0
    for post_id in Post.objects.filter(
        state=PostState.PENDING_APPROVAL, scheduled_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            post = (
                Post.objects.select_for_update()
                .select_related("author", "workspace")
                .filter(pk=post_id, state=PostState.PENDING_APPROVAL, scheduled_at__lte=now)
                .first()
            )
            if post is None:
                continue
            with speaking_to(post.author, post.workspace):  # the author reads it
                reason = _(
                    "Approval expired: it was not approved before its time (%(time)s), so it "
                    "was not sent."
                ) % {"time": moment_text(post.scheduled_at)}
                message = _(
                    "Your post was held: %(reason)s Choose a new time to submit it again."
                ) % {"reason": reason}
            post.variants.filter(status__in=[VariantStatus.DRAFT, VariantStatus.SCHEDULED]).update(
                status=VariantStatus.HELD, due_at=None, last_error=reason
            )
            post.state = PostState.DRAFT
            post.approval_status = ApprovalStatus.EXPIRED
            post.save(update_fields=["state", "approval_status", "updated_at"])
            notify(
                user=post.author,
                workspace=post.workspace,
                message=message,
                url=f"/posts/{post.pk}/",
            )
            count += 1
    return count


# --------------------------------------------------------------------------- reads


def approvals_waiting_for(
    membership: Membership, *, members: list[Membership] | None = None, details: bool = True
) -> list[Post]:
    """Posts whose current step this member may approve, soonest first.

    With `details`, variants (with accounts and media) and approval history come
    prefetched, so the list costs a fixed number of queries; a page showing only some of
    them passes `details=False` and calls `with_approval_details` on those. `members`
    (the active ones) may be passed in when the caller has them already."""
    from chorus.publishing.selectors import posts_filtered

    members = _members(membership.workspace_id) if members is None else members
    posts = (
        posts_filtered(membership)
        .filter(state=PostState.PENDING_APPROVAL)
        .select_related("author", "campaign", "workspace")
    )
    waiting = [
        p for p in posts if any(m.pk == membership.pk for m in approvers_for(p, members).members)
    ]
    waiting.sort(key=lambda p: p.scheduled_at or p.created_at)
    return with_approval_details(waiting) if details else waiting


def with_approval_details(posts: list[Post]) -> list[Post]:
    """Load the posts' variants (accounts, media) and approval history: three queries."""
    prefetch_related_objects(
        posts,
        Prefetch(
            "variants",
            queryset=Variant.objects.select_related("account")
            .prefetch_related("variantmedia_set")
            .order_by("pk"),
        ),
        Prefetch(
            "approvals",
            queryset=PostApproval.objects.select_related("membership__user").order_by(
                "created_at", "pk"
            ),
        ),
    )
    return posts


def approval_history(post: Post) -> list[PostApproval]:
    if "approvals" in getattr(post, "_prefetched_objects_cache", {}):
        return list(post.approvals.all())
    return list(post.approvals.select_related("membership__user").order_by("created_at", "pk"))
