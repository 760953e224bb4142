"""Best time to post: per account, from its own engagement history.

Each of an account's posts of the last HISTORY_DAYS that was read at least once counts in
the cell of the weekday and hour it went out (in the workspace's time zone, the audience's
time zone Chorus knows). A cell's score is the average lifetime engagements of its posts,
and its confidence comes from how many posts are behind it. With fewer than ENOUGH_POSTS
posts read, the suggestion is a general default, labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chorus.accounts.models import Membership
from chorus.analytics.grids import Cell, weekday_hour, weekday_hour_rolled
from chorus.analytics.models import TrackedPost
from chorus.analytics.selectors import access_scope, analytics_accounts
from chorus.core.errors import NotFound
from chorus.networks.models import SocialAccount

HISTORY_DAYS = 180
ENOUGH_POSTS = 20
SUGGESTED = 3
# Posts behind a cell → confidence. Below "medium" a cell is never suggested.
CONFIDENCE = ((6, "high"), (3, "medium"), (1, "low"))
CONFIDENCE_LABELS = {
    "high": gettext_lazy("High"),
    "medium": gettext_lazy("Medium"),
    "low": gettext_lazy("Low"),
}
# Weekdays late morning, lunch and early evening: a common starting point, nothing more.
DEFAULT_TIMES = ((1, 9), (2, 12), (3, 17))


def confidence(posts: int) -> str:
    for least, name in CONFIDENCE:
        if posts >= least:
            return name
    return ""


@dataclass(frozen=True)
class Suggestion:
    weekday: int
    hour: int
    average: float | None  # None for the default
    posts: int
    confidence: str  # "high", "medium", "low"; "" for the default

    @property
    def confidence_label(self) -> str:
        return str(CONFIDENCE_LABELS.get(self.confidence, ""))


@dataclass(frozen=True)
class BestTimes:
    account: SocialAccount
    zone: str
    grid: list[list[Cell]]
    posts: int  # posts read behind the whole grid
    suggestions: tuple[Suggestion, ...]
    is_default: bool  # not enough history: `suggestions` is the general default


def best_times(account: SocialAccount, *, zone: str, now: datetime | None = None) -> BestTimes:
    now = now or timezone.now()
    since = now - timedelta(days=HISTORY_DAYS)
    grid = weekday_hour_rolled([account.pk], zone, since, read=True)
    if grid is None:
        posts = TrackedPost.objects.filter(account=account, published_at__gte=since)
        grid = weekday_hour(posts.filter(collections__gt=0), zone)
    total = sum(cell.posts for row in grid for cell in row)
    ranked = sorted(
        (c for row in grid for c in row if confidence(c.posts) in ("high", "medium")),
        key=lambda c: (-(c.average or 0), -c.posts, c.weekday, c.hour),
    )
    suggestions = tuple(
        Suggestion(c.weekday, c.hour, c.average, c.posts, confidence(c.posts))
        for c in ranked[:SUGGESTED]
    )
    is_default = total < ENOUGH_POSTS or not suggestions
    if is_default:
        suggestions = tuple(Suggestion(d, h, None, 0, "") for d, h in DEFAULT_TIMES)
    return BestTimes(account, zone, grid, total, suggestions, is_default)


def access_best_times(*, membership: Membership, account_id: int | None) -> BestTimes:
    """Best times of one account the member has analytics on (refused by name if not);
    None: the first account they have analytics on."""
    if account_id is None:
        account_id = analytics_accounts(membership).values_list("pk", flat=True).first()
        if account_id is None:
            raise NotFound(_("You have analytics on no social account of this workspace."))
    scope = access_scope(membership=membership, account_ids=[account_id])
    account = SocialAccount.objects.get(pk=scope.account_ids[0])
    return best_times(account, zone=scope.zone)
