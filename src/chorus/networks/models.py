"""Connected social accounts, their encrypted credentials and their health."""

from __future__ import annotations

import json

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Membership, User, Workspace
from chorus.core import crypto


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Working")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
    DISCONNECTED = "disconnected", _("Disconnected")


class SocialAccount(models.Model):
    """One account on one network that a workspace publishes as and listens to."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="social_accounts"
    )
    provider = models.CharField(max_length=32)
    remote_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    profile_url = models.URLField(max_length=1000, blank=True)
    identity = models.JSONField(default=dict)  # server URL, DID, ... (not secret)
    server = models.CharField(max_length=255, blank=True)  # host its API calls go to
    # Connected on the sandbox network (settings.CHORUS_SANDBOX_URL): practice, not public
    sandbox = models.BooleanField(default=False)
    secrets_encrypted = models.TextField(blank=True)  # Fernet token of a JSON object
    status = models.CharField(
        max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    connected_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    connected_at = models.DateTimeField(auto_now_add=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    rate_limit = models.PositiveIntegerField(null=True, blank=True)
    rate_remaining = models.PositiveIntegerField(null=True, blank=True)
    rate_reset_at = models.DateTimeField(null=True, blank=True)
    allowed_members = models.ManyToManyField(
        Membership, blank=True, related_name="usable_accounts", through="AccountGrant"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "remote_id"], name="account_once_per_workspace"
            )
        ]
        indexes = [  # the dispatcher skips accounts waiting out their or their server's budget
            models.Index(
                fields=["rate_reset_at"], condition=Q(rate_remaining=0), name="account_rate_paused"
            ),
            models.Index(fields=["provider", "server"], name="account_server"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.provider})"

    def save(self, *args, **kwargs) -> None:
        """Keep `server` in step with the identity it comes from."""
        from chorus.networks.providers import get_provider

        update_fields = kwargs.get("update_fields")
        if update_fields is None or "identity" in update_fields:
            self.server = get_provider(self.provider).server_of(self.identity)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "server"}
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """The handle as lists show it, marked when the account is on the sandbox network."""
        if self.sandbox:
            return gettext("%(handle)s (sandbox)") % {"handle": self.handle}
        return self.handle

    @property
    def is_healthy(self) -> bool:
        """Connected, and the latest call to the network succeeded."""
        if self.status != AccountStatus.ACTIVE:
            return False
        return self.last_error_at is None or bool(
            self.last_ok_at and self.last_ok_at >= self.last_error_at
        )

    @property
    def secrets(self) -> dict[str, str]:
        return json.loads(crypto.decrypt(self.secrets_encrypted)) if self.secrets_encrypted else {}

    @secrets.setter
    def secrets(self, value: dict[str, str]) -> None:
        self.secrets_encrypted = crypto.encrypt(json.dumps(value)) if value else ""


class AccessLevel(models.TextChoices):
    """What a member may do with one social account (admins and owners: everything)."""

    PUBLISH = "publish", _("Publish")  # schedule and publish directly
    DRAFT = "draft", _("Draft")  # write and schedule, but every post needs approval
    REPLY = "reply", _("Reply")  # answer in the inbox
    ANALYTICS = "analytics", _("Analytics")  # see the account's analytics


POSTING_LEVELS = (AccessLevel.PUBLISH, AccessLevel.DRAFT)


class PostingGrants(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(models.Q(publish=True) | models.Q(draft=True))


class AccountGrant(models.Model):
    """One member's levels on one social account (the `allowed_members` relation).

    `objects` lists only grants that allow posting (draft or publish): the dispatcher reads
    `SocialAccount.allowed_members.through.objects` to check, at send time, that an author
    may still post as the account, so a member left with only reply or analytics is
    refused there. `every` (the default manager, used by the relation itself) lists all.
    """

    socialaccount = models.ForeignKey(
        SocialAccount, on_delete=models.CASCADE, related_name="grants"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="account_grants"
    )
    publish = models.BooleanField(_("publish"), default=False)
    draft = models.BooleanField(_("draft"), default=False)
    reply = models.BooleanField(_("reply"), default=False)
    analytics = models.BooleanField(_("analytics"), default=False)

    every = models.Manager()
    objects = PostingGrants()

    class Meta:
        db_table = "networks_socialaccount_allowed_members"  # the former plain M2M table
        unique_together = [("socialaccount", "membership")]
        default_manager_name = "every"

    def __str__(self) -> str:
        return f"{self.membership_id} on {self.socialaccount_id}: {self.levels}"

    @property
    def levels(self) -> set[str]:
        return {level.value for level in AccessLevel if getattr(self, level.value)}


class OAuthClient(models.Model):
    """Chorus registered as an app on one server (Mastodon: one per instance)."""

    provider = models.CharField(max_length=32)
    server_url = models.URLField(max_length=500)
    redirect_uri = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    client_secret_encrypted = models.TextField()
    scopes = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "server_url", "redirect_uri"], name="one_client_per_server"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} client on {self.server_url}"

    @property
    def client_secret(self) -> str:
        return crypto.decrypt(self.client_secret_encrypted)

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_encrypted = crypto.encrypt(value)


class ServerBudget(models.Model):
    """Requests the dispatchers have spent on one server in its current window.

    A network's per-IP quota (a Bluesky PDS allows 3,000 requests per 5 minutes) is shared
    by every account hosted on that server, so it is kept here, where every dispatcher on
    every machine sees it; see `chorus.networks.budgets`.
    """

    provider = models.CharField(max_length=32)
    server = models.CharField(max_length=255)
    limit = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "server"], name="one_budget_per_server")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.server}: {self.used}/{self.limit}"


class ServerLimits(models.Model):
    """One server's own limits, as it publishes them (a Mastodon server's instance
    configuration: characters per post, media, polls). The composer validates against
    these; see `chorus.networks.selectors.account_limits`. Refreshed periodically."""

    provider = models.CharField(max_length=32)
    server = models.CharField(max_length=255)
    values = models.JSONField(default=dict)  # Limits.SERVER_FIELDS the server set
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "server"], name="one_limits_per_server")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.server} limits"
