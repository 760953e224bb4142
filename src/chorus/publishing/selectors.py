"""Reads for publishing: posts a member may see, the calendar, and the on-time record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.core.errors import NotFound
from chorus.publishing.models import Campaign, Post, Variant, VariantStatus


def posts_of(
    membership: Membership,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    account_ids: list[int] | None = None,
    campaign_id: int | None = None,
    statuses: list[str] | None = None,
    author_id: int | None = None,
) -> QuerySet[Post]:
    """The workspace's posts, newest schedule first, filtered as the calendar asks."""
    posts = Post.objects.filter(workspace=membership.workspace)
    if start:
        posts = posts.filter(scheduled_at__gte=start)
    if end:
        posts = posts.filter(scheduled_at__lt=end)
    if account_ids:
        posts = posts.filter(variants__account_id__in=account_ids)
    if campaign_id:
        posts = posts.filter(campaign_id=campaign_id)
    if statuses:
        posts = posts.filter(variants__status__in=statuses)
    if author_id:
        posts = posts.filter(author_id=author_id)
    return (
        posts.distinct()
        .select_related("author", "campaign")
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.select_related("account")))
        .order_by("-scheduled_at", "-created_at")
    )


def access_post(*, membership: Membership, post_id: int) -> Post:
    post = posts_of(membership).filter(pk=post_id).first()
    if post is None:
        raise NotFound(_("No such post."))
    return post


def access_variant(*, membership: Membership, variant_id: int) -> Variant:
    variant = (
        Variant.objects.select_related("post", "account")
        .filter(pk=variant_id, post__workspace=membership.workspace)
        .first()
    )
    if variant is None:
        raise NotFound(_("No such post."))
    return variant


def campaigns_of(membership: Membership) -> QuerySet[Campaign]:
    return Campaign.objects.filter(workspace=membership.workspace).order_by("-starts_on", "name")


def access_campaign(*, membership: Membership, campaign_id: int) -> Campaign:
    campaign = campaigns_of(membership).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


def lateness_seconds(variant: Variant) -> float | None:
    """How long after its promised time the network confirmed the post."""
    if not (variant.published_at and variant.scheduled_at):
        return None
    return (variant.published_at - variant.scheduled_at).total_seconds()


@dataclass(frozen=True)
class OnTimeSummary:
    group: str  # the account handle or the network key
    published: int
    p50: float
    p90: float
    p99: float
    worst: float


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values (the same everywhere it is shown)."""
    if not sorted_values:
        return 0.0
    rank = max(1, int(-(-share * len(sorted_values) // 1)))  # ceil(share * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def on_time_record(
    membership: Membership, *, by: str = "account", since: timedelta = timedelta(days=30)
) -> list[OnTimeSummary]:
    """Lateness p50/p90/p99/max of published variants, per account or per network."""
    key = "account__handle" if by == "account" else "account__provider"
    rows = Variant.objects.filter(
        post__workspace=membership.workspace,
        status__in=[VariantStatus.PUBLISHED, VariantStatus.DELETED],
        published_at__gte=timezone.now() - since,
        scheduled_at__isnull=False,
    ).values_list(key, "scheduled_at", "published_at")
    groups: dict[str, list[float]] = {}
    for group, scheduled, published in rows:
        groups.setdefault(group, []).append(max((published - scheduled).total_seconds(), 0.0))
    summaries = []
    for group, values in sorted(groups.items()):
        values.sort()
        summaries.append(
            OnTimeSummary(
                group=group,
                published=len(values),
                p50=percentile(values, 0.50),
                p90=percentile(values, 0.90),
                p99=percentile(values, 0.99),
                worst=values[-1],
            )
        )
    return summaries


def queued_variants(account, *, after: datetime | None = None) -> QuerySet[Variant]:
    """An account's posts waiting in its queue (times from queue slots), soonest first."""
    return (
        Variant.objects.filter(
            account=account,
            status=VariantStatus.SCHEDULED,
            post__via_queue=True,
            scheduled_at__gte=after or timezone.now(),
        )
        .select_related("post", "post__campaign")
        .order_by("scheduled_at")
    )
