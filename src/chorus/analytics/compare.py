"""Competitors side by side with our accounts, over a `Scope`'s period (see docs/analytics.md,
"Competitors"). One function, `compare`, serves the page, the API and the CSV export, in a
fixed number of queries whatever the period or the number of accounts.

Each side (one of our accounts, one competitor) gets the same four figures, from the counts
both have: followers per day (carried forward from the latest reading), posts published
in the period, posts per week, and engagements per post (likes, reposts, replies and quotes
of those posts, lifetime; link clicks are left out here, as competitors' are unknown).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Sum

from chorus.analytics.models import (
    AccountDaily,
    Competitor,
    CompetitorDaily,
    CompetitorPost,
    TrackedPost,
)
from chorus.analytics.selectors import Scope
from chorus.networks.models import SocialAccount
from chorus.networks.providers import get_provider

TOP_POSTS = 10
_TOTAL = F("likes") + F("reposts") + F("replies") + F("quotes")


@dataclass
class Side:
    key: str  # "account-3", "competitor-5"
    label: str
    handle: str
    network: str
    ours: bool
    url: str = ""
    followers: list[int | None] = field(default_factory=list)  # one per day of the period
    posts: int = 0
    engagements: int = 0
    gone: bool = False  # a competitor the network says is no more
    last_error: str = ""

    @property
    def followers_now(self) -> int | None:
        known = [f for f in self.followers if f is not None]
        return known[-1] if known else None

    @property
    def follower_change(self) -> int | None:
        known = [f for f in self.followers if f is not None]
        return known[-1] - known[0] if known else None


@dataclass(frozen=True)
class TopPost:
    side: Side
    text: str
    url: str
    published_at: datetime
    engagements: int
    likes: int
    reposts: int
    replies: int
    quotes: int


@dataclass
class Comparison:
    days: list[date]
    sides: list[Side]
    top_posts: list[TopPost]
    weeks: float

    def per_week(self, side: Side) -> float:
        return round(side.posts / self.weeks, 1)

    def per_post(self, side: Side) -> float | None:
        return round(side.engagements / side.posts, 1) if side.posts else None


def _carried(days: list[date], before: dict, readings: dict) -> list[int | None]:
    current, values = before, []
    for day in days:
        current = readings.get(day, current)
        values.append(current)
    return values


def _followers(model, key: str, ids: list[int], days: list[date]) -> dict[int, list]:
    """Per id: followers on each day, carried forward (one query over the period and the
    latest reading before it)."""
    rows = model.objects.filter(**{f"{key}__in": ids}, day__lte=days[-1]).filter(
        day__gte=days[0] - timedelta(days=31)
    )
    readings: dict[int, dict[date, int]] = defaultdict(dict)
    before: dict[int, int | None] = {}
    for owner, day, followers in rows.order_by("day").values_list(key, "day", "followers"):
        if day < days[0]:
            before[owner] = followers
        else:
            readings[owner][day] = followers
    return {i: _carried(days, before.get(i), readings[i]) for i in ids}


def _period_posts(queryset, scope: Scope):
    start, end = scope.moment(scope.start), scope.moment(scope.end + timedelta(days=1))
    return queryset.filter(published_at__gte=start, published_at__lt=end).order_by()


def compare(scope: Scope, competitors: list[Competitor]) -> Comparison:
    days = [scope.start + timedelta(days=i) for i in range(scope.days)]
    accounts = list(SocialAccount.objects.filter(pk__in=scope.account_ids))
    sides: list[Side] = []
    ours_followers = _followers(AccountDaily, "account_id", [a.pk for a in accounts], days)
    ours_posts = _period_posts(TrackedPost.objects.filter(account__in=accounts), scope)
    ours_totals = {
        row["account_id"]: row
        for row in ours_posts.values("account_id").annotate(n=Count("pk"), total=Sum(_TOTAL))
    }
    by_key: dict[tuple[str, int], Side] = {}
    for account in accounts:
        totals = ours_totals.get(account.pk, {})
        side = Side(
            key=f"account-{account.pk}",
            label=account.label,
            handle=account.handle,
            network=get_provider(account.provider).name,
            ours=True,
            followers=ours_followers[account.pk],
            posts=totals.get("n") or 0,
            engagements=totals.get("total") or 0,
        )
        sides.append(side)
        by_key[("account", account.pk)] = side
    ids = [c.pk for c in competitors]
    their_followers = _followers(CompetitorDaily, "competitor_id", ids, days)
    their_posts = _period_posts(CompetitorPost.objects.filter(competitor_id__in=ids), scope)
    their_totals = {
        row["competitor_id"]: row
        for row in their_posts.values("competitor_id").annotate(n=Count("pk"), total=Sum(_TOTAL))
    }
    for competitor in competitors:
        totals = their_totals.get(competitor.pk, {})
        side = Side(
            key=f"competitor-{competitor.pk}",
            label=competitor.label,
            handle=competitor.handle,
            network=get_provider(competitor.provider).name,
            ours=False,
            url=competitor.profile_url,
            followers=their_followers[competitor.pk],
            posts=totals.get("n") or 0,
            engagements=totals.get("total") or 0,
            gone=competitor.gone_at is not None,
            last_error=competitor.last_error,
        )
        sides.append(side)
        by_key[("competitor", competitor.pk)] = side
    top = [
        TopPost(by_key[("account", p.account_id)], p.text or _variant_text(p), p.url,
                p.published_at, p.total, p.likes, p.reposts, p.replies, p.quotes)
        for p in ours_posts.filter(collections__gt=0)
        .select_related("variant")
        .annotate(total=_TOTAL)
        .order_by("-total", "-published_at")[:TOP_POSTS]
    ] + [
        TopPost(by_key[("competitor", p.competitor_id)], p.text, p.url, p.published_at,
                p.total, p.likes, p.reposts, p.replies, p.quotes)
        for p in their_posts.annotate(total=_TOTAL).order_by("-total", "-published_at")[:TOP_POSTS]
    ]  # fmt: skip
    top.sort(key=lambda p: (-p.engagements, -p.published_at.timestamp()))
    return Comparison(days=days, sides=sides, top_posts=top[:TOP_POSTS], weeks=scope.days / 7)


def _variant_text(post: TrackedPost) -> str:
    return post.variant.text if post.variant_id and post.variant else ""
