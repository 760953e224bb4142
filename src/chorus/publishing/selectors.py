"""Reads for publishing: posts a member may see, the calendar, queues and the on-time record."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Window,
    prefetch_related_objects,
)
from django.db.models.expressions import Expression
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Invitation, Membership, Workspace
from chorus.core.errors import NotFound
from chorus.governance.models import Policy
from chorus.networks.models import SocialAccount
from chorus.publishing.models import Campaign, MediaAsset, Post, PostState, Variant, VariantStatus


def posts_filtered(
    membership: Membership,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    account_ids: list[int] | None = None,
    campaign_id: int | None = None,
    statuses: list[str] | None = None,
    author_id: int | None = None,
) -> QuerySet[Post]:
    """The workspace's posts filtered as the calendar asks, unordered and without joins.

    Account and status filters keep the posts with a variant on one of the accounts with
    one of the statuses: `id IN (those variants' post ids)`, the variants read along the
    (account, status, scheduled_at) index for the given accounts or the workspace's own.
    No join multiplies rows and nothing needs DISTINCT; and unlike a correlated EXISTS,
    which SQLite runs once per post (a count of the filtered list tested all 50,000), the
    set is built once. A status alone within a start and an end tests each post of that
    range with EXISTS instead.
    """
    posts = Post.objects.filter(workspace_id=membership.workspace_id)
    if start:
        posts = posts.filter(scheduled_at__gte=start)
    if end:
        posts = posts.filter(scheduled_at__lt=end)
    if statuses and not account_ids and start and end:
        # A status alone over a bounded time: testing each post of the range is cheaper
        # than listing every variant of the workspace in that status (the overview's
        # week of armed posts among all the scheduled ones).
        variants = Variant.objects.filter(post_id=OuterRef("pk"), status__in=statuses)
        posts = posts.filter(Exists(variants))
    elif account_ids or statuses:
        accounts = account_ids or SocialAccount.objects.filter(
            workspace_id=membership.workspace_id
        ).values("pk")
        variants = Variant.objects.filter(account_id__in=accounts)
        if statuses:
            variants = variants.filter(status__in=statuses)
        posts = posts.filter(pk__in=variants.values("post_id"))
    if campaign_id:
        posts = posts.filter(campaign_id=campaign_id)
    if author_id:
        posts = posts.filter(author_id=author_id)
    return posts


def with_details(posts: QuerySet[Post], *, brief: bool = False) -> QuerySet[Post]:
    """Author, campaign and variants (with their accounts) loaded in two more queries;
    `brief` leaves out what a calendar chip never shows (threads, polls, approval plans)."""
    variants = Variant.objects.select_related("account").order_by("pk")
    if brief:
        posts = posts.defer("approval_plan", "approval_reasons")
        variants = variants.defer(
            "thread",
            "first_comment",
            "link",
            "content_warning",
            "poll",
            "parts_published",
            "last_error",
            "account__identity",
            "account__secrets_encrypted",
        )
    return posts.select_related("author", "campaign").prefetch_related(
        Prefetch("variants", queryset=variants)
    )


def first_of_each(ordered: list[QuerySet[Post]], *, limit: int) -> QuerySet[Post]:
    """The posts among the first `limit` of any of these ordered querysets, with details
    (order the result as needed): the ids of each part first, one query each walking its
    own index and stopping after `limit`, then the rows by id.

    (Asking for `id IN (part) OR id IN (part)` in one query makes PostgreSQL scan every
    post, and SQLite too once the workspace is filtered outside.)"""
    ids = {pk for part in ordered for pk in part.values_list("pk", flat=True)[:limit]}
    return with_details(Post.objects.filter(pk__in=sorted(ids)))


def posts_of(membership: Membership, **filters) -> QuerySet[Post]:
    """The workspace's posts, newest schedule first, filtered as the calendar asks."""
    # (scheduled_at, id) follows the (workspace, scheduled_at) index, so a page needs no sort.
    return with_details(posts_filtered(membership, **filters)).order_by("-scheduled_at", "-pk")


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


def assets_by_id(membership: Membership, ids) -> dict[int, MediaAsset]:
    """The workspace's media assets with these ids, in one query."""
    ids = list(ids)
    if not ids:
        return {}
    return {a.pk: a for a in MediaAsset.objects.filter(workspace=membership.workspace, pk__in=ids)}


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


PERCENTS = (50, 90, 99)


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values: the value at rank ceil(share * n)
    (the database computes the same rank with integer arithmetic in `on_time_record`)."""
    if not sorted_values:
        return 0.0
    percent = round(share * 100)
    rank = max(1, (len(sorted_values) * percent + 99) // 100)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _lateness_sql() -> str:
    """Seconds from promised to confirmed time, never negative, in the database's dialect."""
    if connection.vendor == "postgresql":
        return "GREATEST(EXTRACT(EPOCH FROM (v.published_at - v.scheduled_at))::float8, 0.0)"
    # SQLite keeps UTC datetimes as text "YYYY-MM-DD HH:MM:SS[.ffffff]": whole seconds by
    # strftime, microseconds from the text, so the difference is exact (julianday is not).
    return (
        "MAX((CAST(strftime('%%s', v.published_at) AS INTEGER)"
        " - CAST(strftime('%%s', v.scheduled_at) AS INTEGER))"
        " + (CAST(substr(v.published_at, 21, 6) AS INTEGER)"
        " - CAST(substr(v.scheduled_at, 21, 6) AS INTEGER)) / 1000000.0, 0.0)"
    )


def on_time_record(
    membership: Membership, *, by: str = "account", since: timedelta = timedelta(days=30)
) -> list[OnTimeSummary]:
    """Lateness p50/p90/p99/max of published variants, per account or per network, or for
    the whole workspace (`by="all"`, one summary named "all", none when nothing went out).

    Computed in the database in one query on both PostgreSQL and SQLite: each group's
    values are ranked by a window function and the nearest-rank pick for p is the row at
    rank ceil(n * p / 100), in integer arithmetic, so both databases agree to the row.
    The workspace is the account's (a variant only ever goes to its post's workspace's
    accounts), so the posts table is not read: the (status, published_at) index and the
    accounts are all it takes.
    """
    # Partitioned by a number where there is one (an account's id, not its handle: sorting
    # thousands of rows on collated text cost more than the rest of the query).
    key, label = {
        "account": ("a.id", "a.handle"),
        "network": ("a.provider", "a.provider"),
        "all": ("0", "'all'"),
    }[by]
    picks = ", ".join(f"MAX(CASE WHEN rn = (n * {p} + 99) / 100 THEN lat END)" for p in PERCENTS)
    # Only constants are interpolated (table names, the dialect's expression, the percents).
    # Both window functions share one window, so the rows are sorted once.
    sql = f"""
        WITH t AS (
            SELECT {key} AS grp, {label} AS label, {_lateness_sql()} AS lat,
                   CASE WHEN a.sandbox THEN 1 ELSE 0 END AS sb
            FROM {Variant._meta.db_table} v
            JOIN {SocialAccount._meta.db_table} a ON a.id = v.account_id
            WHERE a.workspace_id = %s AND v.status IN (%s, %s)
              AND v.published_at >= %s AND v.scheduled_at IS NOT NULL
        ), r AS (
            SELECT grp, label, lat, sb, ROW_NUMBER() OVER w AS rn, COUNT(*) OVER w AS n
            FROM t
            WINDOW w AS (
                PARTITION BY grp ORDER BY lat
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            )
        )
        SELECT MAX(label), n, {picks}, MAX(lat), MAX(sb) FROM r GROUP BY grp, n
    """  # noqa: S608
    params = [
        membership.workspace_id,
        VariantStatus.PUBLISHED.value,
        VariantStatus.DELETED.value,
        timezone.now() - since,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        OnTimeSummary(
            group=group,
            published=n,
            p50=float(p50),
            p90=float(p90),
            p99=float(p99),
            worst=float(worst),
            sandbox=by == "account" and bool(on_sandbox),
        )
        for group, n, p50, p90, p99, worst, on_sandbox in sorted(rows, key=lambda r: r[0])
    ]


# --------------------------------------------------------------------------- queues


def queued_counts(account_ids: list[int], *, after: datetime | None = None) -> dict[int, int]:
    """How many posts wait in each account's queue, in one aggregate query."""
    rows = (
        Variant.objects.filter(
            account_id__in=account_ids,
            status=VariantStatus.SCHEDULED,
            post__via_queue=True,
            scheduled_at__gte=after or timezone.now(),
        )
        .values_list("account_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


QUEUE_PARTS_PER_QUERY = 400  # SQLite compounds at most 500 SELECTs in one statement


def queued_variants_by_account(
    account_ids: list[int], *, after: datetime | None = None, limit: int = 20
) -> dict[int, list[Variant]]:
    """Each account's first `limit` posts waiting in its queue, soonest first (id, post,
    account, time and text only).

    One UNION ALL of a LIMITed read per account, each walking the (account, status,
    scheduled_at) index and stopping after `limit` rows: the cost follows the rows shown,
    not the queue's length (a window over every queued post read them all). One query per
    400 accounts."""
    after = after or timezone.now()
    found: dict[int, list[Variant]] = {pk: [] for pk in account_ids}
    if not account_ids:
        return found
    # Compiled once for a stand-in account and repeated per account with its id as the
    # parameter (compiling fifty querysets costs more than running them).
    stand_in = -1
    one = (
        Variant.objects.filter(
            account_id=stand_in,
            status=VariantStatus.SCHEDULED,
            post__via_queue=True,
            scheduled_at__gte=after,
        )
        .order_by("scheduled_at", "pk")
        .only("pk", "post_id", "account_id", "scheduled_at", "text")[:limit]
    )
    sql, template = one.query.sql_with_params()
    at = template.index(stand_in)
    for chunk_start in range(0, len(account_ids), QUEUE_PARTS_PER_QUERY):
        chunk = account_ids[chunk_start : chunk_start + QUEUE_PARTS_PER_QUERY]
        # Only the ORM's own compiled SQL is repeated; every value stays a parameter.
        union = " UNION ALL ".join(
            f"SELECT * FROM ({sql}) AS q{n}"  # noqa: S608
            for n in range(len(chunk))
        )
        params = [p for pk in chunk for p in (*template[:at], pk, *template[at + 1 :])]
        for variant in Variant.objects.raw(union, params):
            found[variant.account_id].append(variant)
    for variants in found.values():
        variants.sort(key=lambda v: (v.scheduled_at, v.pk))
    return found


# --------------------------------------------------------------------------- calendar


@dataclass
class Buckets:
    """Posts cut at `bounds`: how many fall in each piece, and the first few of each."""

    counts: list[int]
    shown: list[list[Post]]

    def more(self, index: int) -> int:
        return self.counts[index] - len(self.shown[index])


class _Bucket(Expression):
    """Which piece [bounds[i], bounds[i + 1]) a post's time falls in, as an integer.

    A balanced tree of CASEs (a binary search: 6 comparisons a row for a month's 42 days,
    8 for a week's 168 hours, rather than half the list on average), compiled directly:
    building as many ORM lookups would cost more than running the query. Rows outside the
    bounds are filtered out by the caller."""

    output_field = IntegerField()

    def __init__(self, bounds: list[datetime]):
        super().__init__()
        self.bounds = bounds
        self.column = F("scheduled_at")

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        params: list = []

        def tree(low: int, high: int) -> str:
            if high - low == 1:
                return str(low)
            middle = (low + high) // 2
            params.extend(column_params)
            params.append(connection.ops.adapt_datetimefield_value(self.bounds[middle]))
            return f"CASE WHEN {column} < %s THEN {tree(low, middle)} ELSE {tree(middle, high)} END"

        return tree(0, len(self.bounds) - 1), params


def _bucket(bounds: list[datetime]) -> _Bucket:
    return _Bucket(bounds)


def posts_per_bucket(membership: Membership, *, bounds: list[datetime], **filters) -> list[int]:
    """How many posts are scheduled in each piece between `bounds`, in one aggregate query."""
    counts = [0] * max(len(bounds) - 1, 0)
    if not counts:
        return counts
    base = posts_filtered(membership, start=bounds[0], end=bounds[-1], **filters)
    rows = base.annotate(bucket=_bucket(bounds)).values_list("bucket").annotate(n=Count("id"))
    for index, n in rows.order_by():
        if index is not None:
            counts[index] = n
    return counts


def posts_in_buckets(
    membership: Membership, *, bounds: list[datetime], per_bucket: int, **filters
) -> Buckets:
    """The posts scheduled in [bounds[0], bounds[-1]), cut into pieces at `bounds` (local
    midnights for a month, local hours for a week, so DST is exact), in at most four
    queries whatever the number of posts: counts per piece from one aggregate, the first
    `per_bucket` posts of each piece ranked by a window function, and their variants."""
    counts = posts_per_bucket(membership, bounds=bounds, **filters)
    shown: list[list[Post]] = [[] for _ in counts]
    if any(counts):
        bucket = _bucket(bounds)
        # Rank only ids (a narrow sort), then load the few chosen posts with their details.
        chosen = (
            posts_filtered(membership, start=bounds[0], end=bounds[-1], **filters)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[bucket],
                    order_by=[F("scheduled_at").asc(), F("pk").asc()],
                )
            )
            .filter(rank__lte=per_bucket)
            .values("pk")
        )
        posts = with_details(
            Post.objects.filter(pk__in=chosen).order_by("scheduled_at", "pk"), brief=True
        )
        for post in posts:
            shown[bisect_right(bounds, post.scheduled_at) - 1].append(post)
    return Buckets(counts, shown)


def posts_between(membership: Membership, **filters) -> QuerySet[Post]:
    """Scheduled posts in time order (the list and day views page through these)."""
    return with_details(
        posts_filtered(membership, **filters).filter(scheduled_at__isnull=False), brief=True
    ).order_by("scheduled_at", "pk")


def unscheduled_drafts(membership: Membership, **filters) -> QuerySet[Post]:
    """Drafts without a time, newest first (the calendar shows the first few)."""
    return with_details(
        posts_filtered(membership, **filters).filter(
            scheduled_at__isnull=True, state=PostState.DRAFT
        ),
        brief=True,
    ).order_by("-created_at", "-pk")


# --------------------------------------------------------------------------- the overview


@dataclass(frozen=True)
class GoingOut:
    """Posts armed to go out from now: how many today and this week, and the first few of
    each (the rest are counted, never loaded: an agency sends over a thousand a week)."""

    today: int
    week: int
    first_today: list[Post]
    first_later: list[Post]  # after today, within the week

    @property
    def more_today(self) -> int:
        return self.today - len(self.first_today)

    @property
    def more_later(self) -> int:
        return self.week - self.today - len(self.first_later)


def posts_going_out(
    membership: Membership, *, start: datetime, split: datetime, end: datetime, shown: int = 20
) -> GoingOut:
    """Posts with a variant armed to go out between `start` and `end`, soonest first, cut
    at `split` (the end of today): both counts from one aggregate, the first `shown` of
    each side loaded together in one query (and their variants in one more)."""
    armed = posts_filtered(
        membership,
        start=start,
        end=end,
        statuses=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING],
    )
    totals = armed.aggregate(today=Count("pk", filter=Q(scheduled_at__lt=split)), week=Count("pk"))
    soonest = armed.order_by("scheduled_at", "pk")
    posts = list(
        first_of_each(
            [soonest.filter(scheduled_at__lt=split), soonest.filter(scheduled_at__gte=split)],
            limit=shown,
        ).order_by("scheduled_at", "pk")
    )
    return GoingOut(
        today=totals["today"],
        week=totals["week"],
        first_today=[p for p in posts if p.scheduled_at < split],
        first_later=[p for p in posts if p.scheduled_at >= split],
    )


def with_variant_texts(posts: list[Post]) -> list[Post]:
    """Load only the variants' texts (one query), for lists that show a line of each post."""
    prefetch_related_objects(
        posts,
        Prefetch("variants", queryset=Variant.objects.only("pk", "post_id", "text").order_by("pk")),
    )
    return posts


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
