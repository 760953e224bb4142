"""Connected social accounts, their encrypted credentials and their health."""

from __future__ import annotations

import json

from django.db import models
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
    allowed_members = models.ManyToManyField(Membership, blank=True, related_name="usable_accounts")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "remote_id"], name="account_once_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.provider})"

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
