"""Approval pages: the approver queue, approve / reject / edit-and-approve, review links for
outside reviewers (a public page, no account), and the workflow settings.

Who may act is decided in `chorus.publishing.approvals` (the step's named members or role,
falling back to admins); the views only read forms and call those services.
"""

from __future__ import annotations

from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts import selectors as account_selectors
from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.core.site import absolute_url
from chorus.governance.services import PolicyChecker
from chorus.networks import selectors as network_selectors
from chorus.publishing import approval_workflows, approvals, review_links, selectors
from chorus.publishing.models import Post, PostState
from chorus.publishing.services import InvalidPost, VariantInput
from chorus.web.views.common import member_required, public, show_service_error
from chorus.web.views.composer import composer_from_post
from chorus.web.views.preview_cards import preview_cards
from chorus.web.views.timeinput import zone_name

APPROVALS_PAGE_SIZE = 20  # posts waiting for approval shown per page, with their previews
MINE_SHOWN = 50  # the member's own posts in review


def _cards(post: Post, membership=None, *, assets=None, checker=None) -> list[dict]:
    """The composer's per-network previews of a saved post."""
    accounts = {v.account_id: v.account for v in post.variants.all()}
    viewer = membership or SimpleNamespace(workspace=post.workspace)
    return preview_cards(viewer, composer_from_post(post), accounts, assets=assets, checker=checker)


def _plan(post: Post, members_by_id: dict[int, Membership], history=None) -> list[dict]:
    history = approvals.approval_history(post) if history is None else history
    done = {
        a.step: a for a in history if a.round == post.approval_round and a.decision == "approved"
    }
    return [
        {
            "order": step["order"],
            "label": approval_workflows.step_label(step, members_by_id),
            "done": done.get(step["order"]),
            "current": post.state == PostState.PENDING_APPROVAL
            and step["order"] == post.approval_step,
        }
        for step in post.approval_plan
    ]


def approval_context(
    post: Post, membership: Membership, members: list[Membership] | None = None
) -> dict:
    """What the queue and the post page show about a post's approval. A page of many posts
    passes the workspace's `members` (with their users), loaded once."""
    if members is None:
        members = list(account_selectors.members_of(post.workspace))
    members_by_id = {m.pk: m for m in members}
    approvers = approvals.approvers_for(post, [m for m in members if m.user.is_active])
    history = approvals.approval_history(post)
    return {
        "plan": _plan(post, members_by_id, history),
        "history": history,
        "approvers": approvers.members,
        "fallback": approvers.fallback,
        "only_author": approvers.only_author,
        "may_approve": any(m.pk == membership.pk for m in approvers.members),
        "may_link": post.state == PostState.PENDING_APPROVAL
        and (
            any(m.pk == membership.pk for m in approvers.members)
            or role_can(membership.role, Capability.MANAGE_APPROVALS)
        ),
    }


# --------------------------------------------------------------------------- the queue


@member_required()
@require_GET
def approvals_queue(request):
    """Posts waiting for this member, a page at a time, with previews and approval state,
    in a fixed number of queries: the page's variants, media and history prefetched;
    members, media assets and policies loaded once; each distinct text checked once."""
    membership = request.membership
    members = list(account_selectors.members_of(membership.workspace).prefetch_related(None))
    pending = approvals.approvals_waiting_for(
        membership, members=[m for m in members if m.user.is_active], details=False
    )
    paginator = Paginator(pending, APPROVALS_PAGE_SIZE)
    asked = _page_number(request.GET.get("page"))
    page = paginator.page(min(asked, paginator.num_pages))
    posts = approvals.with_approval_details(list(page.object_list))
    network_selectors.load_server_limits(v.account for p in posts for v in p.variants.all())
    checker = PolicyChecker(membership.workspace)
    assets = selectors.assets_by_id(
        membership,
        {vm.asset_id for p in posts for v in p.variants.all() for vm in v.variantmedia_set.all()},
    )
    waiting = [
        {
            "post": post,
            "cards": _cards(post, membership, assets=assets, checker=checker),
            **approval_context(post, membership, members),
        }
        for post in posts
    ]
    mine = selectors.first_of_each(
        [
            selectors.posts_of(membership, author_id=membership.user_id).filter(state=state)
            for state in (PostState.PENDING_APPROVAL, PostState.REJECTED)
        ],
        limit=MINE_SHOWN,
    ).order_by("-scheduled_at", "-pk")[:MINE_SHOWN]
    return render(
        request,
        "publishing/approvals.html",
        {
            "waiting": waiting,
            "page": page,
            "total": paginator.count,
            "page_notice": _("There is no page %(asked)s; this is the last page, %(last)s.")
            % {"asked": asked, "last": page.number}
            if asked > page.number
            else "",
            "mine": mine,
            "zone_name": zone_name(),
            "can_manage": role_can(membership.role, Capability.MANAGE_APPROVALS),
        },
    )


def _page_number(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def _pending_post(request, post_id: int) -> Post:
    return selectors.access_post(membership=request.membership, post_id=post_id)


def _back(request, post: Post):
    target = request.POST.get("next", "")
    if target == "post":
        return redirect("post_detail", post_id=post.pk)
    return redirect("approvals")


def _decide(request, post_id: int, decide, done: str):
    """Approve or reject the pending post; refusals other than permission are shown."""
    post = _pending_post(request, post_id)
    try:
        decide(actor=request.membership, post=post, comment=request.POST.get("comment", ""))
    except ServiceError as exc:
        if exc.status == 403:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(request, post)


@member_required()
@require_POST
def approval_approve(request, post_id: int):
    return _decide(request, post_id, approvals.post_approve, _("Approved."))


@member_required()
@require_POST
def approval_reject(request, post_id: int):
    return _decide(request, post_id, approvals.post_reject, _("Rejected; the author was told why."))


@member_required()
@require_http_methods(["GET", "POST"])
def approval_edit(request, post_id: int):
    """Edit each account's text, then approve, in one step."""
    post = _pending_post(request, post_id)
    if post.state != PostState.PENDING_APPROVAL:
        messages.info(request, _("This post is not waiting for approval."))
        return redirect("post_detail", post_id=post.pk)
    if not approvals.may_approve(request.membership, post):
        raise PermissionDenied(_("You are not an approver of this step."))
    variants = list(post.variants.select_related("account").order_by("pk"))
    errors = {}
    if request.method == "POST":
        inputs = [
            VariantInput(
                account_id=v.account_id,
                text=request.POST.get(f"text-{v.account_id}", v.text),
                thread=list(v.thread),
                first_comment=v.first_comment,
                link=v.link,
                content_warning=v.content_warning,
                poll=v.poll,
                media=[(vm.asset_id, vm.alt_text) for vm in v.variantmedia_set.all()],
            )
            for v in variants
        ]
        try:
            approvals.post_approve(
                actor=request.membership,
                post=post,
                comment=request.POST.get("comment", ""),
                variants=inputs,
            )
        except InvalidPost as exc:
            errors = {k: [p.message for p in v] for k, v in exc.problems.items()}
            errors["general"] = exc.message
        except ServiceError as exc:
            if exc.status == 403:
                raise
            errors["general"] = exc.message
        else:
            messages.success(request, _("Edited and approved."))
            return redirect("approvals")
        for v in variants:
            v.text = request.POST.get(f"text-{v.account_id}", v.text)
    return render(
        request,
        "publishing/approval_edit.html",
        {
            "post": post,
            "variants": variants,
            "errors": errors,
            "cards": _cards(post, request.membership),
        },
        status=400 if errors else 200,
    )


@member_required()
@require_POST
def approval_review_link(request, post_id: int):
    post = _pending_post(request, post_id)
    try:
        _link, token = review_links.review_link_create(
            actor=request.membership, post=post, reviewer=request.POST.get("reviewer", "")
        )
    except ServiceError as exc:
        if exc.status == 403:
            raise
        messages.error(request, exc.message)
        return redirect("post_detail", post_id=post.pk)
    url = absolute_url(reverse("review", kwargs={"token": token}))
    messages.success(
        request,
        _("Send this link to the reviewer; it works once, until the post's time: %(url)s")
        % {"url": url},
    )
    return redirect("post_detail", post_id=post.pk)


# --------------------------------------------------------------------------- outside reviewers


@public
@require_http_methods(["GET", "POST"])
def review(request, token: str):
    """An outside reviewer's page: the previews, Approve or Reject with a comment."""
    try:
        link = review_links.review_link_open(token)
    except review_links.LinkInvalid as exc:
        return render(request, "publishing/review.html", {"invalid": exc.message}, status=410)
    post = link.post
    done, error = "", ""
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            review_links.review_link_decide(
                token=token, approve=decision == "approve", comment=request.POST.get("comment", "")
            )
        except review_links.LinkInvalid as exc:
            return render(request, "publishing/review.html", {"invalid": exc.message}, status=410)
        except ServiceError as exc:
            error = exc.message
        else:
            done = _("Thank you: approved.") if decision == "approve" else _("Thank you: rejected.")
    return render(
        request,
        "publishing/review.html",
        {
            "link": link,
            "post": post,
            "cards": _cards(post),
            "done": done,
            "error": error,
            "zone_name": post.workspace.timezone,
        },
        status=400 if error else 200,
    )


# --------------------------------------------------------------------------- workflows


class WorkflowForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    scope = forms.ChoiceField(label=gettext_lazy("For"), required=False)
    applies_to_all = forms.BooleanField(
        label=gettext_lazy("Every post here needs approval (also from editors and admins)"),
        required=False,
    )
    authors_approve_own = forms.BooleanField(
        label=gettext_lazy("Authors may approve their own posts"), required=False
    )

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("The whole workspace"))]
        choices += [
            (f"account-{a.pk}", _("Account %(handle)s") % {"handle": a.handle})
            for a in network_selectors.accounts_of(membership)
        ]
        choices += [
            (f"campaign-{c.pk}", _("Campaign %(name)s") % {"name": c.name})
            for c in selectors.campaigns_of(membership)
        ]
        self.fields["scope"].choices = choices
        self.members = list(account_selectors.members_of(membership.workspace))
        self.roles = approval_workflows.APPROVER_ROLES


def _steps_from(data) -> list[approval_workflows.StepInput]:
    steps = []
    for n in range(1, approval_workflows.MAX_STEPS + 1):
        role = data.get(f"step-{n}-role", "")
        members = [int(v) for v in data.getlist(f"step-{n}-members") if v.isdigit()]
        if role or members:
            steps.append(approval_workflows.StepInput(role=role, members=members))
    return steps


def _scope_of(value: str) -> dict:
    kind, _sep, pk = (value or "").partition("-")
    if kind in ("account", "campaign") and pk.isdigit():
        return {f"{kind}_id": int(pk)}
    return {}


def _workflow_page(request, workflow=None):
    membership = request.membership
    initial, steps = {}, [{"role": "admin", "members": []}]
    if workflow is not None:
        scope = ""
        if workflow.account_id:
            scope = f"account-{workflow.account_id}"
        elif workflow.campaign_id:
            scope = f"campaign-{workflow.campaign_id}"
        initial = {
            "name": workflow.name,
            "scope": scope,
            "applies_to_all": workflow.applies_to_all,
            "authors_approve_own": workflow.authors_approve_own,
        }
        steps = approvals.plan_of(workflow)
    form = WorkflowForm(request.POST or None, initial=initial, membership=membership)
    if request.method == "POST":
        steps = [{"role": s.role, "members": s.members} for s in _steps_from(request.POST)]
        if form.is_valid():
            try:
                approval_workflows.workflow_save(
                    actor=membership,
                    workflow=workflow,
                    name=form.cleaned_data["name"],
                    steps=_steps_from(request.POST),
                    applies_to_all=form.cleaned_data["applies_to_all"],
                    authors_approve_own=form.cleaned_data["authors_approve_own"],
                    **_scope_of(form.cleaned_data["scope"]),
                )
            except ServiceError as exc:
                show_service_error(form, exc)
            else:
                messages.success(request, _("Workflow saved."))
                return redirect("workflows")
    rows = [
        (steps[n - 1] if n <= len(steps) else {"role": "", "members": []}) | {"order": n}
        for n in range(1, approval_workflows.MAX_STEPS + 1)
    ]
    return render(
        request,
        "publishing/workflow_form.html",
        {"form": form, "workflow": workflow, "steps": rows},
        status=400 if form.is_bound and form.errors else 200,
    )


@member_required()
@require_GET
def workflows(request):
    membership = request.membership
    members = {m.pk: m for m in account_selectors.members_of(membership.workspace)}
    rows = [
        {
            "workflow": w,
            "steps": [approval_workflows.step_label(s, members) for s in approvals.plan_of(w)],
        }
        for w in approval_workflows.workflows_of(membership)
    ]
    return render(
        request,
        "publishing/workflows.html",
        {"rows": rows, "can_manage": role_can(membership.role, Capability.MANAGE_APPROVALS)},
    )


@member_required(Capability.MANAGE_APPROVALS)
@require_http_methods(["GET", "POST"])
def workflow_new(request):
    return _workflow_page(request)


@member_required(Capability.MANAGE_APPROVALS)
@require_http_methods(["GET", "POST"])
def workflow_edit(request, workflow_id: int):
    workflow = approval_workflows.access_workflow(
        membership=request.membership, workflow_id=workflow_id
    )
    return _workflow_page(request, workflow)


@member_required(Capability.MANAGE_APPROVALS)
@require_POST
def workflow_delete(request, workflow_id: int):
    workflow = approval_workflows.access_workflow(
        membership=request.membership, workflow_id=workflow_id
    )
    approval_workflows.workflow_delete(actor=request.membership, workflow=workflow)
    messages.success(request, _("Workflow deleted."))
    return redirect("workflows")
