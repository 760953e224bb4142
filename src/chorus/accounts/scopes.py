"""Scopes a personal API token can carry; every API endpoint names the one it needs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    WORKSPACE_READ = "workspace:read", _("Read the workspace, its members and teams")
    MEMBERS_WRITE = "members:write", _("Invite members, change roles, manage teams")
    TOKENS_WRITE = "tokens:write", _("Create and revoke API tokens")
    ACCOUNTS_READ = "accounts:read", _("See connected social accounts and their health")
    ACCOUNTS_WRITE = "accounts:write", _("Connect and disconnect social accounts")
    AUDIT_READ = "audit:read", _("Read and export the audit log (admins)")
    POLICIES_WRITE = "policies:write", _("Create, change and delete compliance policies")
    POSTS_READ = "posts:read", _("Read posts, the calendar and publishing results")
    POSTS_WRITE = "posts:write", _("Write, schedule and publish posts")
    APPROVALS_WRITE = "approvals:write", _("Approve and reject posts, send review links")
    WORKFLOWS_WRITE = "workflows:write", _("Create, change and delete approval workflows")
    LISTENING_READ = "listening:read", _("Read listening topics, matched posts and analysis")
    LISTENING_WRITE = "listening:write", _("Create and change listening topics and queries")
    LINKS_READ = "links:read", _("Read short links, clicks, conversions and goals")
    LINKS_WRITE = "links:write", _("Turn short links off and on, set goals")
    CONVERSIONS_WRITE = "conversions:write", _("Report conversions from your site's server")
    ANALYTICS_READ = "analytics:read", _("Read analytics of the accounts you have analytics on")
    ANALYTICS_WRITE = "analytics:write", _("Add and remove the competitors analytics compares")
    INBOX_READ = "inbox:read", _("Read inbox conversations, contacts and response figures")
    INBOX_WRITE = "inbox:write", _("Reply, assign, tag and close inbox conversations")
