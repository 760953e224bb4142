"""API for social listening: topics, queries (checked with column-pointing errors), matched
posts, one endpoint per analysis, a query preview, and the sources' health."""

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from chorus.accounts.scopes import Scope
from chorus.api.auth import member
from chorus.api.inputs import PathId
from chorus.core.errors import ServiceError
from chorus.listening import selectors, services
from chorus.listening.models import QueryRole, TopicKind
from chorus.listening.query import MAX_QUERY_LENGTH, QueryError

router = Router(tags=["listening"])


class TopicIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    kind: TopicKind = TopicKind.BRAND
    is_active: bool = True


class TopicPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    kind: TopicKind | None = None
    is_active: bool | None = None


class TopicOut(Schema):
    id: int
    name: str
    kind: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class QueryIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    role: QueryRole = QueryRole.BRAND
    text: str = Field(..., min_length=1, max_length=MAX_QUERY_LENGTH)


class QueryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    role: QueryRole | None = None
    text: str | None = Field(None, min_length=1, max_length=MAX_QUERY_LENGTH)


class QueryOut(Schema):
    id: int
    topic_id: int
    name: str
    role: str
    text: str


class MentionOut(Schema):
    id: int
    network: str
    uri: str
    url: str
    author: str
    reach: int | None
    text: str
    language: str
    sentiment: str
    hashtags: list[str]
    links: list[str]
    has_media: bool
    posted_at: dt.datetime
    queries: list[int]

    @staticmethod
    def resolve_queries(obj) -> list[int]:
        return sorted(query.pk for query in obj.queries.all())


class MentionFilters(Schema):
    query: int | None = Field(None, ge=1, description="only posts this query matched")
    language: str = Field("", max_length=16)
    network: str = Field("", max_length=20)


class PreviewIn(Schema):
    text: str = Field(..., max_length=MAX_QUERY_LENGTH)


class PreviewPost(Schema):
    network: str
    author: str
    text: str


class PreviewOut(Schema):
    valid: bool
    error: str | None = None
    code: str | None = None
    column: int | None = None
    checked: int = 0
    matched: int = 0
    examples: list[PreviewPost] = []


class CountOut(Schema):
    key: str
    count: int


class VolumeDayOut(Schema):
    day: dt.date
    count: int


class ShareOut(Schema):
    name: str
    role: str
    mentions: int
    percent: float


class RetentionIn(Schema):
    retention_days: int = Field(..., ge=1, le=services.MAX_RETENTION_DAYS)


class RetentionOut(Schema):
    retention_days: int


class SourceOut(Schema):
    name: str
    kind: str
    state: str
    cursor: int | None
    posts_seen: int
    reconnects: int
    malformed_frames: int
    last_error: str
    last_event_at: dt.datetime | None
    events_per_second: float | None
    lag_seconds: float | None


def _topic(request, topic_id: int):
    return selectors.access_topic(workspace=request.membership.workspace, topic_id=topic_id)


@router.get("/listening/topics", response=list[TopicOut], auth=member(Scope.LISTENING_READ))
@paginate
def topic_list(request):
    return selectors.topics_of(request.membership.workspace)


@router.post("/listening/topics", response={201: TopicOut}, auth=member(Scope.LISTENING_WRITE))
def topic_create(request, payload: TopicIn):
    topic = services.topic_create(
        actor=request.membership,
        name=payload.name,
        kind=payload.kind.value,
        is_active=payload.is_active,
    )
    return Status(201, topic)


@router.get("/listening/topics/{topic_id}", response=TopicOut, auth=member(Scope.LISTENING_READ))
def topic_detail(request, topic_id: PathId):
    return _topic(request, topic_id)


@router.patch("/listening/topics/{topic_id}", response=TopicOut, auth=member(Scope.LISTENING_WRITE))
def topic_update(request, topic_id: PathId, payload: TopicPatch):
    data = payload.dict(exclude_unset=True)
    if data.get("kind") is not None:
        data["kind"] = str(getattr(data["kind"], "value", data["kind"]))
    data = {key: value for key, value in data.items() if value is not None}
    return services.topic_update(actor=request.membership, topic=_topic(request, topic_id), **data)


@router.delete(
    "/listening/topics/{topic_id}", response={204: None}, auth=member(Scope.LISTENING_WRITE)
)
def topic_delete(request, topic_id: PathId):
    services.topic_delete(actor=request.membership, topic=_topic(request, topic_id))
    return Status(204, None)


@router.get(
    "/listening/topics/{topic_id}/queries",
    response=list[QueryOut],
    auth=member(Scope.LISTENING_READ),
)
def query_list(request, topic_id: PathId):
    return list(selectors.queries_of(_topic(request, topic_id)))


@router.post(
    "/listening/topics/{topic_id}/queries",
    response={201: QueryOut},
    auth=member(Scope.LISTENING_WRITE),
)
def query_create(request, topic_id: PathId, payload: QueryIn):
    """A query that does not parse, or would match nearly everything, is refused with a 400
    whose message names the column (on the field `text`)."""
    query = services.query_create(
        actor=request.membership,
        topic=_topic(request, topic_id),
        name=payload.name,
        role=payload.role.value,
        text=payload.text,
    )
    return Status(201, query)


@router.patch(
    "/listening/queries/{query_id}", response=QueryOut, auth=member(Scope.LISTENING_WRITE)
)
def query_update(request, query_id: PathId, payload: QueryPatch):
    query = selectors.access_query(workspace=request.membership.workspace, query_id=query_id)
    data = payload.dict(exclude_unset=True)
    if data.get("role") is not None:
        data["role"] = str(getattr(data["role"], "value", data["role"]))
    data = {key: value for key, value in data.items() if value is not None}
    return services.query_update(actor=request.membership, query=query, **data)


@router.delete(
    "/listening/queries/{query_id}", response={204: None}, auth=member(Scope.LISTENING_WRITE)
)
def query_delete(request, query_id: PathId):
    query = selectors.access_query(workspace=request.membership.workspace, query_id=query_id)
    services.query_delete(actor=request.membership, query=query)
    return Status(204, None)


@router.post("/listening/preview", response=PreviewOut, auth=member(Scope.LISTENING_READ))
def query_preview(request, payload: PreviewIn):
    """Check a query and match it against the most recent posts, without saving it."""
    try:
        preview = selectors.preview(request.membership.workspace, payload.text)
    except QueryError as exc:
        return {"valid": False, "error": exc.message, "code": exc.code, "column": exc.column}
    return {
        "valid": True,
        "checked": preview.checked,
        "matched": preview.total,
        "examples": [
            {"network": p.network, "author": p.author, "text": p.text} for p in preview.matched
        ],
    }


@router.get(
    "/listening/topics/{topic_id}/mentions",
    response=list[MentionOut],
    auth=member(Scope.LISTENING_READ),
)
@paginate
def mention_list(request, topic_id: PathId, filters: Query[MentionFilters]):
    topic = _topic(request, topic_id)
    query = None
    if filters.query:
        query = selectors.access_query(
            workspace=request.membership.workspace, query_id=filters.query
        )
        if query.topic_id != topic.pk:
            raise ServiceError(_("This query belongs to another topic."), field="query")
    mentions = selectors.mentions_of(
        topic, query=query, language=filters.language, network=filters.network
    )
    return mentions.prefetch_related("queries")


@router.get(
    "/listening/topics/{topic_id}/volume",
    response=list[VolumeDayOut],
    auth=member(Scope.LISTENING_READ),
)
def topic_volume(request, topic_id: PathId, days: int = Query(30, ge=1, le=366)):
    """Matched posts per day in the workspace's time zone."""
    volume = selectors.volume_over_time(_topic(request, topic_id), days=days)
    return [{"day": day, "count": count} for day, count in volume]


@router.get(
    "/listening/topics/{topic_id}/share-of-voice",
    response=list[ShareOut],
    auth=member(Scope.LISTENING_READ),
)
def topic_share_of_voice(request, topic_id: PathId):
    return selectors.share_of_voice(_topic(request, topic_id))


@router.get(
    "/listening/topics/{topic_id}/top-hashtags",
    response=list[CountOut],
    auth=member(Scope.LISTENING_READ),
)
def topic_top_hashtags(request, topic_id: PathId):
    return [{"key": k, "count": n} for k, n in selectors.top_hashtags(_topic(request, topic_id))]


@router.get(
    "/listening/topics/{topic_id}/top-terms",
    response=list[CountOut],
    auth=member(Scope.LISTENING_READ),
)
def topic_top_terms(request, topic_id: PathId):
    return [{"key": k, "count": n} for k, n in selectors.top_terms(_topic(request, topic_id))]


@router.get(
    "/listening/topics/{topic_id}/breakdown",
    response=list[CountOut],
    auth=member(Scope.LISTENING_READ),
)
def topic_breakdown(
    request, topic_id: PathId, by: str = Query("language", pattern="^(language|network)$")
):
    """Matched posts per `language` or per `network`."""
    return [{"key": k, "count": n} for k, n in selectors.breakdown(_topic(request, topic_id), by)]


@router.get("/listening/retention", response=RetentionOut, auth=member(Scope.LISTENING_READ))
def retention_detail(request):
    return {"retention_days": selectors.retention_days(request.membership.workspace)}


@router.put("/listening/retention", response=RetentionOut, auth=member(Scope.LISTENING_WRITE))
def retention_update(request, payload: RetentionIn):
    settings = services.retention_set(actor=request.membership, days=payload.retention_days)
    return {"retention_days": settings.retention_days}


@router.get("/listening/sources", response=list[SourceOut], auth=member(Scope.LISTENING_READ))
def source_list(request):
    """The consumers' health: state, cursor, reconnects, malformed frames, last error."""
    return list(selectors.sources())
