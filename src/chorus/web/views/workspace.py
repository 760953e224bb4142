"""The workspace: overview, switcher, members, teams, invitations, settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chorus.accounts import selectors, services
from chorus.accounts.middleware import SESSION_WORKSPACE_KEY
from chorus.accounts.roles import Capability, role_can, roles_assignable_by
from chorus.core.errors import ServiceError
from chorus.links import selectors as link_selectors
from chorus.networks.selectors import accounts_needing_attention
from chorus.publishing import selectors as publishing
from chorus.publishing.approvals import approvals_waiting_for
from chorus.web.forms import InvitationForm, RoleForm, TeamForm, WorkspaceForm
from chorus.web.views.common import member_required, show_service_error, signed_in_required

GOING_OUT_SHOWN = 20  # posts listed for today, the rest of the week, approvals; the rest counted


@member_required()
def home(request):
    """What a social media manager opens the app for: what goes out, what waits for them,
    what needs fixing, how punctual publishing was; a new workspace's first steps."""
    membership = request.membership
    workspace = membership.workspace
    now = timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    end_of_today = datetime.combine(tomorrow, time.min, tzinfo=timezone.get_current_timezone())
    going_out = publishing.posts_going_out(
        membership,
        start=now,
        split=end_of_today,
        end=now + timedelta(days=7),
        shown=GOING_OUT_SHOWN,
    )
    on_time = publishing.on_time_record(membership, by="all", since=timedelta(days=7))
    waiting = approvals_waiting_for(membership, details=False)
    attention = accounts_needing_attention(membership)
    trouble = publishing.variants_in_trouble(membership)
    return render(
        request,
        "web/home.html",
        {
            "going_out": going_out,
            "waiting": publishing.with_variant_texts(waiting[:GOING_OUT_SHOWN]),
            "waiting_count": len(waiting),
            "attention": attention,
            "trouble": trouble,
            "attention_count": len(attention) + len(trouble),
            "on_time": on_time[0] if on_time else None,
            "checklist": publishing.setup_checklist(membership),
            "members": selectors.members_of(workspace),
            "teams": selectors.teams_of(workspace),
            "goals": link_selectors.goals_with_progress(membership, running_only=True),
        },
    )


@signed_in_required
@require_POST
def switch_workspace(request):
    try:
        workspace_id = int(request.POST.get("workspace", ""))
        membership = selectors.access_workspace(user=request.user, workspace_id=workspace_id)
    except (ValueError, ServiceError) as exc:
        raise Http404(_("No such workspace.")) from exc
    request.session[SESSION_WORKSPACE_KEY] = membership.workspace_id
    return redirect("home")


@signed_in_required
@require_http_methods(["GET", "POST"])
def workspace_new(request):
    form = WorkspaceForm(request.POST or None, initial={"timezone": "UTC"})
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(
                name=form.cleaned_data["name"],
                owner=request.user,
                workspace_timezone=form.cleaned_data["timezone"],
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            request.session[SESSION_WORKSPACE_KEY] = workspace.pk
            return redirect("home")
    return render(request, "web/workspace_new.html", {"form": form})


@member_required(Capability.MANAGE_WORKSPACE)
@require_http_methods(["GET", "POST"])
def workspace_settings(request):
    workspace = request.membership.workspace
    form = WorkspaceForm(
        request.POST or None, initial={"name": workspace.name, "timezone": workspace.timezone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update(
                membership=request.membership,
                name=form.cleaned_data["name"],
                workspace_timezone=form.cleaned_data["timezone"],
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Workspace saved."))
            return redirect("workspace_settings")
    return render(request, "web/workspace_settings.html", {"form": form})


@member_required()
def members(request):
    workspace = request.membership.workspace
    can_manage = role_can(request.membership.role, Capability.MANAGE_MEMBERS)
    assignable = roles_assignable_by(request.membership.role)
    invite_form = InvitationForm()
    invite_form.fields["role"].choices = [(r.value, r.label) for r in assignable]
    return render(
        request,
        "web/members.html",
        {
            "members": selectors.members_of(workspace),
            "teams": selectors.teams_of(workspace),
            "invitations": selectors.open_invitations(workspace) if can_manage else [],
            "can_manage": can_manage,
            "can_manage_teams": role_can(request.membership.role, Capability.MANAGE_TEAMS),
            "assignable_roles": assignable,
            "invite_form": invite_form,
            "team_form": TeamForm(),
        },
    )


@member_required(Capability.MANAGE_MEMBERS)
@require_POST
def invite(request):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(actor=request.membership, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
    else:
        messages.error(request, _("Enter a valid email address and role."))
    return redirect("members")


@member_required(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = selectors.access_invitation(
        workspace=request.membership.workspace, invitation_id=invitation_id
    )
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, _("Invitation revoked."))
    return redirect("members")


@member_required(Capability.MANAGE_MEMBERS)
@require_POST
def member_role(request, membership_id: int):
    target = selectors.access_member(
        workspace=request.membership.workspace, membership_id=membership_id
    )
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                actor=request.membership, membership=target, role=form.cleaned_data["role"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role changed."))
    return redirect("members")


@member_required()
@require_POST
def member_remove(request, membership_id: int):
    target = selectors.access_member(
        workspace=request.membership.workspace, membership_id=membership_id
    )
    try:
        services.membership_remove(actor=request.membership, membership=target)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("members")
    if target.pk == request.membership.pk:
        request.session.pop(SESSION_WORKSPACE_KEY, None)
        return redirect("home")
    messages.success(request, _("Member removed."))
    return redirect("members")


@member_required(Capability.MANAGE_TEAMS)
@require_POST
def team_create(request):
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            services.team_create(actor=request.membership, name=form.cleaned_data["name"])
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("members")


@member_required(Capability.MANAGE_TEAMS)
@require_POST
def team_members(request, team_id: int):
    workspace = request.membership.workspace
    team = selectors.access_team(workspace=workspace, team_id=team_id)
    chosen = selectors.members_of(workspace).filter(pk__in=request.POST.getlist("members"))
    services.team_set_members(actor=request.membership, team=team, memberships=list(chosen))
    messages.success(request, _("Team saved."))
    return redirect("members")


@member_required(Capability.MANAGE_TEAMS)
@require_POST
def team_delete(request, team_id: int):
    team = selectors.access_team(workspace=request.membership.workspace, team_id=team_id)
    services.team_delete(actor=request.membership, team=team)
    return redirect("members")
