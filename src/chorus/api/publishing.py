"""API for posts: compose, validate, schedule, queue, retry, import, campaigns, on-time record."""

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Literal

from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import NinjaJSONEncoder

from chorus.accounts import idempotency
from chorus.accounts.scopes import Scope
from chorus.api.auth import WORKSPACE_TIME, member
from chorus.api.inputs import Day, Moment, PathId, RefId, TimeOfDay
from chorus.core.errors import ServiceError
from chorus.core.uploads import upload_limit_megabytes, upload_too_large
from chorus.networks import selectors as network_selectors
from chorus.publishing import campaigns, imports, media, selectors, services
from chorus.publishing.validation import part_lengths

router = Router(tags=["publishing"])


class PollIn(Schema):
    options: list[str] = Field(..., min_length=2, max_length=10)
    expires_in: int = Field(86400, ge=300, le=30 * 86400)
    multiple: bool = False


class VariantIn(Schema):
    """One account's version; empty fields fall back to the post's shared ones."""

    account: RefId
    text: str | None = None
    thread: list[str] | None = None
    first_comment: str | None = None
    link: str | None = None
    content_warning: str | None = None
    poll: PollIn | None = None
    media: list[RefId] = []
    language: str = Field("", description="ISO 639-1 code; blank: detected from the text")


class PostIn(Schema):
    accounts: list[RefId] = Field(..., min_length=1)
    text: str = ""
    thread: list[str] = []
    first_comment: str = ""
    link: str = ""
    content_warning: str = ""
    campaign: RefId | None = None
    variants: list[VariantIn] = []
    schedule: Literal["draft", "at", "now", "queue"] = "draft"
    scheduled_at: Moment | None = Field(None, description=WORKSPACE_TIME)
    repeat_every_days: int | None = Field(None, ge=1, le=365)
    repeat_until: Moment | None = Field(None, description=WORKSPACE_TIME)


class ScheduleIn(Schema):
    scheduled_at: Moment = Field(..., description=WORKSPACE_TIME)


class VariantOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    text: str
    thread: list[str]
    first_comment: str
    link: str
    content_warning: str
    language: str
    poll: dict | None
    status: str
    scheduled_at: dt.datetime | None
    claimed_at: dt.datetime | None
    published_at: dt.datetime | None
    lateness_seconds: float | None
    remote_id: str
    remote_url: str
    attempts: int
    last_error: str

    @staticmethod
    def resolve_lateness_seconds(obj) -> float | None:
        return selectors.lateness_seconds(obj)


class PostOut(Schema):
    id: int
    state: str
    author: str = Field(..., alias="author.email")
    campaign: int | None = Field(None, alias="campaign_id")
    scheduled_at: dt.datetime | None
    via_queue: bool
    repeat_every_days: int | None
    approval_status: str  # "" (not needed), pending, approved, rejected, expired
    approval_round: int
    approval_step: int
    created_at: dt.datetime
    updated_at: dt.datetime
    variants: list[VariantOut]

    @staticmethod
    def resolve_variants(obj) -> list:
        return list(obj.variants.all())


class ProblemOut(Schema):
    field: str
    message: str


class LengthOut(Schema):
    count: int
    limit: int
    remaining: int
    over: bool


class ValidationOut(Schema):
    account: int
    network: str
    lengths: list[LengthOut]
    problems: list[ProblemOut]


class RowOut(Schema):
    line: int
    account: str
    scheduled_at: str
    errors: list[str]


class ImportOut(Schema):
    ok: bool
    committed: bool
    post_ids: list[int]
    rows: list[RowOut]


class CampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = ""
    colour: str = Field("#3b5bdb", pattern=r"^#[0-9a-fA-F]{6}$")
    starts_on: Day | None = None
    ends_on: Day | None = None
    reason: str = Field("", max_length=4000, description="why: what the business wants from it")
    audience: str = Field("", max_length=4000, description="who it is for")
    budget_amount: Decimal | None = Field(None, ge=0, le=Decimal("999999999999"))
    budget_currency: str = Field("", max_length=3, description="ISO 4217, with an amount")
    owner_id: int | None = Field(None, description="the member who hears about at-risk goals")


class CampaignOut(CampaignIn):
    id: int


class SlotIn(Schema):
    weekday: int = Field(..., ge=0, le=6)
    time: TimeOfDay


class OnTimeOut(Schema):
    group: str
    published: int
    p50: float
    p90: float
    p99: float
    worst: float


class MediaOut(Schema):
    id: int
    mime_type: str
    size: int
    width: int | None
    height: int | None
    alt_text: str
    created_at: dt.datetime


class PostFilters(Schema):
    start: Moment | None = Field(None, description=WORKSPACE_TIME)
    end: Moment | None = Field(None, description=WORKSPACE_TIME)
    account: list[RefId] | None = None
    campaign: RefId | None = None
    status: list[str] | None = None
    author: RefId | None = None


def _inputs(payload: PostIn) -> list[services.VariantInput]:
    overrides = {v.account: v for v in payload.variants}
    inputs = []
    for account_id in payload.accounts:
        own = overrides.get(account_id)

        def pick(name, own=own):
            value = getattr(own, name) if own else None
            return getattr(payload, name) if value is None else value

        inputs.append(
            services.VariantInput(
                account_id=account_id,
                text=pick("text"),
                thread=list(pick("thread")),
                first_comment=pick("first_comment"),
                link=pick("link"),
                content_warning=pick("content_warning"),
                poll=own.poll.dict() if own and own.poll else None,
                media=[(asset, "") for asset in (own.media if own else [])],
                language=own.language.strip() if own else "",
            )
        )
    return inputs


def _apply_schedule(request, post, payload: PostIn):
    actor = request.membership
    if payload.repeat_every_days:
        repeat_until = _aware(payload.repeat_until) if payload.repeat_until else None
        services.post_set_repeat(
            actor=actor, post=post, every_days=payload.repeat_every_days, until=repeat_until
        )
    if payload.schedule == "now":
        return services.post_publish_now(actor=actor, post=post)
    if payload.schedule == "queue":
        return services.post_add_to_queue(actor=actor, post=post)
    if payload.schedule == "at":
        if payload.scheduled_at is None:
            raise services.ServiceError("scheduled_at is required.", field="scheduled_at")
        return services.post_schedule(actor=actor, post=post, at=_aware(payload.scheduled_at))
    return post


def _aware(moment: dt.datetime) -> dt.datetime:
    """A time without an offset is read in the workspace's zone (made active by api.auth)."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _reload(request, post):
    return selectors.access_post(membership=request.membership, post_id=post.pk)


@router.get("/posts", response=list[PostOut], auth=member(Scope.POSTS_READ))
@paginate
def post_list(request, filters: Query[PostFilters]):
    return selectors.posts_of(
        request.membership,
        start=filters.start,
        end=filters.end,
        account_ids=filters.account,
        campaign_id=filters.campaign,
        statuses=filters.status,
        author_id=filters.author,
    )


@router.post("/posts", response={201: PostOut}, auth=member(Scope.POSTS_WRITE))
def post_create(
    request,
    payload: PostIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="A unique value per intended post: a retry with the same key and body "
        "returns the first response instead of creating a second post (24 hours).",
    ),
):
    membership = request.membership
    if idempotency_key:
        request_hash = hashlib.sha256(request.method.encode() + request.body).hexdigest()
        replay = idempotency.idempotency_begin(
            membership=membership, key=idempotency_key, request_hash=request_hash
        )
        if replay:
            response = JsonResponse(replay.body, status=replay.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
    try:
        post = services.post_save(
            actor=membership, variants=_inputs(payload), campaign_id=payload.campaign
        )
        post = _reload(request, _apply_schedule(request, post, payload))
    except BaseException:
        if idempotency_key:
            idempotency.idempotency_release(membership=membership, key=idempotency_key)
        raise
    if idempotency_key:
        body = json.loads(json.dumps(PostOut.from_orm(post).model_dump(), cls=NinjaJSONEncoder))
        idempotency.idempotency_finish(
            membership=membership, key=idempotency_key, status_code=201, body=body
        )
    return Status(201, post)


@router.post("/posts/validate", response=list[ValidationOut], auth=member(Scope.POSTS_READ))
def post_validate(request, payload: PostIn):
    """Live validation: each account's lengths (counted as its network counts) and problems."""
    inputs = _inputs(payload)
    accounts = {
        a.pk: a
        for a in network_selectors.accounts_usable_by(request.membership).filter(
            pk__in=payload.accounts
        )
    }
    known = [item for item in inputs if item.account_id in accounts]
    problems = services.problems_of(known, accounts, services._assets(request.membership, known))
    return [
        {
            "account": item.account_id,
            "network": accounts[item.account_id].provider,
            "lengths": part_lengths(
                accounts[item.account_id].provider,
                _parts(item),
                account=accounts[item.account_id],
                content_warning=item.content_warning,
                warned=1 + len(item.thread),
                with_media=bool(item.media),
            ),
            "problems": problems.get(item.account_id, []),
        }
        for item in known
    ]


def _parts(item: services.VariantInput) -> list[str]:
    return [item.text, *item.thread, *([item.first_comment] if item.first_comment else [])]


@router.post("/posts/import", response=ImportOut, auth=member(Scope.POSTS_WRITE))
def post_import(request, file: File[UploadedFile], commit: bool = False):
    """Check a CSV (and with commit=true schedule it, only if every row passes)."""
    report = imports.posts_import_csv(actor=request.membership, data=file.read(), commit=commit)
    return {
        "ok": report.ok,
        "committed": report.committed,
        "post_ids": report.post_ids,
        "rows": report.rows,
    }


@router.post("/media", response={201: MediaOut}, auth=member(Scope.POSTS_WRITE))
def media_upload(request, file: File[UploadedFile | None] = None, alt_text: Form[str] = ""):
    """Add an image or video to the media library (multipart `file`); attach it by id.

    The type is read from the content: JPEG, PNG, GIF, WebP, AVIF images (stored
    re-encoded, without metadata) and MP4, MOV, WebM videos; anything else, files over the
    networks' size limits, images over the pixel limit and uploads past the workspace's
    quota are refused with 422 and a message naming `file`.
    """
    try:
        if upload_too_large(request, "file"):
            raise ServiceError(
                _("This file is larger than %(limit)s MB, more than any network takes.")
                % {"limit": upload_limit_megabytes()},
                code="too_large",
            )
        asset = media.media_asset_create(actor=request.membership, upload=file, alt_text=alt_text)
    except ServiceError as exc:
        if exc.field in (None, "upload"):
            exc.field = "file"
        if exc.status == 400:
            exc.status = 422
        raise
    return Status(201, asset)


@router.get("/posts/{post_id}", response=PostOut, auth=member(Scope.POSTS_READ))
def post_detail(request, post_id: PathId):
    return selectors.access_post(membership=request.membership, post_id=post_id)


@router.put("/posts/{post_id}", response=PostOut, auth=member(Scope.POSTS_WRITE))
def post_update(request, post_id: PathId, payload: PostIn):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    post = services.post_save(
        actor=request.membership,
        post=post,
        variants=_inputs(payload),
        campaign_id=payload.campaign,
    )
    return _reload(request, _apply_schedule(request, post, payload))


@router.delete("/posts/{post_id}", response={204: None}, auth=member(Scope.POSTS_WRITE))
def post_delete(request, post_id: PathId):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    services.post_delete(actor=request.membership, post=post)
    return Status(204, None)


@router.post("/posts/{post_id}/schedule", response=PostOut, auth=member(Scope.POSTS_WRITE))
def post_schedule(request, post_id: PathId, payload: ScheduleIn):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    post = services.post_schedule(
        actor=request.membership, post=post, at=_aware(payload.scheduled_at)
    )
    return _reload(request, post)


@router.post("/posts/{post_id}/publish-now", response=PostOut, auth=member(Scope.POSTS_WRITE))
def post_publish_now(request, post_id: PathId):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    return _reload(request, services.post_publish_now(actor=request.membership, post=post))


@router.post("/posts/{post_id}/queue", response=PostOut, auth=member(Scope.POSTS_WRITE))
def post_queue(request, post_id: PathId):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    return _reload(request, services.post_add_to_queue(actor=request.membership, post=post))


@router.post("/posts/{post_id}/unschedule", response=PostOut, auth=member(Scope.POSTS_WRITE))
def post_unschedule(request, post_id: PathId):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    return _reload(request, services.post_unschedule(actor=request.membership, post=post))


@router.post("/posts/{post_id}/cancel", response=PostOut, auth=member(Scope.POSTS_WRITE))
def post_cancel(request, post_id: PathId):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    return _reload(request, services.post_cancel(actor=request.membership, post=post))


@router.post("/posts/{post_id}/duplicate", response={201: PostOut}, auth=member(Scope.POSTS_WRITE))
def post_duplicate(request, post_id: PathId):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    copy = services.post_duplicate(actor=request.membership, post=post)
    return Status(201, _reload(request, copy))


@router.post("/variants/{variant_id}/retry", response=VariantOut, auth=member(Scope.POSTS_WRITE))
def variant_retry(request, variant_id: PathId):
    variant = selectors.access_variant(membership=request.membership, variant_id=variant_id)
    return services.variant_retry(actor=request.membership, variant=variant)


@router.post(
    "/variants/{variant_id}/delete-remote", response=VariantOut, auth=member(Scope.POSTS_WRITE)
)
def variant_delete_remote(request, variant_id: PathId):
    variant = selectors.access_variant(membership=request.membership, variant_id=variant_id)
    return services.variant_delete_remote(actor=request.membership, variant=variant)


@router.get("/campaigns", response=list[CampaignOut], auth=member(Scope.POSTS_READ))
@paginate
def campaign_list(request):
    return selectors.campaigns_of(request.membership)


@router.post("/campaigns", response={201: CampaignOut}, auth=member(Scope.POSTS_WRITE))
def campaign_create(request, payload: CampaignIn):
    return Status(201, campaigns.campaign_save(actor=request.membership, **payload.dict()))


@router.put("/campaigns/{campaign_id}", response=CampaignOut, auth=member(Scope.POSTS_WRITE))
def campaign_update(request, campaign_id: PathId, payload: CampaignIn):
    campaign = selectors.access_campaign(membership=request.membership, campaign_id=campaign_id)
    return campaigns.campaign_save(actor=request.membership, campaign=campaign, **payload.dict())


@router.get(
    "/social-accounts/{account_id}/slots", response=list[SlotIn], auth=member(Scope.POSTS_READ)
)
def slot_list(request, account_id: PathId):
    account = network_selectors.access_account(membership=request.membership, account_id=account_id)
    return list(account.slots.all())


@router.put(
    "/social-accounts/{account_id}/slots", response=list[SlotIn], auth=member(Scope.POSTS_WRITE)
)
def slot_set(request, account_id: PathId, payload: list[SlotIn]):
    account = network_selectors.access_account(membership=request.membership, account_id=account_id)
    return campaigns.queue_slots_set(
        actor=request.membership, account=account, slots=[(s.weekday, s.time) for s in payload]
    )


@router.get("/on-time", response=list[OnTimeOut], auth=member(Scope.POSTS_READ))
def on_time(request, by: Literal["account", "network"] = "account"):
    """Lateness of published posts over 30 days: p50/p90/p99/max seconds."""
    return selectors.on_time_record(request.membership, by=by)
