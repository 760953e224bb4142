"""The audit log (append-only, hash-chained), compliance policies and sign-in records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Workspace

GENESIS_HASH = "0" * 64
GLOBAL_CHAIN = "global"


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    LOGOUT = "logout", _("Signed out")
    ROLE_CHANGED = "role_changed", _("Role changed")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    INVITATION_SENT = "invitation_sent", _("Invitation sent")
    INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
    INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
    TEAM_CHANGED = "team_changed", _("Team changed")
    ACCOUNT_CONNECTED = "account_connected", _("Social account connected")
    ACCOUNT_DISCONNECTED = "account_disconnected", _("Social account disconnected")
    ACCOUNT_ACCESS_CHANGED = "account_access_changed", _("Social account access changed")
    API_TOKEN_CREATED = "api_token_created", _("API token created")
    API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")
    POLICY_CHANGED = "policy_changed", _("Compliance policy changed")
    WORKSPACE_CHANGED = "workspace_changed", _("Workspace changed")
    # Reserved for publishing and the inbox, which record them through `audit_record`.
    POST_CREATED = "post_created", _("Post created")
    POST_EDITED = "post_edited", _("Post edited")
    POST_APPROVED = "post_approved", _("Post approved")
    POST_REJECTED = "post_rejected", _("Post rejected")
    POST_PUBLISHED = "post_published", _("Post published")
    POST_DELETED = "post_deleted", _("Post deleted")
    REPLY_SENT = "reply_sent", _("Reply sent")
    POST_SUBMITTED = "post_submitted", _("Post submitted for approval")
    REVIEW_LINK_CREATED = "review_link_created", _("Review link created")
    WORKFLOW_CHANGED = "workflow_changed", _("Approval workflow changed")
    CONVERSATION_ASSIGNED = "conversation_assigned", _("Conversation assigned")
    INBOX_RULE_CHANGED = "inbox_rule_changed", _("Inbox rule or setting changed")
    REPORT_CHANGED = "report_changed", _("Analytics report, schedule or share link changed")


class AppendOnlyQuerySet(models.QuerySet):
    """Audit rows are written once: bulk updates and deletes are refused too."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit entries cannot be updated")

    def delete(self):
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")


class AuditLogIsAppendOnly(Exception):
    pass


class AuditChain(models.Model):
    """The head of one hash chain (one per workspace, plus `global` for sign-in events).

    Appending locks this row (SELECT … FOR UPDATE), so two writers can never both extend
    the same entry and fork the chain. `length` and `head_hash` also let verification notice
    entries cut off the end of a chain.
    """

    key = models.CharField(max_length=40, unique=True)
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.key} ({self.length})"


class AuditEntry(models.Model):
    """Who did what, to what, from where; never updated or deleted through the ORM.

    The workspace and actor are plain references (no database constraint, no cascade): the
    record outlives them, and `actor_email` keeps who it was.
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_one_entry_per_link")
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["action", "-created_at"]),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email or '—'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")


# --------------------------------------------------------------------------- policies


class PolicyKind(models.TextChoices):
    BANNED_TERMS = "banned_terms", _("Banned terms and phrases")
    DISCLAIMER = "disclaimer", _("Required disclaimer")
    LINK_ALLOW = "link_allow", _("Links only to these domains")
    LINK_DENY = "link_deny", _("No links to these domains")


class PolicyAction(models.TextChoices):
    BLOCK = "block", _("Block the post")
    REQUIRE_APPROVAL = "require_approval", _("Require approval")


class Policy(models.Model):
    """One compliance rule of a workspace, for all its social accounts or the chosen ones."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=PolicyKind.choices)
    action = models.CharField(
        _("when it matches"),
        max_length=20,
        choices=PolicyAction.choices,
        default=PolicyAction.BLOCK,
    )
    terms = models.JSONField(_("terms"), default=list, blank=True)
    patterns = models.JSONField(_("patterns"), default=list, blank=True)
    disclaimer = models.TextField(_("disclaimer"), blank=True)
    domains = models.JSONField(_("domains"), default=list, blank=True)
    accounts = models.ManyToManyField("networks.SocialAccount", blank=True, related_name="policies")
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- sign-in safety


class LoginFailure(models.Model):
    """One failed password sign-in; counted per email and per address over a window."""

    email = models.CharField(max_length=254, db_index=False)
    ip_address = models.CharField(max_length=45, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["email", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.email} from {self.ip_address or '?'}"


class UserSession(models.Model):
    """Which session belongs to whom, so a removed or deactivated person can be signed out."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracked_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.session_key[:6]}…"
