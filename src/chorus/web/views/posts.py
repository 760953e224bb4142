"""A post's page and what can be done to it: unschedule, cancel, duplicate, delete, retry, move."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.networks.providers import get_provider
from chorus.publishing import selectors, services
from chorus.publishing.models import (
    Post,
    PostState,
    Variant,
    VariantStatus,
)
from chorus.publishing.services import EDITABLE, RETRYABLE, InvalidPost
from chorus.web.views.common import member_required
from chorus.web.views.composer import is_editable
from chorus.web.views.timeinput import local_to_utc, parse_day, parse_time, zone_name

STATUS_NOTES = {
    VariantStatus.DRAFT: gettext_lazy("Not scheduled yet."),
    VariantStatus.SCHEDULED: gettext_lazy("Waiting for its time; it goes out on its own."),
    VariantStatus.PUBLISHING: gettext_lazy("Being sent to the network right now."),
    VariantStatus.PUBLISHED: gettext_lazy("Out on the network."),
    VariantStatus.FAILED: gettext_lazy("The network did not take it."),
    VariantStatus.NEEDS_RECONNECT: gettext_lazy(
        "The account must be reconnected; the post is kept and goes out once it is."
    ),
    VariantStatus.HELD: gettext_lazy("Held back; nothing was sent."),
    VariantStatus.CANCELLED: gettext_lazy("Cancelled; it will not go out."),
    VariantStatus.DELETED: gettext_lazy("Was published, then deleted from the network."),
}


def status_label(variant: Variant) -> str:
    if variant.status == VariantStatus.SCHEDULED and variant.post.via_queue:
        return _("Queued")
    return variant.get_status_display()


# Which variant status speaks for a post with several (the one needing attention first).
STATUS_PRIORITY = [
    VariantStatus.FAILED,
    VariantStatus.NEEDS_RECONNECT,
    VariantStatus.HELD,
    VariantStatus.PUBLISHING,
    VariantStatus.SCHEDULED,
    VariantStatus.DRAFT,
    VariantStatus.PUBLISHED,
    VariantStatus.DELETED,
    VariantStatus.CANCELLED,
]


# A post due within this long (or being sent) updates its page live until it is out.
LIVE_AHEAD = dt.timedelta(minutes=1)


def post_status(post: Post) -> tuple[str, str]:
    """(status value, label) summing up a post's variants."""
    statuses = {v.status for v in post.variants.all()}
    if post.state == PostState.CANCELLED and not statuses & {
        VariantStatus.PUBLISHED,
        VariantStatus.PUBLISHING,
    }:
        return VariantStatus.CANCELLED, VariantStatus.CANCELLED.label
    if post.state in (PostState.PENDING_APPROVAL, PostState.REJECTED) and not statuses & {
        VariantStatus.PUBLISHED,
        VariantStatus.PUBLISHING,
    }:
        return post.state, PostState(post.state).label
    for status in STATUS_PRIORITY:
        if status in statuses:
            if status == VariantStatus.SCHEDULED and post.via_queue:
                return "queued", _("Queued")
            return status, VariantStatus(status).label
    return VariantStatus.DRAFT, VariantStatus.DRAFT.label


def is_movable(post: Post) -> bool:
    return post.state in (PostState.DRAFT, PostState.SCHEDULED) and all(
        v.status in EDITABLE - {VariantStatus.CANCELLED} for v in post.variants.all()
    )


@member_required()
@require_GET
def post_detail(request, post_id: int):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    membership = request.membership
    variants = list(
        post.variants.select_related("account")
        .prefetch_related("attempts_log", "variantmedia_set__asset")
        .order_by("pk")
    )
    rows = []
    for v in variants:
        v.post = post
        rows.append(
            {
                "variant": v,
                "label": status_label(v),
                "note": _("Waiting for approval; it is not armed until approved.")
                if post.state == PostState.PENDING_APPROVAL and v.status == VariantStatus.DRAFT
                else STATUS_NOTES.get(v.status, ""),
                "lateness": selectors.lateness_seconds(v),
                "attempts": sorted(v.attempts_log.all(), key=lambda a: a.number),
                "retryable": v.status in RETRYABLE,
                "network": get_provider(v.account.provider).name,
                "media": list(v.variantmedia_set.all()),
            }
        )
    statuses = {v.status for v in variants}
    soon = timezone.now() + LIVE_AHEAD
    live = any(
        v.status == VariantStatus.PUBLISHING
        or (v.status == VariantStatus.SCHEDULED and v.due_at and v.due_at <= soon)
        for v in variants
    )
    can_create = role_can(membership.role, Capability.CREATE_POSTS)
    can_publish = role_can(membership.role, Capability.PUBLISH_POSTS)
    status, label = post_status(post)
    from chorus.web.views.approvals import approval_context

    return render(
        request,
        "publishing/post_detail.html",
        {
            **approval_context(post, membership),
            "post": post,
            "rows": rows,
            "status": status,
            "status_label": label,
            "live": live,
            "zone_name": zone_name(),
            "can_create": can_create,
            "can_publish": can_publish,
            "can_edit": can_create and is_editable(post),
            "can_unschedule": can_create
            and bool(statuses & (RETRYABLE | {VariantStatus.SCHEDULED})),
            "can_cancel": can_create
            and post.state != PostState.CANCELLED
            and bool(statuses & (EDITABLE - {VariantStatus.CANCELLED})),
            "can_delete": can_create
            and not statuses & {VariantStatus.PUBLISHING, VariantStatus.PUBLISHED},
        },
    )


def _service_call(request, post_id: int, call, done: str, *, to_detail=True):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    try:
        result = call(actor=request.membership, post=post)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("post_detail", post_id=post.pk)
    messages.success(request, done)
    if not to_detail:
        return redirect("calendar")
    return redirect("post_detail", post_id=getattr(result, "pk", None) or post.pk)


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_unschedule(request, post_id: int):
    return _service_call(request, post_id, services.post_unschedule, _("Back to draft."))


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_cancel(request, post_id: int):
    return _service_call(request, post_id, services.post_cancel, _("Cancelled."))


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_duplicate(request, post_id: int):
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    try:
        copy = services.post_duplicate(actor=request.membership, post=post)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("post_detail", post_id=post.pk)
    messages.success(request, _("Duplicated as a new draft."))
    return redirect("post_edit", post_id=copy.pk)


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_delete(request, post_id: int):
    return _service_call(
        request, post_id, services.post_delete, _("Draft deleted."), to_detail=False
    )


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def variant_retry(request, variant_id: int):
    variant = selectors.access_variant(membership=request.membership, variant_id=variant_id)
    try:
        services.variant_retry(actor=request.membership, variant=variant)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Trying again now."))
    return redirect("post_detail", post_id=variant.post_id)


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def variant_delete_remote(request, variant_id: int):
    variant = selectors.access_variant(membership=request.membership, variant_id=variant_id)
    try:
        services.variant_delete_remote(actor=request.membership, variant=variant)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Deleted from %(handle)s.") % {"handle": variant.account})
    return redirect("post_detail", post_id=variant.post_id)


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def post_move(request, post_id: int):
    """Drag and drop on the calendar: the post's new local date and time (JSON answer)."""
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    if not is_movable(post):
        return JsonResponse(
            {"error": _("Only drafts and scheduled posts that are not out can be moved.")},
            status=409,
        )
    day, at = parse_day(request.POST.get("date")), parse_time(request.POST.get("time"))
    if day is None or at is None:
        return JsonResponse({"error": _("Choose a date and a time.")}, status=400)
    try:
        when = local_to_utc(day, at, timezone.get_current_timezone())
        post = services.post_schedule(actor=request.membership, post=post, at=when)
    except InvalidPost as exc:
        return JsonResponse({"error": exc.message}, status=400)
    except ServiceError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    local = timezone.localtime(post.scheduled_at)
    return JsonResponse(
        {
            "ok": True,
            "scheduled_at": post.scheduled_at.isoformat(),
            "date": local.date().isoformat(),
            "time": local.strftime("%H:%M"),
            "message": _("Moved to %(when)s.")
            % {"when": date_format(local, "DATETIME_FORMAT") + " " + zone_name()},
        }
    )
