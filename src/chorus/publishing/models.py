"""Posts, their variants per social account, campaigns, media, queues and publish attempts.

A Post is what the author composed; a Variant is that post as it goes to one social
account, and is the unit the dispatcher claims and publishes. The database is the source
of truth: a variant's `status` and `due_at` say what must happen and when.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Membership, User, Workspace
from chorus.accounts.roles import Role
from chorus.networks.models import SocialAccount


class Campaign(models.Model):
    """A cross-channel push with a reason and a duration; posts belong to it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    colour = models.CharField(_("colour"), max_length=7, default="#3b5bdb")
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    # The plan (docs/links.md, "Planning a campaign"): why, for whom, what it costs.
    reason = models.TextField(_("reason"), blank=True)
    audience = models.TextField(_("audience"), blank=True)
    budget_amount = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_currency = models.CharField(_("currency"), max_length=3, blank=True)
    owner = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
    PENDING_APPROVAL = "pending_approval", _("Pending approval")  # submitted, not armed
    SCHEDULED = "scheduled", _("Scheduled")  # armed (approved, where approval is needed)
    REJECTED = "rejected", _("Rejected")  # an approver said no; the author may resubmit
    CANCELLED = "cancelled", _("Cancelled")


class ApprovalStatus(models.TextChoices):
    """The approval of the post's latest submission; "" when none was needed."""

    NOT_REQUIRED = "", _("Not needed")
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")  # not approved before its time: held, never sent


class Post(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="posts")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    state = models.CharField(max_length=20, choices=PostState.choices, default=PostState.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)  # UTC
    via_queue = models.BooleanField(default=False)  # the time came from a queue slot
    # The composer's main text (each account's variant may adapt it); the post's title.
    text = models.TextField(blank=True, default="")
    repeat_every_days = models.PositiveIntegerField(null=True, blank=True)  # evergreen
    repeat_until = models.DateTimeField(null=True, blank=True)
    repeated_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats"
    )
    # Approval of the latest submission (see chorus.publishing.approvals). `approval_plan`
    # is the workflow's steps as they were when submitted: [{"order", "role", "members"}].
    approval_status = models.CharField(
        max_length=20, choices=ApprovalStatus.choices, default="", blank=True
    )
    approval_round = models.PositiveIntegerField(default=0)  # submissions so far
    approval_step = models.PositiveSmallIntegerField(default=0)  # current step, from 1
    approval_plan = models.JSONField(default=list, blank=True)
    approval_reasons = models.JSONField(default=list, blank=True)
    approval_workflow = models.ForeignKey(
        "ApprovalWorkflow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "scheduled_at"]),
            models.Index(fields=["state", "scheduled_at"], name="post_state_due"),
            # a workspace's posts in one state (waiting for approval: the approvals page,
            # the overview), without walking every post of the workspace
            models.Index(
                fields=["workspace", "state", "scheduled_at"], name="post_workspace_state"
            ),
        ]

    def __str__(self) -> str:
        return self.main_text[:40] or f"Post {self.pk}"

    @property
    def main_text(self) -> str:
        """The composer's main text, not one account's adapted version; for posts made
        without one (API, import), the text most accounts share."""
        if self.text.strip():
            return self.text
        texts = [v.text for v in sorted(self.variants.all(), key=lambda v: v.pk)]
        return max(texts, key=texts.count) if texts else ""

    @property
    def needs_approval(self) -> bool:
        """Its latest submission needs approval and is not (or no longer) approved."""
        return self.approval_status not in (ApprovalStatus.NOT_REQUIRED, ApprovalStatus.APPROVED)


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
    # ISO 639-1 code the author chose; blank: detected from the text when it is sent
    language = models.CharField(max_length=16, blank=True)
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
    # what the network was still processing at the last try ({"part": n, "ids": [...]}:
    # uploads, Meta containers), reused by the next (publishing.sending)
    pending_media = models.JSONField(default=dict, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # claim of the last attempt
    published_at = models.DateTimeField(null=True, blank=True)  # as the network confirmed
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at", "id"], name="variant_due"),
            models.Index(  # leases of a dispatcher that died, taken over by the next claim
                fields=["lease_until"],
                condition=Q(status=VariantStatus.PUBLISHING),
                name="variant_leased",
            ),
            # an account's queue and slots, soonest first: the queue page reads the first
            # few per account and counts the rest along it, next free slot probes it
            models.Index(fields=["account", "status", "scheduled_at"], name="variant_account_due"),
            # the on-time record: what the networks confirmed in the last days
            models.Index(fields=["status", "published_at"], name="variant_published"),
        ]

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


# --------------------------------------------------------------------------- approvals


class ApprovalWorkflow(models.Model):
    """Who approves posts, in 1 to 3 ordered steps: for the workspace, one social account
    or one campaign (the most specific one that applies is used)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="approval_workflows"
    )
    name = models.CharField(_("name"), max_length=120)
    account = models.ForeignKey(
        SocialAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="approval_workflows",
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="approval_workflows",
    )
    # True: every post in its scope needs approval, editors' and admins' too. False: only
    # posts that need approval anyway (contributors, draft-only members, policies) use it.
    applies_to_all = models.BooleanField(_("every post needs approval"), default=False)
    # False (the default): nobody approves their own post, whatever their role.
    authors_approve_own = models.BooleanField(
        _("authors may approve their own posts"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=True) | models.Q(campaign__isnull=True),
                name="workflow_one_scope",
            ),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(account__isnull=True, campaign__isnull=True),
                name="one_workspace_workflow",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(account__isnull=False),
                name="one_workflow_per_account",
            ),
            models.UniqueConstraint(
                fields=["campaign"],
                condition=models.Q(campaign__isnull=False),
                name="one_workflow_per_campaign",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope(self) -> str:
        if self.account_id:
            return "account"
        return "campaign" if self.campaign_id else "workspace"


class ApprovalStep(models.Model):
    """One step: approved by any named member, or by any member with `role` or higher."""

    workflow = models.ForeignKey(ApprovalWorkflow, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()  # 1, 2, 3
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    members = models.ManyToManyField(Membership, blank=True, related_name="approval_steps")

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "order"], name="one_step_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.workflow} step {self.order}"


class ApprovalDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ReviewLink(models.Model):
    """A signed link an outside reviewer (a client) uses once to approve or reject one
    step of one submission, without an account. The token is signed, not stored."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="review_links")
    round = models.PositiveIntegerField()
    step = models.PositiveSmallIntegerField()
    reviewer = models.CharField(_("reviewer"), max_length=200, blank=True)  # name or email
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"review link {self.pk} for post {self.post_id} step {self.step}"


class PostApproval(models.Model):
    """One approval act: a step approved or the submission rejected, by whom, and why."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approvals")
    round = models.PositiveIntegerField()
    step = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=20, choices=ApprovalDecision.choices)
    membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewer = models.CharField(max_length=254, blank=True)  # email, or the outside reviewer
    review_link = models.ForeignKey(
        ReviewLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    edited = models.BooleanField(default=False)  # the approver changed the post, then approved
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.decision} step {self.step} of post {self.post_id}"


class LinkPreview(models.Model):
    """A page's link card (its OpenGraph / Twitter-card meta), read once and kept
    (`publishing.previews`); `error` says why a page gave no card."""

    url = models.URLField(max_length=2000, unique=True)
    title = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    site_name = models.CharField(max_length=200, blank=True)
    fetched_at = models.DateTimeField()
    error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.url

    @property
    def has_card(self) -> bool:
        return not self.error and bool(self.title or self.description or self.image_url)


class RemoteImage(models.Model):
    """An avatar or link-card image from a network's or a page's server, fetched once,
    decoded and written again as a small JPEG or PNG, and served from Chorus's own origin
    (`publishing.previews`; the pages' Content-Security-Policy allows no other)."""

    url = models.URLField(max_length=2000, unique=True)
    content_type = models.CharField(max_length=20, blank=True)
    data = models.BinaryField(blank=True, default=b"")
    fetched_at = models.DateTimeField()
    error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.url
