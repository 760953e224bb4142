"""Collected figures: each post's and account's counts as time series, plus daily rollups.

Raw snapshots keep every reading as the network gave it (a count that goes down, after an
unlike, is stored as is). Dashboards read the daily rollups: what each post gained on each
day (`PostDaily`) and each account's follower counts per day (`AccountDaily`), both in the
main database (see docs/decisions.md, "Analytics storage").
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chorus.networks.models import SocialAccount
from chorus.publishing.models import Variant

# The engagement counts every network reports; impressions are kept apart because most
# networks (Bluesky, Mastodon) do not report them: None there means "not reported".
COUNTS = ("likes", "reposts", "replies", "quotes")


class TrackedPost(models.Model):
    """A post on the network whose figures Chorus collects on a decaying schedule.

    Made with Chorus (`variant` set) or, where a network lists an account's own posts,
    found by the backfill (`variant` empty). The latest lifetime counts are copied here so
    top and bottom lists need no join to the snapshots.
    """

    account = models.ForeignKey(
        SocialAccount, on_delete=models.CASCADE, related_name="tracked_posts"
    )
    variant = models.OneToOneField(
        Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="tracked"
    )
    remote_id = models.CharField(max_length=500)
    url = models.URLField(max_length=1000, blank=True)
    text = models.TextField(blank=True)  # for posts not made with Chorus
    published_at = models.DateTimeField()
    next_collect_at = models.DateTimeField(null=True, blank=True)  # None: no more (deleted)
    collections = models.PositiveIntegerField(default=0)  # successful readings so far
    last_collected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # gone from the network
    missing_readings = models.PositiveSmallIntegerField(default=0)  # absent, in a row
    likes = models.IntegerField(default=0)
    reposts = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)
    impressions = models.IntegerField(null=True, blank=True)  # None: not reported

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "remote_id"], name="tracked_post_once")
        ]
        indexes = [
            models.Index(
                fields=["next_collect_at"],
                condition=Q(next_collect_at__isnull=False),
                name="tracked_post_due",
            ),
            models.Index(fields=["account", "published_at"], name="tracked_post_published"),
            # Top and bottom posts: walked in engagement order until enough of the period's.
            models.Index(
                F("likes") + F("reposts") + F("replies") + F("quotes"),
                name="tracked_post_engagements",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.remote_id}"

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


class PostSnapshot(models.Model):
    """One reading of one post's counts, exactly as the network reported them."""

    post = models.ForeignKey(TrackedPost, on_delete=models.CASCADE, related_name="snapshots")
    collected_at = models.DateTimeField()
    likes = models.IntegerField(default=0)
    reposts = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)
    impressions = models.IntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)  # network-specific (bookmarks...)

    class Meta:
        ordering = ["collected_at"]
        indexes = [models.Index(fields=["post", "collected_at"], name="snapshot_post_time")]

    def __str__(self) -> str:
        return f"{self.post_id} at {self.collected_at:%Y-%m-%d %H:%M}"


class PostDaily(models.Model):
    """What one post gained on one day (the workspace's calendar day of the readings).

    Period figures sum these gains: activity during the period, whatever the post's date.
    A gain is negative when counts went down (unlikes).
    """

    post = models.ForeignKey(TrackedPost, on_delete=models.CASCADE, related_name="daily")
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    likes = models.IntegerField(default=0)
    reposts = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)
    impressions = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "day"], name="post_daily_once")]
        indexes = [models.Index(fields=["account", "day"], name="post_daily_account_day")]

    def __str__(self) -> str:
        return f"{self.post_id} on {self.day}"


class AccountDayTotal(models.Model):
    """What all of one account's posts gained on one day: the sums of its `PostDaily` rows
    (one row exactly when the account has `PostDaily` rows that day). Figures without post
    filters read these (accounts × days rows) instead of the posts' rows; kept by delta
    updates in the transaction that writes `PostDaily` (`rollups`, docs/decisions.md)."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    likes = models.IntegerField(default=0)
    reposts = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)
    impressions = models.IntegerField(null=True, blank=True)  # None: no post reported any

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_day_total_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.day}"


HOUR_COUNTS = ("posts", "engagements", "read_posts", "read_engagements")


class PublishedCounts(models.Model):
    """What the hour rollups count of the posts an account published in their span: how
    many, how many read at least once, and their lifetime engagements (all of them, and
    those of the read ones), in HOUR_COUNTS order."""

    posts = models.IntegerField(default=0)
    engagements = models.IntegerField(default=0)
    read_posts = models.IntegerField(default=0)
    read_engagements = models.IntegerField(default=0)

    class Meta:
        abstract = True


class AccountHourPosts(PublishedCounts):
    """One account's tracked posts published within one UTC hour (`hour`, its start): how
    many, how many read at least once, and their lifetime engagements (all of them, and
    those of the read ones). The weekday-by-hour grids fold these into local weekdays and
    hours instead of placing every post (`grids.weekday_hour_rolled`)."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()

    class Meta(PublishedCounts.Meta):
        constraints = [
            models.UniqueConstraint(fields=["account", "hour"], name="account_hour_posts_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} at {self.hour:%Y-%m-%d %H:00}"


class AccountMonthHourPosts(PublishedCounts):
    """`AccountHourPosts` summed per UTC month and UTC weekday-hour: at most 168 rows per
    account and month, where a year holds 8,760 hours. A month the workspace's zone keeps
    one offset through folds into local weekdays and hours by that shift alone; the grids
    read these for the whole months of a period and the hourly rows for the rest
    (`grids.weekday_hour_rolled`)."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the UTC month
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday, in UTC
    hour = models.PositiveSmallIntegerField()  # in UTC

    class Meta(PublishedCounts.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["account", "month", "weekday", "hour"], name="account_month_hour_once"
            )
        ]
        # A period's months read in (month, weekday, hour) order from the index alone: no
        # table rows, no sort for the grouping (SQLite: 51 → 17 ms for a year of 50 accounts).
        indexes = [
            models.Index(
                fields=["month", "weekday", "hour", "account", *HOUR_COUNTS],
                name="account_month_hour_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.month:%Y-%m}, weekday {self.weekday} {self.hour}:00"


class AccountLanguage(models.Model):
    """A language some of one account's tracked posts made with Chorus are written in (their
    variants' language): the dashboards' language filter lists these rather than scan the
    tracked posts on every page. Added when a post is tracked; `rollups.rebuild` recomputes
    them (a language whose posts are all gone stays listed until then)."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "language"], name="account_language_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.language}"


class AccountDaily(models.Model):
    """One account's counts on one day (the latest reading of that day)."""

    account = models.ForeignKey(
        SocialAccount, on_delete=models.CASCADE, related_name="daily_metrics"
    )
    day = models.DateField()
    followers = models.IntegerField()
    following = models.IntegerField()
    posts = models.IntegerField()
    collected_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_daily_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.day}"


class AccountCollection(models.Model):
    """Where collection stands for one account: next reading, backfill, last error."""

    account = models.OneToOneField(
        SocialAccount, on_delete=models.CASCADE, related_name="analytics_collection"
    )
    next_collect_at = models.DateTimeField(null=True, blank=True)
    backfilled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"collection of {self.account_id}"


class ReportPeriod(models.TextChoices):
    LAST_7 = "last_7", _("Last 7 days")
    LAST_28 = "last_28", _("Last 28 days")
    LAST_90 = "last_90", _("Last 90 days")
    LAST_MONTH = "last_month", _("Last calendar month")


class Report(models.Model):
    """A saved report: which sections (figures of the registry and dashboard charts), over
    which rolling period, for which accounts (none chosen: every account the reader may
    see) and campaign. Its numbers are never stored; each view reads them afresh."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="reports"
    )
    name = models.CharField(max_length=120)
    sections = models.JSONField(default=list)
    period = models.CharField(
        max_length=16, choices=ReportPeriod.choices, default=ReportPeriod.LAST_28
    )
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="+")
    campaign = models.ForeignKey(
        "publishing.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name


class ScheduleFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ReportSchedule(models.Model):
    """E-mail a report as PDF every week (on `weekday`) or month (on `day_of_month`) at a
    local time of the workspace, to members (each in their language, with their own
    analytics access) and outside addresses (as the schedule's author sees it)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="schedules")
    frequency = models.CharField(max_length=8, choices=ScheduleFrequency.choices)
    weekday = models.PositiveSmallIntegerField(default=0)  # 0 = Monday
    day_of_month = models.PositiveSmallIntegerField(default=1)  # 1..28
    local_time = models.TimeField()
    members = models.ManyToManyField("accounts.Membership", blank=True, related_name="+")
    outside_emails = models.JSONField(default=list, blank=True)
    next_run_at = models.DateTimeField(db_index=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.report} ({self.frequency})"


class ReportShareLink(models.Model):
    """A read-only link to a report for people without an account, until `expires_at` or
    until revoked. It shows what its author may read, as of each visit."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.report} until {self.expires_at:%Y-%m-%d}"


class Competitor(models.Model):
    """Someone else's public account on a network that shows them to anyone (Bluesky,
    Mastodon), followed by the workspace to compare with its own accounts. Read daily
    without credentials; `gone_at` is set when the network says the account is no more."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="competitors"
    )
    provider = models.CharField(max_length=32)
    address = models.CharField(max_length=500)  # how the provider finds it again
    remote_id = models.CharField(max_length=500)
    handle = models.CharField(max_length=500)
    reader_url = models.URLField(max_length=500)  # where its public reads go
    display_name = models.CharField(max_length=300, blank=True)
    profile_url = models.URLField(max_length=1000, blank=True)
    added_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    next_collect_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_collected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("handle", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "remote_id"], name="competitor_once"
            )
        ]

    def __str__(self) -> str:
        return self.handle

    @property
    def label(self) -> str:
        return self.display_name or self.handle


class CompetitorDaily(models.Model):
    """A competitor's public counts on one day (the latest reading of that day)."""

    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    followers = models.IntegerField()
    following = models.IntegerField()
    posts = models.IntegerField()
    collected_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["competitor", "day"], name="competitor_daily_once")
        ]

    def __str__(self) -> str:
        return f"{self.competitor_id} on {self.day}"


class CompetitorPost(models.Model):
    """One of a competitor's own recent posts with its latest public counts."""

    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="posts")
    remote_id = models.CharField(max_length=500)
    url = models.URLField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    published_at = models.DateTimeField()
    collected_at = models.DateTimeField()
    likes = models.IntegerField(default=0)
    reposts = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["competitor", "remote_id"], name="competitor_post_once")
        ]
        indexes = [
            models.Index(fields=["competitor", "published_at"], name="competitor_post_published")
        ]

    def __str__(self) -> str:
        return f"{self.competitor_id}:{self.remote_id}"

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes
