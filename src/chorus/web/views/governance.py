"""Governance pages: the audit log (filters, CSV) and compliance policies (with a try-it box)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.governance import export, selectors, services
from chorus.governance.policies import Violation, highlight
from chorus.networks import selectors as network_selectors
from chorus.web.forms import AuditFilterForm, PolicyCheckForm, PolicyForm
from chorus.web.views.common import member_required, show_service_error

AUDIT_PAGE_SIZE = 50


# --------------------------------------------------------------------------- audit log


def day_bounds(
    date_from: dt.date | None, date_to: dt.date | None, zone=None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Whole days (in `zone`, else the active zone) → [since, until) aware datetimes."""
    zone = zone or timezone.get_current_timezone()

    def start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=zone)

    since = start(date_from) if date_from else None
    until = start(date_to + dt.timedelta(days=1)) if date_to else None
    return since, until


def _audit_filters(request) -> tuple[AuditFilterForm, selectors.AuditFilters]:
    form = AuditFilterForm(request.GET or None)
    if not form.is_valid():
        return form, selectors.AuditFilters()
    data = form.cleaned_data
    since, until = day_bounds(data["date_from"], data["date_to"])
    return form, selectors.AuditFilters(
        action=data["action"],
        actor=data["actor"],
        target=data["target"],
        since=since,
        until=until,
    )


# What a person calls each kind of audited thing, and where its page is (None: no page).
TARGET_KINDS = {
    "publishing.post": (gettext_lazy("Post"), "post_detail"),
    "networks.socialaccount": (gettext_lazy("Social account"), "account_detail"),
    "governance.policy": (gettext_lazy("Compliance policy"), "policy_edit"),
    "publishing.approvalworkflow": (gettext_lazy("Approval workflow"), "workflow_edit"),
    "publishing.campaign": (gettext_lazy("Campaign"), "campaign_edit"),
    "accounts.membership": (gettext_lazy("Member"), None),
    "accounts.invitation": (gettext_lazy("Invitation"), None),
    "accounts.team": (gettext_lazy("Team"), None),
    "accounts.apitoken": (gettext_lazy("API token"), None),
    "accounts.workspace": (gettext_lazy("Workspace"), None),
    "accounts.user": (gettext_lazy("Person"), None),
}


def _described(entry):
    """`kind` ("Post") and `link` (its page) for the Target column, instead of the internal
    "publishing.post #8"; a kind we do not know shows as it was recorded."""
    kind, view = TARGET_KINDS.get(entry.target_type, (entry.target_type, None))
    entry.kind = kind
    entry.link = ""
    if view and entry.target_id.isdigit() and entry.action != "post_deleted":
        try:
            entry.link = reverse(view, args=[int(entry.target_id)])
        except NoReverseMatch:
            entry.link = ""
    return entry


@member_required(Capability.VIEW_AUDIT_LOG)
@require_GET
def audit_log(request):
    form, filters = _audit_filters(request)
    entries = selectors.audit_entries(request.membership.workspace, filters)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_described(entry) for entry in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@member_required(Capability.VIEW_AUDIT_LOG)
@require_GET
def audit_export(request):
    _form, filters = _audit_filters(request)
    workspace = request.membership.workspace
    entries = selectors.audit_entries(workspace, filters).iterator(chunk_size=1000)
    response = StreamingHttpResponse(export.csv_lines(entries), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(workspace.pk)}"'
    return response


# --------------------------------------------------------------------------- policies


def _accounts(request):
    return list(network_selectors.accounts_of(request.membership))


def violations_context(text: str, violations: list[Violation]) -> dict:
    """What `governance/_violations.html` needs; the composer calls this too."""
    return {
        "checked": True,
        "checked_text": text,
        "violations": violations,
        "segments": highlight(text, violations),
        "blocked": any(v.blocks for v in violations),
    }


@member_required()
@require_GET
def policies(request):
    membership = request.membership
    return render(
        request,
        "governance/policies.html",
        {
            "policies": selectors.policies_of(membership.workspace),
            "can_manage": role_can(membership.role, Capability.MANAGE_POLICIES),
            "check_form": PolicyCheckForm(accounts=_accounts(request)),
        },
    )


def _policy_arguments(form: PolicyForm, accounts: list) -> dict:
    data = form.cleaned_data
    chosen = {int(pk) for pk in data["accounts"]}
    return {
        "name": data["name"],
        "kind": data["kind"],
        "action": data["action"],
        "terms": data["terms"].splitlines(),
        "patterns": data["patterns"].splitlines(),
        "disclaimer": data["disclaimer"],
        "domains": data["domains"].splitlines(),
        "accounts": [account for account in accounts if account.pk in chosen],
        "is_active": data["is_active"],
    }


@member_required(Capability.MANAGE_POLICIES)
@require_http_methods(["GET", "POST"])
def policy_create(request):
    accounts = _accounts(request)
    form = PolicyForm(request.POST or None, accounts=accounts, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.policy_create(
                actor=request.membership, **_policy_arguments(form, accounts)
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Policy “%(name)s” created.") % {"name": policy.name})
            return redirect("policies")
    status = 400 if form.is_bound else 200
    return render(
        request, "governance/policy_form.html", {"form": form, "policy": None}, status=status
    )


@member_required(Capability.MANAGE_POLICIES)
@require_http_methods(["GET", "POST"])
def policy_edit(request, policy_id: int):
    policy = selectors.access_policy(workspace=request.membership.workspace, policy_id=policy_id)
    accounts = _accounts(request)
    initial = {
        "name": policy.name,
        "kind": policy.kind,
        "action": policy.action,
        "terms": "\n".join(policy.terms),
        "patterns": "\n".join(policy.patterns),
        "disclaimer": policy.disclaimer,
        "domains": "\n".join(policy.domains),
        "accounts": [str(account.pk) for account in policy.accounts.all()],
        "is_active": policy.is_active,
    }
    form = PolicyForm(request.POST or None, accounts=accounts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(
                actor=request.membership, policy=policy, **_policy_arguments(form, accounts)
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("policies")
    status = 400 if form.is_bound else 200
    return render(
        request, "governance/policy_form.html", {"form": form, "policy": policy}, status=status
    )


@member_required(Capability.MANAGE_POLICIES)
@require_POST
def policy_delete(request, policy_id: int):
    policy = selectors.access_policy(workspace=request.membership.workspace, policy_id=policy_id)
    services.policy_delete(actor=request.membership, policy=policy)
    messages.success(request, _("Policy deleted."))
    return redirect("policies")


@member_required()
@require_POST
def policy_check(request):
    """The try-it box (htmx): check sample text, return the highlighted violations."""
    accounts = _accounts(request)
    form = PolicyCheckForm(request.POST, accounts=accounts)
    if not form.is_valid():
        return render(request, "governance/_violations.html", {"form_errors": form.errors})
    text = form.cleaned_data["text"]
    chosen = form.cleaned_data["account"]
    account = next((a for a in accounts if str(a.pk) == chosen), None)
    violations = services.policy_check(
        workspace=request.membership.workspace, text=text, account=account
    )
    return render(request, "governance/_violations.html", violations_context(text, violations))
