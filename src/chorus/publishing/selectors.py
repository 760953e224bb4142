"""Reads for publishing: posts a member may see, the calendar, and the on-time record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Invitation, Membership, Workspace
from chorus.core.errors import NotFound
from chorus.governance.models import Policy
from chorus.networks.models import SocialAccount
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
    sandbox: bool = False  # by account: the account is on the sandbox network


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values (the same everywhere it is shown)."""
    if not sorted_values:
        return 0.0
    rank = max(1, int(-(-share * len(sorted_values) // 1)))  # ceil(share * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def on_time_record(
    membership: Membership, *, by: str = "account", since: timedelta = timedelta(days=30)
) -> list[OnTimeSummary]:
    """Lateness p50/p90/p99/max of published variants, per account or per network, or for
    the whole workspace (`by="all"`, one summary named "all", none when nothing went out)."""
    keys = {"account": "account__handle", "network": "account__provider", "all": "post__workspace"}
    key = keys[by]
    rows = Variant.objects.filter(
        post__workspace=membership.workspace,
        status__in=[VariantStatus.PUBLISHED, VariantStatus.DELETED],
        published_at__gte=timezone.now() - since,
        scheduled_at__isnull=False,
    ).values_list(key, "scheduled_at", "published_at", "account__sandbox")
    groups: dict[str, list[float]] = {}
    sandbox: set[str] = set()
    for group, scheduled, published, on_sandbox in rows:
        name = "all" if by == "all" else group
        groups.setdefault(name, []).append(max((published - scheduled).total_seconds(), 0.0))
        if on_sandbox and by == "account":
            sandbox.add(name)
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
                sandbox=group in sandbox,
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


# --------------------------------------------------------------------------- the overview


def posts_going_out(membership: Membership, *, start: datetime, end: datetime) -> list[Post]:
    """Posts with a variant armed to go out between `start` and `end`, soonest first."""
    posts = posts_of(
        membership,
        start=start,
        end=end,
        statuses=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING],
    )
    return list(posts.order_by("scheduled_at", "pk"))


TROUBLE = (VariantStatus.FAILED, VariantStatus.HELD, VariantStatus.NEEDS_RECONNECT)


def variants_in_trouble(
    membership: Membership, *, since: timedelta = timedelta(days=7), limit: int = 20
) -> list[Variant]:
    """Recent variants that did not go out (failed, held, waiting for a reconnect)."""
    return list(
        Variant.objects.filter(
            post__workspace=membership.workspace,
            status__in=TROUBLE,
            scheduled_at__gte=timezone.now() - since,
        )
        .select_related("post", "account")
        .order_by("-scheduled_at")[:limit]
    )


@dataclass(frozen=True)
class Checklist:
    """A new workspace's first steps; each ticks itself off once done."""

    account: bool
    post: bool
    teammate: bool
    policy: bool

    @property
    def done(self) -> bool:
        return self.account and self.post and self.teammate and self.policy


def setup_checklist(membership: Membership) -> Checklist:
    """Whether the workspace has connected an account, written a post, invited someone
    (or has a second member) and set a compliance policy: one query."""

    def within(model, **extra):
        return Exists(model.objects.filter(workspace=OuterRef("pk"), **extra))

    row = (
        Workspace.objects.filter(pk=membership.workspace_id)
        .annotate(
            has_account=within(SocialAccount),
            has_post=within(Post),
            has_invitation=within(Invitation),
            has_teammate=Exists(
                Membership.objects.filter(workspace=OuterRef("pk")).exclude(pk=membership.pk)
            ),
            has_policy=within(Policy),
        )
        .values("has_account", "has_post", "has_invitation", "has_teammate", "has_policy")
        .get()
    )
    return Checklist(
        account=row["has_account"],
        post=row["has_post"],
        teammate=row["has_teammate"] or row["has_invitation"],
        policy=row["has_policy"],
    )
