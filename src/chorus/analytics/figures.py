"""Every analytics figure, defined once: one class per figure, shared by pages, API and reports.

A figure has a key, a label and a definition (shown as the figure's tooltip and in
docs/analytics.md) and runs on a `selectors.Scope`. `None` means the network does not
report it ("not reported"), never zero. Another app adds a figure with `@register`; one
that counts towards engagements (link clicks, from short links) sets `engagement = True`
and is summed into "Engagements" wherever it reports a value.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Literal

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from chorus.analytics.models import AccountDaily, TrackedPost
from chorus.analytics.selectors import Scope

Number = int | float | None
Unit = Literal["count", "percent", "per_week"]

FIGURES: dict[str, Figure] = {}


def register(cls: type[Figure]) -> type[Figure]:
    FIGURES[cls.key] = cls()
    return cls


@dataclass(frozen=True)
class FigureValue:
    """A figure over a period and over the period just before it."""

    figure: Figure
    value: Number
    previous: Number

    @property
    def reported(self) -> bool:
        return self.value is not None

    @property
    def change(self) -> float | None:
        """Change against the previous period, in percent; None when not comparable."""
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) * 100.0 / abs(self.previous)


class Figure(abc.ABC):
    key: ClassVar[str]
    label: ClassVar[str]
    definition: ClassVar[str]
    unit: ClassVar[Unit] = "count"
    engagement: ClassVar[bool] = False  # summed into "Engagements"

    @abc.abstractmethod
    def run(self, scope: Scope) -> Number:
        """The figure over the scope's period."""

    def lifetime(self, post: TrackedPost) -> Number:
        """The figure over one post's whole life; None where it has no per-post meaning."""
        return None

    def per_day(self, scope: Scope) -> dict[date, int]:
        """Per local day of the period (days with nothing left out), for engagement figures
        that are not among the networks' counts (link clicks): they join the daily series."""
        return {}

    def compare(self, scope: Scope) -> FigureValue:
        return FigureValue(self, self.run(scope), self.run(scope.previous()))


class _Count(Figure):
    """A count the networks report per post, summed over what was gained in the period."""

    def run(self, scope: Scope) -> Number:
        return scope.totals()[self.key]

    def lifetime(self, post: TrackedPost) -> Number:
        return getattr(post, self.key)


@register
class Likes(_Count):
    key = "likes"
    label = _("Likes")
    definition = _("Likes (favourites) your posts received during the period, minus unlikes.")
    engagement = True


@register
class Reposts(_Count):
    key = "reposts"
    label = _("Reposts")
    definition = _("Reposts (boosts) of your posts during the period.")
    engagement = True


@register
class Replies(_Count):
    key = "replies"
    label = _("Replies")
    definition = _("Replies to your posts during the period.")
    engagement = True


@register
class Quotes(_Count):
    key = "quotes"
    label = _("Quotes")
    definition = _("Posts quoting yours during the period.")
    engagement = True


@register
class Impressions(_Count):
    key = "impressions"
    label = _("Impressions")
    definition = _(
        "Times your posts were shown, where the network reports it. Bluesky and Mastodon "
        "do not: their impressions show as not reported."
    )


def engagement_parts() -> list[Figure]:
    return [f for f in FIGURES.values() if f.engagement]


def other_engagement_parts() -> list[Figure]:
    """Engagement figures registered by other apps (link clicks), beyond the networks'."""
    return [f for f in engagement_parts() if not isinstance(f, _Count)]


@register
class Engagements(Figure):
    key = "engagements"
    label = _("Engagements")
    definition = _(
        "Likes, reposts, replies, quotes and link clicks your posts received during the "
        "period, whatever day the post was published."
    )

    def run(self, scope: Scope) -> Number:
        values = [part.run(scope) for part in engagement_parts()]
        return sum(v for v in values if v is not None)

    def lifetime(self, post: TrackedPost) -> Number:
        values = [part.lifetime(post) for part in engagement_parts()]
        return sum(v for v in values if v is not None)


def followers_on(scope: Scope, day: date) -> int | None:
    """Followers of the scope's accounts on `day` (each account's latest reading up to
    then), or None when none was read yet."""
    values = scope.followers_by_account(day).values()
    return sum(values) if values else None


@register
class Followers(Figure):
    key = "followers"
    label = _("Followers")
    definition = _("Followers of the selected accounts at the end of the period.")

    def run(self, scope: Scope) -> Number:
        return followers_on(scope, scope.end)


@register
class FollowerGrowth(Figure):
    key = "follower_growth"
    label = _("Follower growth")
    definition = _(
        "Followers at the end of the period minus followers at its start (the day before "
        "it), so follows minus unfollows."
    )

    def run(self, scope: Scope) -> Number:
        end = followers_on(scope, scope.end)
        start = followers_on(scope, scope.start.fromordinal(scope.start.toordinal() - 1))
        if end is None:
            return None
        return end - (start if start is not None else _first_followers(scope))


def _first_followers(scope: Scope) -> int:
    """Followers on the first day read inside the period (accounts connected during it)."""
    first = (
        AccountDaily.objects.filter(
            account_id__in=scope.account_ids, day__gte=scope.start, day__lte=scope.end
        )
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    if first is None:
        return 0
    return AccountDaily.objects.filter(account_id__in=scope.account_ids, day=first).aggregate(
        total=Sum("followers")
    )["total"]


@register
class PostsPublished(Figure):
    key = "posts_published"
    label = _("Posts published")
    definition = _("Posts published during the period on the selected accounts.")

    def run(self, scope: Scope) -> Number:
        return scope.memo("published", scope.published_count)


@register
class PostingFrequency(Figure):
    key = "posting_frequency"
    label = _("Posting frequency")
    definition = _("Posts published per week during the period.")
    unit = "per_week"

    def run(self, scope: Scope) -> Number:
        return round(FIGURES["posts_published"].run(scope) * 7 / scope.days, 1)


@register
class EngagementRate(Figure):
    key = "engagement_rate"
    label = _("Engagement rate")
    definition = _(
        "Engagements divided by impressions where the network reports impressions, else by "
        "followers at the end of the period; in percent."
    )
    unit = "percent"

    def run(self, scope: Scope) -> Number:
        engagements = FIGURES["engagements"].run(scope)
        impressions = FIGURES["impressions"].run(scope)
        if impressions:
            return round(engagements * 100.0 / impressions, 2)
        followers = followers_on(scope, scope.end)
        if not followers:
            return None
        return round(engagements * 100.0 / followers, 2)

    def lifetime(self, post: TrackedPost) -> Number:
        engagements = FIGURES["engagements"].lifetime(post)
        if post.impressions:
            return round(engagements * 100.0 / post.impressions, 2)
        row = (
            AccountDaily.objects.filter(account_id=post.account_id)
            .order_by("-day")
            .values_list("followers", flat=True)
            .first()
        )
        return round(engagements * 100.0 / row, 2) if row else None


# The order figures appear in on the overview (keys); link clicks join when registered.
OVERVIEW = (
    "engagements",
    "engagement_rate",
    "impressions",
    "followers",
    "follower_growth",
    "posts_published",
    "posting_frequency",
    "likes",
    "reposts",
    "replies",
    "quotes",
)
PER_POST = (
    "engagements",
    "engagement_rate",
    "impressions",
    "likes",
    "reposts",
    "replies",
    "quotes",
)


def overview(scope: Scope) -> list[FigureValue]:
    keys = [*OVERVIEW, *(k for k in FIGURES if k not in OVERVIEW)]
    scope.read_totals_with_previous()
    return [FIGURES[key].compare(scope) for key in keys]


def of_post(post: TrackedPost) -> list[tuple[Figure, Number]]:
    return [(FIGURES[key], FIGURES[key].lifetime(post)) for key in PER_POST]
