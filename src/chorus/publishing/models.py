"""Posts, their variants per social account, campaigns, media, queues and publish attempts.

A Post is what the author composed; a Variant is that post as it goes to one social
account, and is the unit the dispatcher claims and publishes. The database is the source
of truth: a variant's `status` and `due_at` say what must happen and when.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import User, Workspace
from chorus.networks.models import SocialAccount


class Campaign(models.Model):
    """A cross-channel push with a reason and a duration; posts belong to it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    colour = models.CharField(_("colour"), max_length=7, default="#3b5bdb")
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class MediaAsset(models.Model):
    """An uploaded image or video in the workspace's media library."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="media/%Y/%m/")
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    alt_text = models.TextField(_("alt text"), blank=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.file.name


class PostState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Post(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="posts")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    state = models.CharField(max_length=20, choices=PostState.choices, default=PostState.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)  # UTC
    via_queue = models.BooleanField(default=False)  # the time came from a queue slot
    repeat_every_days = models.PositiveIntegerField(null=True, blank=True)  # evergreen
    repeat_until = models.DateTimeField(null=True, blank=True)
    repeated_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "scheduled_at"])]

    def __str__(self) -> str:
        first = self.variants.first()
        return (first.text[:40] if first else "") or f"Post {self.pk}"


class VariantStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")
    DELETED = "deleted", _("Deleted from the network")


class Variant(models.Model):
    """The post as it goes to one social account; what the dispatcher publishes."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="variants")
    text = models.TextField(blank=True)
    thread = models.JSONField(default=list, blank=True)  # further parts: list of texts
    first_comment = models.TextField(blank=True)
    link = models.URLField(max_length=2000, blank=True)
    content_warning = models.CharField(max_length=500, blank=True)
    poll = models.JSONField(null=True, blank=True)  # {"options": [...], "expires_in": s}
    media = models.ManyToManyField(MediaAsset, through="VariantMedia", blank=True)

    status = models.CharField(
        max_length=20, choices=VariantStatus.choices, default=VariantStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)  # promised time, UTC
    due_at = models.DateTimeField(null=True, blank=True)  # next time the dispatcher acts
    lease_until = models.DateTimeField(null=True, blank=True)  # a claim is valid until then
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    parts_published = models.JSONField(default=list, blank=True)  # remote refs, in order
    remote_id = models.CharField(max_length=500, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # claim of the last attempt
    published_at = models.DateTimeField(null=True, blank=True)  # as the network confirmed
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="variant_due")]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.account}"

    def parts(self) -> list[str]:
        """Every network post this variant makes, in order: text, thread, first comment."""
        parts = [self.text, *[p for p in self.thread if p]]
        if self.first_comment:
            parts.append(self.first_comment)
        return parts


class VariantMedia(models.Model):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE)
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT)
    order = models.PositiveSmallIntegerField(default=0)
    alt_text = models.TextField(blank=True)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.asset_id} in {self.variant_id}"


class AttemptOutcome(models.TextChoices):
    STARTED = "started", _("Started")  # still running, or the worker died: outcome unknown
    PUBLISHED = "published", _("Published")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    TRANSIENT = "transient", _("Temporary failure")
    REJECTED = "rejected", _("Rejected")
    AUTH_EXPIRED = "auth_expired", _("Needs reconnect")
    HELD = "held", _("Held")


class PublishAttempt(models.Model):
    """Recorded before the network is called, so a crash leaves a visible trace."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="attempts_log")
    number = models.PositiveIntegerField()
    claimed_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED
    )
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.variant_id}: {self.outcome}"


class QueueSlot(models.Model):
    """A weekly posting time for one account, in the workspace's time zone."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    time = models.TimeField()

    class Meta:
        ordering = ["weekday", "time"]
        constraints = [
            models.UniqueConstraint(fields=["account", "weekday", "time"], name="slot_once")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.weekday} {self.time}"
