"""Every write of listening: topics and queries (checked and audited), ingesting posts from
the sources (matched once per set of queries, stored once per workspace), retention."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
from dataclasses import dataclass

import httpx
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import Conflict, ServiceError
from chorus.governance.audit import audit_record, snapshot
from chorus.governance.models import AuditAction
from chorus.networks import http as network_http
from chorus.text import sentiment_of

from .matcher import CompiledMatcher, ListeningPost
from .models import (
    DEFAULT_RETENTION_DAYS,
    Mention,
    Query,
    QueryRole,
    SamplePost,
    Settings,
    Source,
    SourceState,
    Topic,
    TopicKind,
)
from .query import QueryError, hashtags_of, parse

log = logging.getLogger(__name__)

SAMPLE_SIZE = 5000  # newest posts kept for previews
MAX_RETENTION_DAYS = 3650
MAX_QUERIES_PER_TOPIC = 100


# --------------------------------------------------------------------------- topics, queries


def check_query(text: str) -> None:
    """Raise a ServiceError on the ``text`` field with the parser's message and column."""
    try:
        parse(text)
    except QueryError as exc:
        raise ServiceError(exc.message, code=exc.code, field="text") from exc


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Give it a name."), field="name")
    if len(name) > 120:
        raise ServiceError(_("A name holds at most 120 characters."), field="name")
    return name


def _audit(actor: Membership, target, before: dict | None, after: dict | None) -> None:
    # Listening changes are workspace configuration; they go to the workspace's chain.
    audit_record(
        action=AuditAction.WORKSPACE_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=target,
        changes={"before": before, "after": after},
    )


_TOPIC_FIELDS = ["name", "kind", "is_active"]
_QUERY_FIELDS = ["name", "role", "text"]


def _unique_topic_name(actor: Membership, name: str, topic: Topic | None = None) -> None:
    others = Topic.objects.filter(workspace=actor.workspace, name=name)
    if topic is not None:
        others = others.exclude(pk=topic.pk)
    if others.exists():
        raise Conflict(_("A topic with this name already exists."), field="name")


@transaction.atomic
def topic_create(
    *, actor: Membership, name: str, kind: str = TopicKind.BRAND, is_active: bool = True
) -> Topic:
    check_capability(actor, Capability.MANAGE_LISTENING)
    name = _clean_name(name)
    if kind not in TopicKind.values:
        raise ServiceError(_("Choose a kind of topic."), field="kind")
    _unique_topic_name(actor, name)
    topic = Topic.objects.create(
        workspace=actor.workspace, name=name, kind=kind, is_active=is_active, created_by=actor.user
    )
    _audit(actor, topic, None, snapshot(topic, _TOPIC_FIELDS))
    return topic


@transaction.atomic
def topic_update(
    *,
    actor: Membership,
    topic: Topic,
    name: str | None = None,
    kind: str | None = None,
    is_active: bool | None = None,
) -> Topic:
    check_capability(actor, Capability.MANAGE_LISTENING)
    before = snapshot(topic, _TOPIC_FIELDS)
    if name is not None:
        topic.name = _clean_name(name)
        _unique_topic_name(actor, topic.name, topic)
    if kind is not None:
        if kind not in TopicKind.values:
            raise ServiceError(_("Choose a kind of topic."), field="kind")
        topic.kind = kind
    if is_active is not None:
        topic.is_active = is_active
    topic.save()
    _audit(actor, topic, before, snapshot(topic, _TOPIC_FIELDS))
    return topic


@transaction.atomic
def topic_delete(*, actor: Membership, topic: Topic) -> None:
    check_capability(actor, Capability.MANAGE_LISTENING)
    _audit(actor, topic, snapshot(topic, _TOPIC_FIELDS), None)
    topic.delete()
    _drop_orphan_mentions(topic.workspace_id)


def _drop_orphan_mentions(workspace_id: int) -> None:
    """A mention no remaining query matched is no longer anyone's mention (unless a member
    saved it to a board)."""
    Mention.objects.filter(
        workspace_id=workspace_id, queries__isnull=True, board_items__isnull=True
    ).delete()


def _check_query_fields(name: str, role: str, text: str) -> tuple[str, str, str]:
    name = _clean_name(name)
    if role not in QueryRole.values:
        raise ServiceError(_("Choose what the query stands for."), field="role")
    text = (text or "").strip()
    check_query(text)
    return name, role, text


@transaction.atomic
def query_create(
    *, actor: Membership, topic: Topic, name: str, text: str, role: str = QueryRole.BRAND
) -> Query:
    check_capability(actor, Capability.MANAGE_LISTENING)
    name, role, text = _check_query_fields(name, role, text)
    if topic.queries.count() >= MAX_QUERIES_PER_TOPIC:
        raise ServiceError(
            _("A topic holds at most %(count)s queries.") % {"count": MAX_QUERIES_PER_TOPIC}
        )
    query = Query.objects.create(topic=topic, name=name, role=role, text=text)
    _audit(actor, query, None, snapshot(query, _QUERY_FIELDS))
    Topic.objects.filter(pk=topic.pk).update(updated_at=timezone.now())
    _backfill_after_commit(query)
    return query


def _backfill_after_commit(query: Query) -> None:
    """A query with hashtags gets their recent posts from the Mastodon tag timelines."""
    if hashtags_of(parse(query.text)):
        from . import tasks

        transaction.on_commit(lambda: tasks.backfill_hashtags(query.pk))


@transaction.atomic
def query_update(
    *,
    actor: Membership,
    query: Query,
    name: str | None = None,
    text: str | None = None,
    role: str | None = None,
) -> Query:
    check_capability(actor, Capability.MANAGE_LISTENING)
    before = snapshot(query, _QUERY_FIELDS)
    query.name, query.role, query.text = _check_query_fields(
        query.name if name is None else name,
        query.role if role is None else role,
        query.text if text is None else text,
    )
    query.save()
    _audit(actor, query, before, snapshot(query, _QUERY_FIELDS))
    if query.text != before["text"]:
        _backfill_after_commit(query)
    return query


@transaction.atomic
def query_delete(*, actor: Membership, query: Query) -> None:
    check_capability(actor, Capability.MANAGE_LISTENING)
    workspace_id = query.topic.workspace_id
    _audit(actor, query, snapshot(query, _QUERY_FIELDS), None)
    query.delete()
    Topic.objects.filter(pk=query.topic_id).update(updated_at=timezone.now())
    _drop_orphan_mentions(workspace_id)


def retention_set(*, actor: Membership, days: int) -> Settings:
    check_capability(actor, Capability.MANAGE_LISTENING)
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise ServiceError(
            _("Keep matched posts between 1 and %(days)s days.") % {"days": MAX_RETENTION_DAYS},
            field="retention_days",
        )
    settings, _created = Settings.objects.get_or_create(
        workspace=actor.workspace, defaults={"retention_days": days}
    )
    before = settings.retention_days
    settings.retention_days = days
    settings.save()
    _audit(actor, settings_target(actor), {"retention_days": before}, {"retention_days": days})
    return settings


def settings_target(actor: Membership) -> tuple[str, int, str]:
    return ("listening.settings", actor.workspace_id, "Listening retention")


# --------------------------------------------------------------------------- ingesting


@dataclass(frozen=True)
class IncomingPost:
    """A post as a source hands it over: what queries look at, plus where it lives."""

    post: ListeningPost
    uri: str
    posted_at: dt.datetime
    url: str = ""
    author_followers: int | None = None


# Below this many queries a full collection walks too little of the matcher to be worth the
# collection that freezing it costs.
FREEZE_FROM_QUERIES = 1000


class _MatcherCache:
    """One compiled matcher for every active query of every workspace, rebuilt only when a
    topic or query changed (a cheap aggregate per batch tells)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._matcher: CompiledMatcher | None = None
        self._workspaces: dict[int, int] = {}

    def get(self) -> tuple[CompiledMatcher, dict[int, int]]:
        queries = Query.objects.aggregate(n=Count("pk"), t=Max("updated_at"))
        topics = Topic.objects.aggregate(n=Count("pk"), t=Max("updated_at"))
        version = (queries["n"], queries["t"], topics["n"], topics["t"])
        with self._lock:
            if self._matcher is None or version != self._version:
                active = Query.objects.filter(topic__is_active=True)
                rows = list(active.values_list("pk", "text", "topic__workspace_id"))
                queries = {}
                for pk, text, _workspace in rows:
                    try:
                        queries[pk] = parse(text)
                    except QueryError:
                        continue  # saved before a parser change; shown as invalid on its page
                self._matcher = CompiledMatcher(queries)
                self._workspaces = {pk: workspace for pk, _text, workspace in rows}
                self._version = version
                if len(queries) >= FREEZE_FROM_QUERIES:
                    _freeze_long_lived()
            return self._matcher, self._workspaces


def _freeze_long_lived() -> None:
    """Move what is alive now (the matcher just built, Django's state) out of the cyclic
    collector's reach. A compiled set of thousands of queries is hundreds of thousands of
    objects the collector would otherwise walk on every full collection, pausing the stream
    (bench/listening.py); the previous matcher is unfrozen first so it can be freed. This
    runs only when a query or topic changed, and only for a set large enough to matter."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


matchers = _MatcherCache()


def _keep_sample(posts: list[IncomingPost]) -> None:
    SamplePost.objects.bulk_create(
        SamplePost(
            network=item.post.network,
            uri=item.uri[:500],
            author=item.post.author[:255],
            text=item.post.text,
            language=item.post.lang[:16],
            hashtags=list(item.post.hashtags),
            mentions=list(item.post.mentions),
            links=list(item.post.links),
            has_media=item.post.has_media,
            posted_at=item.posted_at,
        )
        for item in posts[-SAMPLE_SIZE:]
    )
    newest = SamplePost.objects.aggregate(m=Max("pk"))["m"] or 0
    SamplePost.objects.filter(pk__lte=newest - SAMPLE_SIZE).delete()


def ingest(posts: list[IncomingPost]) -> int:
    """Match a batch of posts against every active query and store the matches; returns how
    many mentions were stored. A post already stored for a workspace (a source replaying
    after a reconnect) gains the new queries it matched and is not counted again."""
    if not posts:
        return 0
    _keep_sample(posts)
    matcher, workspaces = matchers.get()
    if not len(matcher):
        return 0
    stored = 0
    matched: set[int] = set()
    for item in posts:
        by_workspace: dict[int, list[int]] = {}
        for query_id in matcher.match(item.post):
            by_workspace.setdefault(workspaces[query_id], []).append(query_id)
        sentiment = sentiment_of(item.post.text, item.post.lang) if by_workspace else ""
        for workspace_id, query_ids in by_workspace.items():
            stored += _store(workspace_id, item, query_ids, sentiment)
            matched.update(query_ids)
    if stored:
        _check_alerts(matched)
    return stored


def _check_alerts(query_ids: set[int]) -> None:
    """Alerts fire as the spike's posts arrive, not only on the minute task; a failure here
    must not lose the batch, which is already stored."""
    from . import alerts

    try:
        alerts.check_ingested(query_ids)
    except Exception:
        log.exception("listening alerts check after ingest failed")


def _store(workspace_id: int, item: IncomingPost, query_ids: list[int], sentiment: str) -> int:
    post = item.post
    fields = {
        "url": item.url[:500],
        "author": post.author[:255],
        "author_followers": item.author_followers,
        "text": post.text,
        "language": post.lang[:16],
        "sentiment": sentiment,
        "hashtags": list(post.hashtags),
        "links": list(post.links),
        "has_media": post.has_media,
        "posted_at": item.posted_at,
    }
    try:
        with transaction.atomic():
            mention, created = Mention.objects.get_or_create(
                workspace_id=workspace_id,
                network=post.network,
                uri=item.uri[:500],
                defaults=fields,
            )
    except IntegrityError:  # another consumer stored it first
        mention = Mention.objects.get(
            workspace_id=workspace_id, network=post.network, uri=item.uri[:500]
        )
        created = False
    mention.queries.add(*query_ids)
    return int(created)


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete matched posts older than each workspace's retention, except those saved to a
    board; returns how many."""
    now = now or timezone.now()
    deleted = 0
    custom = dict(Settings.objects.values_list("workspace_id", "retention_days"))
    unsaved = Mention.objects.filter(board_items__isnull=True)
    for workspace_id, days in custom.items():
        expired = unsaved.filter(
            workspace_id=workspace_id, posted_at__lt=now - dt.timedelta(days=days)
        )
        deleted += expired.delete()[1].get("listening.Mention", 0)
    expired = unsaved.exclude(workspace_id__in=custom).filter(
        posted_at__lt=now - dt.timedelta(days=DEFAULT_RETENTION_DAYS)
    )
    deleted += expired.delete()[1].get("listening.Mention", 0)
    return deleted


# --------------------------------------------------------------------------- sources


def source_register(*, name: str, kind: str, url: str) -> Source:
    """The row a consumer reports to; an existing one keeps its cursor (resume)."""
    source, _created = Source.objects.get_or_create(name=name, defaults={"kind": kind, "url": url})
    Source.objects.filter(pk=source.pk).update(
        kind=kind, url=url, state=SourceState.CONNECTING, updated_at=timezone.now()
    )
    source.refresh_from_db()
    return source


def source_connected(*, source_id: int) -> None:
    Source.objects.filter(pk=source_id).update(
        state=SourceState.CONNECTED, updated_at=timezone.now()
    )


def source_retrying(*, source_id: int, error: str) -> None:
    Source.objects.filter(pk=source_id).update(
        state=SourceState.RETRYING,
        last_error=error[:2000],
        reconnects=F("reconnects") + 1,
        updated_at=timezone.now(),
    )


def source_stopped(*, source_id: int) -> None:
    Source.objects.filter(pk=source_id).update(state=SourceState.STOPPED, updated_at=timezone.now())


@transaction.atomic
def source_batch(
    *,
    source_id: int,
    posts: list[IncomingPost],
    cursor: int | None,
    frames: int = 0,
    malformed: int = 0,
    error: str = "",
    seconds: float = 0.0,
    store: bool = True,
) -> int:
    """Store a batch and move the source's cursor in one transaction: if either fails,
    neither happened, so a restart replays exactly the batch (no gap); a post replayed
    twice is stored once (no double count). ``store=False``: the posts went to the broker
    (chorus.listening.pipeline), only the cursor and the health move. ``seconds`` is how
    long the batch took to gather (events per second); the lag is how old its newest post is.
    """
    stored = ingest(posts) if store else 0
    now = timezone.now()
    changes: dict = {
        "posts_seen": F("posts_seen") + len(posts),
        "malformed_frames": F("malformed_frames") + malformed,
        "updated_at": now,
    }
    if frames:
        changes["last_event_at"] = now
    if seconds > 0:
        changes["events_per_second"] = frames / seconds
    if posts:
        newest = max(item.posted_at for item in posts)
        changes["lag_seconds"] = max(0.0, (now - newest).total_seconds())
    if cursor is not None:
        changes["cursor"] = cursor
    if error:
        changes["last_error"] = error[:2000]
    Source.objects.filter(pk=source_id).update(**changes)
    return stored


# --------------------------------------------------------------------------- reach

PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles takes at most 25 actors
ENRICH_WINDOW = dt.timedelta(hours=1)


def mentions_enrich(*, appview_url: str, calls: int = 4) -> int:
    """Fill in reach (followers) and the handle of recent Bluesky mentions' authors from an
    AppView's ``app.bsky.actor.getProfiles``
    (https://docs.bsky.app/docs/api/app-bsky-actor-get-profiles); the firehose carries
    neither. Returns how many mentions were updated; a failing AppView is logged and tried
    again on the next round."""
    recent = Mention.objects.filter(
        network="bluesky",
        author_followers__isnull=True,
        received_at__gte=timezone.now() - ENRICH_WINDOW,
    )
    dids = list(
        dict.fromkeys(uri.split("/")[2] for uri in recent.values_list("uri", flat=True)[:2000])
    )[: PROFILES_PER_CALL * calls]
    updated = 0
    with network_http.client() as http:
        for start in range(0, len(dids), PROFILES_PER_CALL):
            chunk = dids[start : start + PROFILES_PER_CALL]
            try:
                response = http.get(
                    appview_url.rstrip("/") + "/xrpc/app.bsky.actor.getProfiles",
                    params=[("actors", did) for did in chunk],
                )
                response.raise_for_status()
                profiles = response.json().get("profiles") or []
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("listening: profiles from %s failed: %s", appview_url, exc)
                return updated
            for profile in profiles:
                if not isinstance(profile, dict) or not isinstance(profile.get("did"), str):
                    continue
                changes = {"author_followers": max(0, int(profile.get("followersCount") or 0))}
                handle = profile.get("handle")
                if isinstance(handle, str) and handle != "handle.invalid":
                    changes["author"] = handle[:255]
                updated += recent.filter(uri__startswith=f"at://{profile['did']}/").update(
                    **changes
                )
    return updated
