"""Reads for listening pages and the API: topics, matched posts, analysis, previews, health.

Every analysis takes one topic and answers one question: volume over time, share of voice,
top hashtags and terms, languages and networks.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Workspace
from chorus.core.days import per_local_day
from chorus.core.errors import NotFound
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.text import words
from chorus.text.segmentation import fold

from .matcher import CompiledMatcher, ListeningPost
from .models import (
    DEFAULT_RETENTION_DAYS,
    Alert,
    AlertRule,
    Board,
    BoardItem,
    Mention,
    Query,
    QueryRole,
    SamplePost,
    Settings,
    Source,
    Topic,
)
from .query import QueryError, hashtags_of, parse

ANALYSIS_WINDOW = 5000  # newest mentions the hashtag and term counts read
PREVIEW_POSTS = 2000


def topics_of(workspace: Workspace) -> QuerySet[Topic]:
    return (
        Topic.objects.filter(workspace=workspace)
        .annotate(
            query_count=Count("queries", distinct=True),
            mention_count=Count("queries__mentions", distinct=True),
        )
        .order_by("name", "pk")
    )


def access_topic(*, workspace: Workspace, topic_id: int) -> Topic:
    topic = Topic.objects.filter(workspace=workspace, pk=topic_id).first()
    if topic is None:
        raise NotFound(_("No such topic."))
    return topic


def access_query(*, workspace: Workspace, query_id: int) -> Query:
    query = (
        Query.objects.select_related("topic")
        .filter(topic__workspace=workspace, pk=query_id)
        .first()
    )
    if query is None:
        raise NotFound(_("No such query."))
    return query


def queries_of(topic: Topic) -> QuerySet[Query]:
    return topic.queries.annotate(mention_count=Count("mentions")).order_by("role", "name", "pk")


def mentions_of(
    topic: Topic,
    *,
    query: Query | None = None,
    language: str = "",
    network: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Mention]:
    """Matched posts of a topic, newest first, each with the topic's queries it matched;
    `since`/`until` narrow it to a window (an alert's link uses them)."""
    mentions = Mention.objects.filter(workspace_id=topic.workspace_id, queries__topic=topic)
    if since is not None:
        mentions = mentions.filter(posted_at__gte=since)
    if until is not None:
        mentions = mentions.filter(posted_at__lt=until)
    if query is not None:
        mentions = mentions.filter(queries=query)
    if language:
        mentions = mentions.filter(language=language)
    if network:
        mentions = mentions.filter(network=network)
    return mentions.distinct().order_by("-posted_at", "-pk")


def matched_queries(mentions: list[Mention], topic: Topic) -> dict[int, list[Query]]:
    """For a page of mentions, which of the topic's queries each matched (one query)."""
    through = Mention.queries.through.objects.filter(
        mention_id__in=[m.pk for m in mentions], query__topic=topic
    ).select_related("query")
    found: dict[int, list[Query]] = {}
    for row in through:
        found.setdefault(row.mention_id, []).append(row.query)
    return found


def retention_days(workspace: Workspace) -> int:
    settings = Settings.objects.filter(workspace=workspace).first()
    return settings.retention_days if settings else DEFAULT_RETENTION_DAYS


# --------------------------------------------------------------------------- analysis


def volume_over_time(topic: Topic, *, days: int = 30, zone=None) -> list[tuple[dt.date, int]]:
    """Matched posts per day (in ``zone``) over the last ``days`` days, zero days included."""
    zone = zone or timezone.get_current_timezone()
    today = timezone.now().astimezone(zone).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    counts = per_local_day(
        mentions_of(topic).filter(posted_at__gte=since),
        "posted_at",
        zone,
        Count("pk", distinct=True),
    )
    return [
        (first + dt.timedelta(days=i), int(counts.get(first + dt.timedelta(days=i), 0)))
        for i in range(days)
    ]


@dataclass(frozen=True)
class Share:
    name: str
    role: str
    mentions: int
    percent: float


def share_of_voice(topic: Topic) -> list[Share]:
    """Mentions per brand and competitor query, as shares of their total."""
    rows = list(
        topic.queries.filter(role__in=[QueryRole.BRAND, QueryRole.COMPETITOR])
        .annotate(n=Count("mentions", distinct=True))
        .order_by("-n", "name")
        .values_list("name", "role", "n")
    )
    total = sum(n for _name, _role, n in rows) or 1
    return [Share(name, role, n, round(100 * n / total, 1)) for name, role, n in rows]


def top_hashtags(topic: Topic, *, limit: int = 10) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for tags in mentions_of(topic).values_list("hashtags", flat=True)[:ANALYSIS_WINDOW]:
        counts.update({fold(tag).lstrip("#") for tag in tags or ()})
    return counts.most_common(limit)


def top_terms(topic: Topic, *, limit: int = 10, min_length: int = 3) -> list[tuple[str, int]]:
    """Most frequent words of the newest matched posts (one count per post), on chorus.text's
    word boundaries, so Thai and Khmer words are counted as words too."""
    counts: Counter[str] = Counter()
    texts = mentions_of(topic).values_list("text", "language")[: ANALYSIS_WINDOW // 5]
    for text, language in texts:
        seen = {
            fold(span.text)
            for span in words(text, language)
            if span.is_word and len(span.text) >= min_length and not span.text.isdigit()
        }
        counts.update(seen)
    return counts.most_common(limit)


def breakdown(topic: Topic, field: str) -> list[tuple[str, int]]:
    """Matched posts per ``language`` or ``network``, largest first."""
    assert field in ("language", "network")
    return list(
        Mention.objects.filter(pk__in=mentions_of(topic).values("pk"))
        .values_list(field)
        .annotate(n=Count("pk"))
        .order_by("-n", field)
    )


# --------------------------------------------------------------------------- preview, health


@dataclass(frozen=True)
class Preview:
    checked: int
    matched: list[ListeningPost]
    total: int


def preview(workspace: Workspace, text: str, *, limit: int = 10) -> Preview:
    """Match ``text`` against the newest posts seen on the sources and this workspace's
    newest mentions. Raises :class:`chorus.listening.query.QueryError` with its column."""
    matcher = CompiledMatcher({"preview": parse(text)})
    seen: dict[tuple[str, str], ListeningPost] = {}
    for row in SamplePost.objects.order_by("-pk")[:PREVIEW_POSTS]:
        seen[(row.network, row.uri)] = ListeningPost(
            text=row.text,
            network=row.network,
            lang=row.language,
            author=row.author,
            links=tuple(row.links),
            hashtags=tuple(row.hashtags),
            mentions=tuple(row.mentions),
            has_media=row.has_media,
        )
    newest = Mention.objects.filter(workspace=workspace).order_by("-posted_at")
    for row in newest[:PREVIEW_POSTS]:
        seen.setdefault(
            (row.network, row.uri),
            ListeningPost.from_text(
                row.text,
                network=row.network,
                lang=row.language,
                author=row.author,
                hashtags=tuple(row.hashtags),
                has_media=row.has_media,
            ),
        )
    posts = list(seen.values())
    matched = [post for post in posts if matcher.match(post)]
    return Preview(checked=len(posts), matched=matched[:limit], total=len(matched))


def sources() -> QuerySet[Source]:
    return Source.objects.order_by("name")


def mastodon_servers() -> dict[str, str]:
    """The servers our connected Mastodon accounts live on, each with one of their access
    tokens (for servers that stream public timelines to signed-in users only)."""
    servers: dict[str, str] = {}
    accounts = SocialAccount.objects.filter(
        provider="mastodon", status=AccountStatus.ACTIVE, sandbox=False
    ).order_by("pk")
    for account in accounts:
        server = str(account.identity.get("server_url") or "")
        if server and server not in servers:
            servers[server] = account.secrets.get("access_token", "")
    return servers


def query_hashtags(query_id: int) -> set[str]:
    text = Query.objects.filter(pk=query_id).values_list("text", flat=True).first()
    try:
        return hashtags_of(parse(text)) if text else set()
    except QueryError:
        return set()


def alerts_of(workspace: Workspace, *, topic: Topic | None = None) -> QuerySet[Alert]:
    alerts = Alert.objects.filter(workspace=workspace).select_related("topic", "rule")
    if topic is not None:
        alerts = alerts.filter(topic=topic)
    return alerts.order_by("-created_at", "-pk")


def alert_rules_of(topic: Topic) -> QuerySet[AlertRule]:
    return (
        topic.alert_rules.select_related("query")
        .prefetch_related("email_members__user")
        .order_by("pk")
    )


def access_alert_rule(*, workspace: Workspace, rule_id: int) -> AlertRule:
    rule = (
        AlertRule.objects.select_related("topic", "query")
        .filter(topic__workspace=workspace, pk=rule_id)
        .first()
    )
    if rule is None:
        raise NotFound(_("No such alert rule."))
    return rule


# --------------------------------------------------------------------------- counts for other apps


def mention_counts(
    *,
    workspace_id: int,
    since: dt.datetime,
    until: dt.datetime,
    zone: dt.tzinfo,
    by: str = "day",  # "day", "network" or "role" (the matching queries' role)
) -> dict:
    """Mentions of the workspace posted in [since, until), each counted once, grouped by
    local day, network or the role of the queries they matched (brand, competitor…): what
    customer value and goals read ("mentions", "share of voice")."""
    rows = Mention.objects.filter(
        workspace_id=workspace_id, posted_at__gte=since, posted_at__lt=until
    )
    if by == "role":
        grouped = rows.values("queries__role").annotate(n=Count("id", distinct=True))
        return {r["queries__role"]: r["n"] for r in grouped if r["queries__role"]}
    if by == "network":
        return {r["network"]: r["n"] for r in rows.values("network").annotate(n=Count("id"))}
    return {day: int(n) for day, n in per_local_day(rows, "posted_at", zone, Count("id")).items()}


def share_of_voice_daily(
    *, workspace_id: int, since: dt.datetime, until: dt.datetime, zone: dt.tzinfo
) -> dict[dt.date, float]:
    """Per local day with any brand or competitor mention: the brand's share of them, in
    percent (share_of_voice's rule, over every topic of the workspace)."""
    rows = Mention.objects.filter(
        workspace_id=workspace_id,
        posted_at__gte=since,
        posted_at__lt=until,
        queries__role__in=[QueryRole.BRAND, QueryRole.COMPETITOR],
    )
    counted = per_local_day(
        rows, "posted_at", zone, Count("id", distinct=True), also="queries__role"
    )
    days: dict[dt.date, dict[str, int]] = {}
    for (day, role), n in counted.items():
        days.setdefault(day, {})[role] = int(n)
    return {
        day: round(100 * counts.get(QueryRole.BRAND, 0) / sum(counts.values()), 1)
        for day, counts in days.items()
    }


# --------------------------------------------------------------------------- boards


def boards_of(workspace: Workspace) -> QuerySet[Board]:
    return (
        Board.objects.filter(workspace=workspace)
        .annotate(mention_count=Count("items"))
        .order_by("name", "pk")
    )


def access_board(*, workspace: Workspace, board_id: int) -> Board:
    board = Board.objects.filter(workspace=workspace, pk=board_id).first()
    if board is None:
        raise NotFound(_("No such board."))
    return board


def access_mention(*, workspace: Workspace, mention_id: int) -> Mention:
    mention = Mention.objects.filter(workspace=workspace, pk=mention_id).first()
    if mention is None:
        raise NotFound(_("No such post."))
    return mention


def board_items(board: Board) -> QuerySet[BoardItem]:
    """The mentions saved to a board, newest saved first, each with its mention and saver
    (one query a page)."""
    return (
        BoardItem.objects.filter(board=board)
        .select_related("mention", "saved_by")
        .order_by("-saved_at", "-pk")
    )


def boards_holding(mentions: list[Mention]) -> dict[int, list[int]]:
    """For a page of mentions, the ids of the boards each is saved to (one query)."""
    found: dict[int, list[int]] = {}
    rows = BoardItem.objects.filter(mention_id__in=[m.pk for m in mentions]).values_list(
        "mention_id", "board_id"
    )
    for mention_id, board_id in rows:
        found.setdefault(mention_id, []).append(board_id)
    return found
