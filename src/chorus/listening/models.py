"""Listening topics and queries, the posts they matched, and the sources that feed them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Workspace

DEFAULT_RETENTION_DAYS = 90


class TopicKind(models.TextChoices):
    BRAND = "brand", _("Our brand")
    COMPETITORS = "competitors", _("Competitors")
    CAMPAIGN = "campaign", _("Campaign")
    CRISIS = "crisis", _("Crisis watch")
    OTHER = "other", _("Other")


class QueryRole(models.TextChoices):
    """What a query stands for inside its topic; share of voice compares brand with rivals."""

    BRAND = "brand", _("Our brand")
    COMPETITOR = "competitor", _("Competitor")
    CAMPAIGN = "campaign", _("Campaign hashtag")
    CRISIS = "crisis", _("Crisis terms")
    OTHER = "other", _("Other")


class Topic(models.Model):
    """A group of queries a team watches together: the brand and its rivals, a campaign…"""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="listening_topics"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=TopicKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="listening_topic_name")
        ]

    def __str__(self) -> str:
        return self.name


class Query(models.Model):
    """One boolean query (see chorus.listening.query), checked when saved."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="queries")
    name = models.CharField(_("label"), max_length=120)
    role = models.CharField(
        _("stands for"), max_length=20, choices=QueryRole.choices, default=QueryRole.BRAND
    )
    text = models.TextField(_("query"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "queries"

    def __str__(self) -> str:
        return self.name


class Mention(models.Model):
    """A public post that matched at least one query of the workspace, stored once per
    workspace whatever the number of queries it matched (no double count)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="listening_mentions"
    )
    network = models.CharField(max_length=20)
    uri = models.CharField(max_length=500)
    url = models.URLField(max_length=500, blank=True)
    author = models.CharField(max_length=255)
    author_followers = models.PositiveBigIntegerField(null=True, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    sentiment = models.CharField(max_length=10, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    has_media = models.BooleanField(default=False)
    posted_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    queries = models.ManyToManyField(Query, related_name="mentions")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "uri"], name="listening_mention_once"
            )
        ]
        indexes = [models.Index(fields=["workspace", "posted_at"], name="listening_mention_time")]

    def __str__(self) -> str:
        return f"{self.network} {self.uri}"

    @property
    def reach(self) -> int | None:
        """The author's followers where the network told us; None when unknown."""
        return self.author_followers


class Settings(models.Model):
    """Per-workspace listening settings: how long matched posts are kept."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="listening_settings"
    )
    retention_days = models.PositiveIntegerField(_("keep matched posts for (days)"))

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.retention_days} days"


class SamplePost(models.Model):
    """The newest posts seen on the sources (a bounded window), so a query being typed can be
    previewed against real recent posts before it is saved."""

    network = models.CharField(max_length=20)
    uri = models.CharField(max_length=500)
    author = models.CharField(max_length=255)
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    mentions = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    has_media = models.BooleanField(default=False)
    posted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.network} {self.uri}"


class SourceState(models.TextChoices):
    CONNECTING = "connecting", _("Connecting")
    CONNECTED = "connected", _("Connected")
    RETRYING = "retrying", _("Reconnecting")
    STOPPED = "stopped", _("Stopped")


class Source(models.Model):
    """One stream a consumer reads (a Bluesky firehose or Jetstream, a Mastodon server's
    public or hashtag stream), its resume cursor and its health, shown on the listening
    page."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30)
    url = models.CharField(max_length=500)
    cursor = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=SourceState.choices, default=SourceState.CONNECTING
    )
    last_error = models.TextField(blank=True)
    malformed_frames = models.PositiveBigIntegerField(default=0)
    posts_seen = models.PositiveBigIntegerField(default=0)
    reconnects = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Health of the last batch: events a second while it gathered, and how old its newest
    # post was when stored (a source falling behind, or replaying after a reconnection).
    events_per_second = models.FloatField(null=True, blank=True)
    lag_seconds = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class AlertKind(models.TextChoices):
    VOLUME = "volume", _("Volume spike")
    NEGATIVE_SHARE = "negative_share", _("Negative share spike")


class AlertRule(models.Model):
    """When to tell people that a topic (or one of its queries) is louder, or more negative,
    than usual; see chorus.listening.alerts for the rule it applies."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="alert_rules")
    query = models.ForeignKey(
        Query, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_rules"
    )
    kind = models.CharField(_("watch"), max_length=20, choices=AlertKind.choices)
    sensitivity = models.FloatField(_("sensitivity (deviations above normal)"), default=4.0)
    min_count = models.PositiveIntegerField(_("minimum posts in the window"), default=10)
    window_minutes = models.PositiveIntegerField(_("window (minutes)"), default=5)
    cooldown_minutes = models.PositiveIntegerField(
        _("quiet time after an alert (minutes)"), default=60
    )
    notify_members = models.BooleanField(_("tell every member in the app"), default=True)
    email_members = models.ManyToManyField(
        "accounts.Membership", blank=True, related_name="+", verbose_name=_("e-mail to")
    )
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.topic_id} {self.kind}"


class Alert(models.Model):
    """One firing of a rule: the window, what was counted, what was normal, and what each
    delivery channel answered."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="alerts")
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="listening_alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    observed = models.FloatField()
    baseline = models.FloatField()
    threshold = models.FloatField()
    posts = models.PositiveIntegerField()
    deliveries = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"], name="listening_alert_time")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.window_end}"

    @property
    def link(self) -> str:
        """The topic page filtered to the posts of the window that caused the alert."""
        from urllib.parse import urlencode

        from django.urls import reverse

        query = {"since": self.window_start.isoformat(), "until": self.window_end.isoformat()}
        if self.rule.query_id:
            query["query"] = str(self.rule.query_id)
        return f"{reverse('listening_topic', args=[self.topic_id])}?{urlencode(query)}"


class Board(models.Model):
    """A workspace's named collection of mentions members saved ("Praise to share",
    "Crisis evidence"); a saved mention outlives the retention period and its queries."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="listening_boards"
    )
    name = models.CharField(_("name"), max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="listening_board_name")
        ]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    """One mention saved to one board (once), with the saver's note."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="board_items")
    note = models.TextField(_("note"), blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "mention"], name="listening_board_item_once")
        ]
        indexes = [models.Index(fields=["board", "-saved_at", "-id"], name="listening_board_saved")]

    def __str__(self) -> str:
        return f"{self.board_id} {self.mention_id}"
