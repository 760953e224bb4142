"""Workspace roles and what each may do.

One table answers "may this role do that?" for views, the API and tasks alike.
The governance issue refines it with per-social-account permissions.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    EDITOR = "editor", _("Editor")
    CONTRIBUTOR = "contributor", _("Contributor")
    VIEWER = "viewer", _("Viewer")


class Capability(models.TextChoices):
    VIEW_WORKSPACE = "view_workspace", _("See the workspace")
    MANAGE_MEMBERS = "manage_members", _("Invite, change roles and remove members")
    MANAGE_TEAMS = "manage_teams", _("Create teams and choose their members")
    MANAGE_WORKSPACE = "manage_workspace", _("Rename the workspace and change its time zone")
    DELETE_WORKSPACE = "delete_workspace", _("Delete the workspace")
    CREATE_POSTS = "create_posts", _("Write posts and drafts")
    PUBLISH_POSTS = "publish_posts", _("Schedule and publish posts without approval")
    MANAGE_ACCOUNTS = "manage_accounts", _("Connect social accounts and choose who may use them")
    VIEW_AUDIT_LOG = "view_audit_log", _("Read and export the audit log")
    MANAGE_POLICIES = "manage_policies", _("Create, change and delete compliance policies")
    APPROVE_POSTS = "approve_posts", _("Approve or reject posts waiting for approval")
    MANAGE_APPROVALS = "manage_approvals", _("Set up approval workflows")
    MANAGE_LISTENING = "manage_listening", _("Create and change listening topics and queries")
    VIEW_INBOX = "view_inbox", _("Read the inbox")
    WORK_INBOX = "work_inbox", _("Assign, tag, close and annotate inbox conversations")
    MANAGE_INBOX = "manage_inbox", _("Set up inbox routing rules, saved replies and targets")
    MANAGE_REPORTS = (
        "manage_reports",
        _("Build, change and delete analytics reports, their schedules and share links"),
    )


_EVERYONE = frozenset(Role)
_ADMINS = frozenset({Role.OWNER, Role.ADMIN})

GRANTS: dict[Capability, frozenset[Role]] = {
    Capability.VIEW_WORKSPACE: _EVERYONE,
    Capability.MANAGE_MEMBERS: _ADMINS,
    Capability.MANAGE_TEAMS: _ADMINS,
    Capability.MANAGE_WORKSPACE: _ADMINS,
    Capability.DELETE_WORKSPACE: frozenset({Role.OWNER}),
    Capability.MANAGE_ACCOUNTS: _ADMINS,
    Capability.VIEW_AUDIT_LOG: _ADMINS,
    Capability.MANAGE_POLICIES: _ADMINS,
    Capability.CREATE_POSTS: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR, Role.CONTRIBUTOR}),
    Capability.PUBLISH_POSTS: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    Capability.APPROVE_POSTS: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    Capability.MANAGE_APPROVALS: _ADMINS,
    Capability.MANAGE_LISTENING: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    Capability.VIEW_INBOX: _EVERYONE,
    Capability.WORK_INBOX: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR, Role.CONTRIBUTOR}),
    Capability.MANAGE_INBOX: _ADMINS,
    Capability.MANAGE_REPORTS: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
}

# Highest first: "a role or higher" in approval steps reads this order.
RANK = {Role.OWNER: 5, Role.ADMIN: 4, Role.EDITOR: 3, Role.CONTRIBUTOR: 2, Role.VIEWER: 1}


def role_at_least(role: str, minimum: str) -> bool:
    return RANK[Role(role)] >= RANK[Role(minimum)]


def role_can(role: str, capability: Capability) -> bool:
    return Role(role) in GRANTS[capability]


def roles_assignable_by(role: str) -> list[Role]:
    """An admin may hand out any role but owner; only an owner makes owners."""
    if Role(role) == Role.OWNER:
        return list(Role)
    if Role(role) == Role.ADMIN:
        return [r for r in Role if r != Role.OWNER]
    return []
