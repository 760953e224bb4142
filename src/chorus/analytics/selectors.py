"""Reads for analytics: which accounts a member may see, and the scope a figure runs on.

A member sees analytics for the accounts they hold the `analytics` level on (owners and
admins: every account of the workspace, connected or not, so history outlives a
disconnection). Every page, API call and report builds one `Scope` through `access_scope`
and hands it to the figures in `chorus.analytics.figures`.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.analytics.grids import Cell, posts_rolled, weekday_hour_rolled
from chorus.analytics.models import (
    COUNTS,
    AccountDaily,
    AccountDayTotal,
    AccountLanguage,
    PostDaily,
    TrackedPost,
)
from chorus.core.errors import NotAllowed, NotFound, ServiceError
from chorus.networks.models import AccountGrant, SocialAccount
from chorus.publishing.models import Campaign

DEFAULT_DAYS = 28
MAX_DAYS = 731  # two years


def analytics_accounts(membership: Membership) -> QuerySet[SocialAccount]:
    """Accounts whose analytics the member may see (admins and owners: all)."""
    accounts = SocialAccount.objects.filter(workspace=membership.workspace).order_by(
        "provider", "handle"
    )
    if role_can(membership.role, Capability.MANAGE_ACCOUNTS):
        return accounts
    return accounts.filter(
        pk__in=AccountGrant.every.filter(membership=membership, analytics=True).values(
            "socialaccount_id"
        )
    )


@dataclass
class Scope:
    """What a figure covers: accounts (already permitted), a period of local days
    (inclusive) and optional post filters (campaign, author, language: posts made with
    Chorus). Reads are memoised per scope, so a page asking many figures asks once."""

    workspace_id: int
    zone: str
    account_ids: tuple[int, ...]
    start: date
    end: date
    campaign_id: int | None = None
    author_id: int | None = None
    language: str = ""
    # Without post filters, read the per-account rollups (False: always the posts' rows,
    # which the rollups must match; tests compare both).
    use_rollups: bool = True
    _memo: dict = field(default_factory=dict, repr=False, compare=False)
    # Reads that do not depend on the period, shared with `previous()` (followers on a day:
    # the day before this period is the last of the previous one).
    _shared: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Scope:
        """The period of the same length just before this one (one object per scope, so
        its reads are memoised too)."""
        return self.memo(
            "previous",
            lambda: replace(
                self,
                start=self.start - timedelta(days=self.days),
                end=self.start - timedelta(1),
                _memo={},
            ),
        )

    def moment(self, day: date) -> datetime:
        """Local midnight starting `day`, as an aware time."""
        return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(self.zone))

    @property
    def filters_posts(self) -> bool:
        return bool(self.campaign_id or self.author_id or self.language)

    def _post_filter(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}account_id__in": self.account_ids})
        if self.campaign_id:
            q &= Q(**{f"{prefix}variant__post__campaign_id": self.campaign_id})
        if self.author_id:
            q &= Q(**{f"{prefix}variant__post__author_id": self.author_id})
        if self.language:
            q &= Q(**{f"{prefix}variant__language": self.language})
        return q

    def posts(self) -> QuerySet[TrackedPost]:
        """Tracked posts of the scope's accounts and filters, whenever published."""
        return TrackedPost.objects.filter(self._post_filter())

    def published(self) -> QuerySet[TrackedPost]:
        """Those published during the period (lifetime figures, top and bottom posts)."""
        return self.posts().filter(
            published_at__gte=self.moment(self.start),
            published_at__lt=self.moment(self.end + timedelta(days=1)),
        )

    @property
    def rolled_up(self) -> bool:
        """Whether figures read the per-account rollups (no post filter asks for posts)."""
        return self.use_rollups and not self.filters_posts

    def rolled_grid(self) -> list[list[Cell]] | None:
        """The weekday-by-hour grid of the posts published during the period, from the
        hourly rollup; None where it does not apply (post filters; a zone whose offset is
        not a whole number of hours)."""
        if not self.rolled_up:
            return None
        start, end = self.moment(self.start), self.moment(self.end + timedelta(days=1))
        return self.memo(
            "rolled_grid", lambda: weekday_hour_rolled(self.account_ids, self.zone, start, end)
        )

    def published_count(self) -> int:
        """How many posts were published during the period: from the weekday-by-hour grid
        when the page drew it already, else summed from the rollups (the previous period
        of a comparison, the API)."""
        if not self.rolled_up:
            return self.published().count()
        grid = self._memo.get("rolled_grid")
        if grid is not None:
            return sum(cell.posts for row in grid for cell in row)
        start, end = self.moment(self.start), self.moment(self.end + timedelta(days=1))
        return posts_rolled(self.account_ids, start, end)

    def daily(self) -> QuerySet[PostDaily] | QuerySet[AccountDayTotal]:
        """What the scope's posts gained on each day of the period: rows with `account`,
        `day` and the counts, per account and day where the filters allow it, else per
        post and day (the sums are the same)."""
        return self._daily(self.start, self.end)

    def _daily(self, start: date, end: date) -> QuerySet[PostDaily] | QuerySet[AccountDayTotal]:
        if self.rolled_up:
            rows = AccountDayTotal.objects.filter(day__gte=start, day__lte=end)
            return rows.filter(account_id__in=self.account_ids)
        rows = PostDaily.objects.filter(day__gte=start, day__lte=end)
        if self.filters_posts:
            return rows.filter(self._post_filter("post__"))
        return rows.filter(account_id__in=self.account_ids)

    def totals(self) -> dict[str, int | None]:
        """Gains over the period: likes, reposts, replies, quotes, impressions (None when
        no post in scope reported any)."""
        if "totals" not in self._memo:
            sums = self.daily().aggregate(**{name: Sum(name) for name in DAY_FIELDS})
            self._memo["totals"] = _totals(sums)
        return self._memo["totals"]

    def read_totals_with_previous(self) -> None:
        """Read `totals()` of this period and of `previous()` in one query (a page
        comparing both asks for both)."""
        previous = self.previous()
        if "totals" in self._memo or "totals" in previous._memo:
            return
        this = Q(day__gte=self.start)
        sums = self._daily(previous.start, self.end).aggregate(
            **{f"this_{n}": Sum(n, filter=this) for n in DAY_FIELDS},
            **{f"previous_{n}": Sum(n, filter=~this) for n in DAY_FIELDS},
        )
        self._memo["totals"] = _totals({n: sums[f"this_{n}"] for n in DAY_FIELDS})
        previous._memo["totals"] = _totals({n: sums[f"previous_{n}"] for n in DAY_FIELDS})

    def followers_by_account(self, day: date) -> dict[int, int]:
        """Followers of each of the scope's accounts on `day`: its latest reading up to
        then (accounts not read by then left out)."""

        def compute():
            latest = (
                AccountDaily.objects.filter(account_id=OuterRef("pk"), day__lte=day)
                .order_by("-day")
                .values("followers")[:1]
            )
            return dict(
                SocialAccount.objects.filter(pk__in=self.account_ids)
                .annotate(latest=Subquery(latest, output_field=IntegerField()))
                .exclude(latest=None)
                .values_list("pk", "latest")
            )

        if day not in self._shared:
            self._shared[day] = compute()
        return self._shared[day]

    def memo(self, key: str, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


DAY_FIELDS = (*COUNTS, "impressions")


def _totals(sums: dict) -> dict[str, int | None]:
    """Summed gains as `Scope.totals` gives them: counts 0 when nothing was gained,
    impressions None when nothing reported any."""
    return {name: (sums[name] or 0) if name in COUNTS else sums[name] for name in DAY_FIELDS}


class BadPeriod(ServiceError):
    """A period that is not one: end before start, or longer than two years."""


def tracked_languages(workspace_id: int) -> list[str]:
    """The languages of the workspace's measured posts (the dashboards' language filter),
    from `AccountLanguage`: a few rows per account, not a scan of the tracked posts."""
    return sorted(
        set(
            AccountLanguage.objects.filter(account__workspace_id=workspace_id).values_list(
                "language", flat=True
            )
        )
    )


def access_scope(
    *,
    membership: Membership,
    account_ids: list[int] | None = None,
    network: str = "",
    campaign_id: int | None = None,
    author_id: int | None = None,
    language: str = "",
    start: date | None = None,
    end: date | None = None,
) -> Scope:
    """The scope a member asked for, checked: an account they may not see is refused by
    name (never silently dropped), and an empty selection means all they may see."""
    permitted = analytics_accounts(membership)
    if account_ids:
        wanted = list(
            SocialAccount.objects.filter(workspace=membership.workspace, pk__in=account_ids)
        )
        if len(wanted) != len(set(account_ids)):
            raise NotFound(_("No such social account."))
        allowed = set(permitted.filter(pk__in=account_ids).values_list("pk", flat=True))
        refused = [a.handle for a in wanted if a.pk not in allowed]
        if refused:
            raise NotAllowed(
                _("You do not have analytics on %(accounts)s; ask an admin for access.")
                % {"accounts": ", ".join(refused)}
            )
        permitted = permitted.filter(pk__in=account_ids)
    if network:
        permitted = permitted.filter(provider=network)
    if (
        campaign_id
        and not Campaign.objects.filter(pk=campaign_id, workspace=membership.workspace).exists()
    ):
        raise NotFound(_("No such campaign."))
    zone = membership.workspace.timezone or "UTC"
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise BadPeriod(_("The period ends before it starts."), field="start")
    if (end - start).days >= MAX_DAYS:
        raise BadPeriod(_("A period is at most two years long."), field="start")
    return Scope(
        workspace_id=membership.workspace_id,
        zone=zone,
        account_ids=tuple(permitted.values_list("pk", flat=True)),
        start=start,
        end=end,
        campaign_id=campaign_id,
        author_id=author_id,
        language=language,
    )


def access_tracked_post(*, membership: Membership, tracked_id: int) -> TrackedPost:
    """One tracked post, if the member may see its account's analytics."""
    post = (
        TrackedPost.objects.filter(pk=tracked_id, account__workspace=membership.workspace)
        .select_related("account", "variant__post")
        .first()
    )
    if post is None:
        raise NotFound(_("No such post."))
    if not analytics_accounts(membership).filter(pk=post.account_id).exists():
        raise NotAllowed(
            _("You do not have analytics on %(accounts)s; ask an admin for access.")
            % {"accounts": post.account.handle}
        )
    return post
