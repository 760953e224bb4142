"""Navigation for the shell: only features that exist appear, only what the role may use."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from chorus.accounts.roles import Capability, role_can

# (url name, label, capability needed). A feature adds its entry when it lands.
NAVIGATION = [
    ("home", _("Overview"), Capability.VIEW_WORKSPACE),
    ("post_new", _("Compose"), Capability.CREATE_POSTS),
    ("inbox", _("Inbox"), Capability.VIEW_INBOX),
    ("calendar", _("Calendar"), Capability.VIEW_WORKSPACE),
    ("campaigns", _("Campaigns"), Capability.VIEW_WORKSPACE),
    ("queue", _("Queue"), Capability.PUBLISH_POSTS),
    ("bulk_import", _("Bulk import"), Capability.PUBLISH_POSTS),
    ("on_time", _("On-time record"), Capability.VIEW_WORKSPACE),
    ("links", _("Links"), Capability.VIEW_WORKSPACE),
    ("goals", _("Goals"), Capability.VIEW_WORKSPACE),
    ("analytics", _("Analytics"), Capability.VIEW_WORKSPACE),
    ("approvals", _("Approvals"), Capability.CREATE_POSTS),
    ("listening", _("Listening"), Capability.VIEW_WORKSPACE),
    ("social_accounts", _("Social accounts"), Capability.VIEW_WORKSPACE),
    ("members", _("Members & teams"), Capability.VIEW_WORKSPACE),
    ("policies", _("Policies"), Capability.VIEW_WORKSPACE),
    ("audit_log", _("Audit log"), Capability.VIEW_AUDIT_LOG),
    ("workspace_settings", _("Workspace"), Capability.MANAGE_WORKSPACE),
]


def navigation(request):
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    items = [
        {
            "url": reverse(name),
            "label": label,
            "active": request.resolver_match and request.resolver_match.url_name == name,
        }
        for name, label, capability in NAVIGATION
        if role_can(membership.role, capability)
    ]
    return {
        "nav_items": items,
        "current_membership": membership,
        "all_memberships": getattr(request, "memberships", []),
    }
