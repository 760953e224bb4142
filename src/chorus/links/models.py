"""Short links, the clicks on them, conversions on the brand's site, and goals.

A ShortLink keeps its own copy of what it points at and where it was posted (network,
account, campaign, post), so it keeps working and keeps its attribution when the post is
deleted. Clicks carry no personal data beyond the workspace's privacy setting.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Membership, Workspace
from chorus.networks.models import SocialAccount
from chorus.publishing.models import Campaign, Post, Variant


def new_site_key() -> str:
    return "site_" + secrets.token_urlsafe(18)


class LinkSettings(models.Model):
    """One workspace's link tracking: UTM defaults, privacy, attribution window."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="link_settings"
    )
    track_links = models.BooleanField(_("shorten and tag links in posts"), default=False)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, default="social")
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=7)
    store_ip = models.BooleanField(
        _("store the visitor's IP address with each click"), default=False
    )
    short_domain = models.CharField(_("custom short domain"), max_length=253, blank=True)
    # Identifies the workspace to the site snippet; it can only record conversions.
    site_key = models.CharField(max_length=40, unique=True, default=new_site_key)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"link settings of {self.workspace_id}"


class CampaignLinks(models.Model):
    """A campaign's own UTM defaults (blank: the workspace's, and the campaign's slug)."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="link_defaults"
    )
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)

    def __str__(self) -> str:
        return f"link defaults of campaign {self.campaign_id}"


class PostLinks(models.Model):
    """What the composer's UTM builder chose for one post (blank: the defaults)."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="link_options")
    track = models.BooleanField(default=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"link options of post {self.post_id}"


class ShortLink(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="short_links")
    code = models.CharField(max_length=16, unique=True)
    target = models.URLField(max_length=2000)  # with its UTM parameters
    original_url = models.URLField(max_length=2000)  # as the author wrote it
    utm = models.JSONField(default=dict, blank=True)
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="short_links"
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="short_links"
    )
    account = models.ForeignKey(
        SocialAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="short_links"
    )
    network = models.CharField(max_length=40, blank=True)
    post_label = models.CharField(max_length=120, blank=True)  # kept after the post is gone
    disabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "original_url"],
                condition=Q(variant__isnull=False),
                name="one_short_link_per_variant_url",
            )
        ]

    def __str__(self) -> str:
        return f"/l/{self.code}"


class Click(models.Model):
    """A person (not a bot or a card preview) followed a short link."""

    link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="clicks")
    token = models.CharField(max_length=32, unique=True)  # the click id carried to the site
    at = models.DateTimeField()
    referrer = models.CharField(max_length=253, blank=True)  # host only
    device = models.CharField(max_length=10, blank=True)  # mobile, tablet, desktop, other
    ip = models.GenericIPAddressField(null=True, blank=True)  # only if the workspace allows

    class Meta:
        indexes = [
            models.Index(fields=["link", "at"]),
            # Clicks of a period across a workspace's links (goals, figures, customer value).
            models.Index(fields=["at"], name="links_click_at"),
        ]

    def __str__(self) -> str:
        return f"click {self.token}"


class ConversionSource(models.TextChoices):
    API = "api", _("Server (API)")
    SNIPPET = "snippet", _("Site snippet")


class Conversion(models.Model):
    """A sale or sign-up on the brand's site, attributed to the last click in the window,
    or kept unattributed (counted apart) with the reason."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversions")
    order_id = models.CharField(max_length=200, blank=True)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=ConversionSource.choices)
    click_token = models.CharField(max_length=32, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    click = models.ForeignKey(
        Click, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    link = models.ForeignKey(
        ShortLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    account = models.ForeignKey(
        SocialAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    network = models.CharField(max_length=40, blank=True)
    unattributed_reason = models.CharField(max_length=30, blank=True)  # "" when attributed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "order_id"],
                condition=~Q(order_id=""),
                name="conversion_once_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"conversion {self.order_id or self.pk}"

    @property
    def attributed(self) -> bool:
        return self.link_id is not None


class BaselineMode(models.TextChoices):
    PRIOR = "prior", _("The prior period of the same length")
    ENTERED = "entered", _("A number I enter")


class TargetKind(models.TextChoices):
    ABSOLUTE = "absolute", _("A number")
    PERCENT = "percent", _("A rise over the baseline (%)")


class Goal(models.Model):
    """A target for one metric by a deadline, for the workspace or one campaign."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="goals")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="goals"
    )
    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(_("metric"), max_length=40)
    starts_on = models.DateField(_("starts"))
    deadline = models.DateField(_("deadline"))
    baseline_mode = models.CharField(
        _("baseline"), max_length=10, choices=BaselineMode.choices, default=BaselineMode.PRIOR
    )
    baseline = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    target_kind = models.CharField(
        _("target"), max_length=10, choices=TargetKind.choices, default=TargetKind.ABSOLUTE
    )
    target_input = models.DecimalField(_("target value"), max_digits=14, decimal_places=2)
    target = models.DecimalField(max_digits=14, decimal_places=2)  # the absolute figure
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The status the periodic check last saw, so an at-risk goal notifies once per change.
    last_status = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
