"""Publishing pages: the composer (live preview, autosave), post detail, calendar, campaigns
and queue slots.

Views stay thin: they read the form, call one service and render. Times typed by the author
are wall-clock times in the active time zone (the user's, else the workspace's, set by the
middleware) and become UTC here, before any service sees them.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts import selectors as account_selectors
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.governance.policies import highlight
from chorus.governance.services import policy_check
from chorus.networks import selectors as network_selectors
from chorus.networks.providers import get_provider
from chorus.publishing import imports, selectors, services
from chorus.publishing.models import (
    MediaAsset,
    Post,
    PostState,
    QueueSlot,
    Variant,
    VariantStatus,
)
from chorus.publishing.services import EDITABLE, RETRYABLE, InvalidPost, VariantInput
from chorus.publishing.validation import MediaInfo, check_variant, part_lengths
from chorus.text import NETWORKS, find_entities
from chorus.web.views.common import member_required

POLL_DURATIONS = [
    (300, gettext_lazy("5 minutes")),
    (1800, gettext_lazy("30 minutes")),
    (3600, gettext_lazy("1 hour")),
    (21600, gettext_lazy("6 hours")),
    (86400, gettext_lazy("1 day")),
    (259200, gettext_lazy("3 days")),
    (604800, gettext_lazy("7 days")),
]
LIBRARY_SIZE = 24
PUBLISH_ACTIONS = {"schedule", "publish", "queue"}


# --------------------------------------------------------------------------- time zones


def local_to_utc(day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """A wall-clock `day` `at` in `zone` as an aware UTC datetime, DST-correct.

    A time the clocks skip (e.g. 01:30 on the March change in Europe/London) is refused
    rather than silently moved; a time that happens twice (the autumn change) is the first.
    """
    local = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0)).replace(tzinfo=zone)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ServiceError(
            _("%(time)s does not exist on %(day)s in %(zone)s: the clocks skip it.")
            % {"time": at.strftime("%H:%M"), "day": day.isoformat(), "zone": zone_name(zone)},
            field="scheduled_at",
        )
    return utc


def zone_name(zone: dt.tzinfo | None = None) -> str:
    zone = zone or timezone.get_current_timezone()
    return getattr(zone, "key", None) or str(zone)


def _parse_day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _parse_time(value: str | None) -> dt.time | None:
    try:
        return dt.time.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _when_from(data) -> dt.datetime:
    """`scheduled_date` + `scheduled_time` (active zone) → UTC, or a field error."""
    day, at = _parse_day(data.get("scheduled_date")), _parse_time(data.get("scheduled_time"))
    if day is None or at is None:
        raise ServiceError(_("Choose a date and a time."), field="scheduled_at")
    return local_to_utc(day, at, timezone.get_current_timezone())


# --------------------------------------------------------------------------- composer state


@dataclass
class AccountDraft:
    """What the composer holds for one account: the override and network-specific extras."""

    text: str = ""  # blank: the shared text
    thread: list[str] = field(default_factory=list)
    first_comment: str = ""
    link: str = ""
    content_warning: str = ""
    poll_options: list[str] = field(default_factory=list)
    poll_duration: int = 86400


@dataclass
class Composer:
    """The composer's whole state, read from a POST or from a saved post."""

    post: Post | None = None
    accounts: list[int] = field(default_factory=list)  # chosen, in form order
    text: str = ""
    campaign_id: int | None = None
    media: list[tuple[int, str]] = field(default_factory=list)  # (asset id, alt text)
    drafts: dict[int, AccountDraft] = field(default_factory=dict)
    scheduled_date: str = ""
    scheduled_time: str = ""

    def inputs(self) -> list[VariantInput]:
        result = []
        for account_id in self.accounts:
            d = self.drafts.get(account_id) or AccountDraft()
            options = [o.strip() for o in d.poll_options if o.strip()]
            result.append(
                VariantInput(
                    account_id=account_id,
                    text=d.text if d.text.strip() else self.text,
                    thread=[t for t in d.thread if t.strip()],
                    first_comment=d.first_comment,
                    link=d.link.strip(),
                    content_warning=d.content_warning.strip(),
                    poll={"options": options, "expires_in": d.poll_duration} if options else None,
                    media=list(self.media),
                )
            )
        return result

    def is_empty(self) -> bool:
        return not self.media and not any(
            i.text.strip() or i.thread or i.first_comment for i in self.inputs()
        )


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def composer_from_post_data(data, usable_ids: set[int]) -> Composer:
    state = Composer(
        accounts=[i for i in (_int(v) for v in data.getlist("accounts")) if i in usable_ids],
        text=data.get("text", ""),
        campaign_id=_int(data.get("campaign")),
        scheduled_date=data.get("scheduled_date", ""),
        scheduled_time=data.get("scheduled_time", ""),
    )
    seen = set()
    for value in data.getlist("media"):
        asset_id = _int(value)
        if asset_id is not None and asset_id not in seen:
            seen.add(asset_id)
            state.media.append((asset_id, data.get(f"alt-{asset_id}", "").strip()))
    for account_id in usable_ids:
        prefix = f"v{account_id}-"
        state.drafts[account_id] = AccountDraft(
            text=data.get(prefix + "text", ""),
            thread=data.getlist(prefix + "thread"),
            first_comment=data.get(prefix + "first_comment", ""),
            link=data.get(prefix + "link", ""),
            content_warning=data.get(prefix + "cw", ""),
            poll_options=data.getlist(prefix + "poll"),
            poll_duration=_int(data.get(prefix + "poll_duration"), 86400),
        )
    return state


def composer_from_post(post: Post) -> Composer:
    variants = list(post.variants.prefetch_related("variantmedia_set").order_by("pk"))
    texts = [v.text for v in variants]
    shared = max(texts, key=texts.count) if texts else ""
    state = Composer(
        post=post,
        accounts=[v.account_id for v in variants],
        text=shared,
        campaign_id=post.campaign_id,
    )
    if variants:
        state.media = [(vm.asset_id, vm.alt_text) for vm in variants[0].variantmedia_set.all()]
    for v in variants:
        poll = v.poll or {}
        state.drafts[v.account_id] = AccountDraft(
            text="" if v.text == shared else v.text,
            thread=list(v.thread),
            first_comment=v.first_comment,
            link=v.link,
            content_warning=v.content_warning,
            poll_options=list(poll.get("options", [])),
            poll_duration=int(poll.get("expires_in", 86400)),
        )
    if post.scheduled_at and post.state in (PostState.SCHEDULED, PostState.PENDING_APPROVAL):
        local = timezone.localtime(post.scheduled_at)
        state.scheduled_date = local.date().isoformat()
        state.scheduled_time = local.strftime("%H:%M")
    return state


# --------------------------------------------------------------------------- preview


def segments(text: str, provider_key: str) -> list[dict]:
    """The text cut into plain runs and the links, mentions and hashtags the network sees."""
    if provider_key not in NETWORKS:
        return [{"kind": "", "text": text}]
    result, cursor = [], 0
    for entity in find_entities(text, provider_key):
        if entity.start > cursor:
            result.append({"kind": "", "text": text[cursor : entity.start]})
        result.append({"kind": entity.kind, "text": entity.text, "value": entity.value})
        cursor = entity.end
    if cursor < len(text):
        result.append({"kind": "", "text": text[cursor:]})
    return result


def _assets_by_id(membership, ids) -> dict[int, MediaAsset]:
    return {a.pk: a for a in MediaAsset.objects.filter(workspace=membership.workspace, pk__in=ids)}


def preview_cards(membership, state: Composer, accounts: dict[int, object]) -> list[dict]:
    """Per chosen account: counters as its network counts, its problems, and a preview."""
    assets = _assets_by_id(membership, [i for i, _alt in state.media])
    cards = []
    for item in state.inputs():
        account = accounts.get(item.account_id)
        if account is None:
            continue
        provider = get_provider(account.provider)
        parts = [item.text, *item.thread]
        labels = [_("Post")] + [
            _("Thread part %(n)s") % {"n": n} for n in range(2, len(item.thread) + 2)
        ]
        if item.first_comment:
            parts.append(item.first_comment)
            labels.append(_("First comment"))
        lengths = part_lengths(account.provider, parts)
        media = [
            {"asset": assets[i], "alt": alt or assets[i].alt_text}
            for i, alt in item.media
            if i in assets
        ]
        problems = check_variant(
            provider_key=account.provider,
            text=item.text,
            thread=item.thread,
            first_comment=item.first_comment,
            link=item.link,
            content_warning=item.content_warning,
            poll=item.poll,
            media=[MediaInfo(m["asset"].mime_type, m["asset"].size, m["alt"]) for m in media],
        )
        cards.append(
            {
                "account": account,
                "network": provider.name,
                "parts": [
                    {"label": label, "length": length, "segments": segments(text, account.provider)}
                    for label, length, text in zip(labels, lengths, parts, strict=True)
                ],
                "counter": lengths[0],
                "problems": problems,
                "content_warning": item.content_warning,
                "link": item.link,
                "poll": item.poll,
                "media": media,
                **_policy_context(membership, account, parts, item.link),
            }
        )
    return cards


def _policy_context(membership, account, parts: list[str], link: str) -> dict:
    """The compliance policies this variant breaks, with the offending words marked
    (shown here; enforced on submit, on approval and at publish time)."""
    text = "\n\n".join(p for p in parts if p)
    violations = policy_check(
        workspace=membership.workspace,
        text=text,
        account=account,
        links=[link] if link else None,
    )
    return {"violations": violations, "marked": highlight(text, violations) if violations else []}


# --------------------------------------------------------------------------- composer


def _usable(request) -> list:
    return list(network_selectors.accounts_usable_by(request.membership))


def _sections(accounts: list, state: Composer, problems: dict) -> list[dict]:
    sections = []
    for account in accounts:
        provider = get_provider(account.provider)
        limits = provider.limits
        draft = state.drafts.get(account.pk) or AccountDraft()
        slots = max(limits.max_poll_options, 0)
        sections.append(
            {
                "account": account,
                "network": provider.name,
                "limits": limits,
                "selected": account.pk in state.accounts,
                "draft": draft,
                "poll_slots": (draft.poll_options + [""] * slots)[:slots],
                "problems": problems.get(account.pk, []),
            }
        )
    return sections


def _library(request, state: Composer) -> list[dict]:
    chosen = dict(state.media)
    recent = list(
        MediaAsset.objects.filter(workspace=request.membership.workspace).order_by("-created_at")[
            :LIBRARY_SIZE
        ]
    )
    missing = [i for i in chosen if i not in {a.pk for a in recent}]
    recent += list(_assets_by_id(request.membership, missing).values())
    items = [
        {"asset": a, "chosen": a.pk in chosen, "alt": chosen.get(a.pk, a.alt_text)} for a in recent
    ]
    order = {asset_id: n for n, asset_id in enumerate(chosen)}
    items.sort(key=lambda item: (not item["chosen"], order.get(item["asset"].pk, 0)))
    return items


def _render_composer(request, state: Composer, *, errors=None, problems=None, status=200):
    accounts = _usable(request)
    by_id = {a.pk: a for a in accounts}
    membership = request.membership
    context = {
        "state": state,
        "post": state.post,
        "sections": _sections(accounts, state, problems or {}),
        "campaigns": selectors.campaigns_of(membership),
        "library": _library(request, state),
        "cards": preview_cards(membership, state, by_id),
        "errors": errors or {},
        "can_publish": role_can(membership.role, Capability.PUBLISH_POSTS),
        "pending": bool(state.post and state.post.state == PostState.PENDING_APPROVAL),
        "zone_name": zone_name(),
        "poll_durations": POLL_DURATIONS,
        "today": timezone.localdate().isoformat(),
    }
    return render(request, "publishing/composer.html", context, status=status)


def _editable_post(request, post_id: int) -> Post:
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    return post


def _is_editable(post: Post) -> bool:
    return post.state != PostState.CANCELLED and all(
        v.status in EDITABLE for v in post.variants.all()
    )


@member_required(Capability.CREATE_POSTS)
@require_http_methods(["GET", "POST"])
def post_new(request):
    if request.method == "POST":
        return _compose_submit(request, None)
    state = Composer()
    usable = _usable(request)
    chosen = _int(request.GET.get("account"))
    if chosen in {a.pk for a in usable}:
        state.accounts = [chosen]
    elif len(usable) == 1:
        state.accounts = [usable[0].pk]
    return _render_composer(request, state)


@member_required(Capability.CREATE_POSTS)
@require_http_methods(["GET", "POST"])
def post_edit(request, post_id: int):
    post = _editable_post(request, post_id)
    if not _is_editable(post):
        messages.info(request, _("This post is out or being published; duplicate it to reuse."))
        return redirect("post_detail", post_id=post.pk)
    if request.method == "POST":
        return _compose_submit(request, post)
    return _render_composer(request, composer_from_post(post))


COMPOSER_FIELDS = {"accounts", "media", "campaign", "scheduled_at", "queue"}


def _error_dict(exc: ServiceError) -> dict:
    """A service's refusal keyed by the composer field it names (else shown on top)."""
    return {exc.field if exc.field in COMPOSER_FIELDS else "general": exc.message}


def _compose_submit(request, post: Post | None):
    membership = request.membership
    usable_ids = {a.pk for a in _usable(request)}
    state = composer_from_post_data(request.POST, usable_ids)
    if post is None and _int(request.POST.get("post")):  # autosave already made it
        post = _editable_post(request, _int(request.POST.get("post")))
    state.post = post
    action = request.POST.get("action", "save")
    # Without publish_posts (a contributor) scheduling submits the post for approval.
    try:
        saved = services.post_save(
            actor=membership, variants=state.inputs(), post=post, campaign_id=state.campaign_id
        )
        state.post = saved
        if action == "schedule":
            services.post_schedule(actor=membership, post=saved, at=_when_from(request.POST))
            message = _("Scheduled.")
        elif action == "publish":
            services.post_publish_now(actor=membership, post=saved)
            message = _("Publishing now.")
        elif action == "queue":
            services.post_add_to_queue(actor=membership, post=saved)
            message = _("Added to the queue.")
        elif saved.state == PostState.SCHEDULED:
            message = _("Saved; it stays scheduled.")
        elif saved.state == PostState.PENDING_APPROVAL:
            message = _("Saved; it waits for approval.")
        else:
            message = _("Draft saved.")
        saved.refresh_from_db()
        if action in PUBLISH_ACTIONS and saved.state == PostState.PENDING_APPROVAL:
            message = _("Submitted for approval; it goes out at its time once approved.")
    except InvalidPost as exc:
        return _render_composer(request, state, problems=exc.problems, status=400)
    except ServiceError as exc:
        return _render_composer(request, state, errors=_error_dict(exc), status=400)
    messages.success(request, message)
    if action == "save":
        return redirect("post_edit", post_id=saved.pk)
    return redirect("post_detail", post_id=saved.pk)


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_preview(request):
    """The live preview (htmx): counters, problems and rendering per chosen account."""
    accounts = _usable(request)
    state = composer_from_post_data(request.POST, {a.pk for a in accounts})
    cards = preview_cards(request.membership, state, {a.pk: a for a in accounts})
    return render(request, "publishing/_preview.html", {"cards": cards})


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_autosave(request):
    """Save the draft as the author types (htmx); answers with the 'Saved 12:03' line."""
    accounts = _usable(request)
    state = composer_from_post_data(request.POST, {a.pk for a in accounts})
    post_id = _int(request.POST.get("post"))
    post = _editable_post(request, post_id) if post_id else None
    context = {"post": post, "saved_at": None, "error": ""}
    if not state.accounts or state.is_empty():
        context["error"] = _("Not saved yet: choose an account and write something.")
        return render(request, "publishing/_autosave.html", context)
    if post is not None and not _is_editable(post):
        context["error"] = _("Not saved: this post is out or being published.")
        return render(request, "publishing/_autosave.html", context)
    try:
        post = services.post_save(
            actor=request.membership,
            variants=state.inputs(),
            post=post,
            campaign_id=state.campaign_id,
        )
    except ServiceError as exc:
        context["error"] = _("Not saved: %(reason)s") % {"reason": exc.message}
        return render(request, "publishing/_autosave.html", context)
    context.update(post=post, saved_at=timezone.localtime(), created=post_id is None)
    response = render(request, "publishing/_autosave.html", context)
    if post_id is None:
        response["HX-Replace-Url"] = reverse("post_edit", kwargs={"post_id": post.pk})
    return response


@member_required(Capability.CREATE_POSTS)
@require_POST
def media_upload(request):
    """Add a file to the library (htmx); answers with its tile, already attached."""
    upload = request.FILES.get("upload")
    try:
        asset = services.media_asset_create(
            actor=request.membership,
            upload=upload,
            alt_text=request.POST.get("upload_alt", ""),
        )
    except ServiceError as exc:
        return HttpResponse(
            format_html('<p class="errorlist" role="alert">{}</p>', exc.message), status=400
        )
    return render(
        request,
        "publishing/_media_item.html",
        {"item": {"asset": asset, "chosen": True, "alt": asset.alt_text}},
    )


@member_required()
@require_GET
def media_file(request, asset_id: int):
    """A library file, to members of its workspace only."""
    asset = MediaAsset.objects.filter(workspace=request.membership.workspace, pk=asset_id).first()
    if asset is None or not asset.file or not asset.file.storage.exists(asset.file.name):
        raise Http404(_("No such file."))
    response = FileResponse(asset.file.open("rb"), content_type=asset.mime_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- post detail

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


def _movable(post: Post) -> bool:
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
            "zone_name": zone_name(),
            "can_create": can_create,
            "can_publish": can_publish,
            "can_edit": can_create and _is_editable(post),
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
    if not _movable(post):
        return JsonResponse(
            {"error": _("Only drafts and scheduled posts that are not out can be moved.")},
            status=409,
        )
    day, at = _parse_day(request.POST.get("date")), _parse_time(request.POST.get("time"))
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
            % {"when": date_format(local, "D j M Y, H:i") + " " + zone_name()},
        }
    )


# --------------------------------------------------------------------------- calendar

VIEWS = ("month", "week", "list")


class CalendarFilterForm(forms.Form):
    account = forms.TypedChoiceField(label=gettext_lazy("Account"), required=False, coerce=int)
    campaign = forms.TypedChoiceField(label=gettext_lazy("Campaign"), required=False, coerce=int)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    author = forms.TypedChoiceField(label=gettext_lazy("Author"), required=False, coerce=int)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["account"].choices = everything + [
            (a.pk, a.handle) for a in network_selectors.accounts_of(membership)
        ]
        self.fields["campaign"].choices = everything + [
            (c.pk, c.name) for c in selectors.campaigns_of(membership)
        ]
        self.fields["status"].choices = everything + list(VariantStatus.choices)
        self.fields["author"].choices = everything + [
            (m.user_id, m.user.display_name)
            for m in account_selectors.members_of(membership.workspace)
        ]


def _range(view: str, anchor: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(first day shown, day after the last, previous anchor, next anchor)."""
    if view == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        return (
            start,
            start + dt.timedelta(days=7),
            start - dt.timedelta(days=7),
            start + dt.timedelta(days=7),
        )
    first = anchor.replace(day=1)
    days = pycalendar.monthrange(first.year, first.month)[1]
    after = first + dt.timedelta(days=days)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    if view == "list":
        return first, after, previous, after
    start = first - dt.timedelta(days=first.weekday())
    end = after + dt.timedelta(days=(7 - after.weekday()) % 7)
    return start, end, previous, after


def _chip(post: Post, can_move: bool) -> dict:
    local = timezone.localtime(post.scheduled_at) if post.scheduled_at else None
    status, label = post_status(post)
    variants = list(post.variants.all())
    first = variants[0] if variants else None
    return {
        "post": post,
        "local": local,
        "time": local.strftime("%H:%M") if local else "",
        "status": status,
        "label": label,
        "colour": post.campaign.colour if post.campaign else "",
        "text": (first.text if first else "")[:80],
        "accounts": [v.account.handle for v in variants],
        "movable": can_move and _movable(post),
    }


@member_required()
@require_GET
def calendar(request):
    membership = request.membership
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "month"
    today = timezone.localdate()
    anchor = _parse_day(request.GET.get("date")) or today
    start, end, previous, following = _range(view, anchor)
    form = CalendarFilterForm(request.GET or None, membership=membership)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    zone = timezone.get_current_timezone()
    filter_args = {
        "account_ids": [filters["account"]] if filters.get("account") else None,
        "campaign_id": filters.get("campaign") or None,
        "statuses": [filters["status"]] if filters.get("status") else None,
        "author_id": filters.get("author") or None,
    }
    posts = selectors.posts_of(
        membership,
        start=dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        end=dt.datetime.combine(end, dt.time.min, tzinfo=zone),
        **filter_args,
    )
    can_move = role_can(membership.role, Capability.PUBLISH_POSTS)
    chips = sorted((_chip(p, can_move) for p in posts), key=lambda c: c["local"])
    by_day: dict[dt.date, list] = {}
    for chip in chips:
        by_day.setdefault(chip["local"].date(), []).append(chip)
    unscheduled = [
        _chip(p, can_move)
        for p in selectors.posts_of(membership, **filter_args).filter(
            scheduled_at__isnull=True, state=PostState.DRAFT
        )[:30]
    ]
    days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
    context = {
        "view": view,
        "anchor": anchor,
        "today": today,
        "form": form,
        "zone_name": zone_name(zone),
        "previous": previous.isoformat(),
        "following": following.isoformat(),
        "unscheduled": unscheduled,
        "can_move": can_move,
        "title": _title(view, start, end, anchor),
        "query": _query(request, exclude=("view", "date")),
        "weekdays": [date_format(start + dt.timedelta(days=n), "D") for n in range(7)]
        if view != "list"
        else [],
    }
    if view == "month":
        context["weeks"] = [
            [
                {
                    "date": day,
                    "in_month": day.month == anchor.month,
                    "posts": by_day.get(day, []),
                }
                for day in days[i : i + 7]
            ]
            for i in range(0, len(days), 7)
        ]
    elif view == "week":
        context["days"] = days
        context["hours"] = [
            {
                "hour": hour,
                "label": f"{hour:02d}:00",
                "cells": [
                    {
                        "date": day,
                        "posts": [c for c in by_day.get(day, []) if c["local"].hour == hour],
                    }
                    for day in days
                ],
            }
            for hour in range(24)
        ]
    else:
        context["list_days"] = [(day, by_day[day]) for day in days if day in by_day]
    return render(request, "publishing/calendar.html", context)


def _title(view: str, start: dt.date, end: dt.date, anchor: dt.date) -> str:
    if view == "week":
        last = end - dt.timedelta(days=1)
        return f"{date_format(start, 'j M')} – {date_format(last, 'j M Y')}"
    return date_format(anchor, "YEAR_MONTH_FORMAT")


def _query(request, *, exclude=()) -> str:
    return urlencode({k: v for k, v in request.GET.items() if k not in exclude and v})


# --------------------------------------------------------------------------- campaigns


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    colour = forms.RegexField(
        label=gettext_lazy("Colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        initial="#3b5bdb",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("Starts"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Ends"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@member_required()
@require_GET
def campaigns(request):
    membership = request.membership
    rows = selectors.campaigns_of(membership).annotate(post_count=Count("posts"))
    return render(
        request,
        "publishing/campaigns.html",
        {
            "campaigns": rows,
            "can_manage": role_can(membership.role, Capability.PUBLISH_POSTS),
        },
    )


def _campaign_form(request, campaign=None):
    initial = {}
    if campaign is not None:
        initial = {
            "name": campaign.name,
            "description": campaign.description,
            "colour": campaign.colour,
            "starts_on": campaign.starts_on,
            "ends_on": campaign.ends_on,
        }
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_save(actor=request.membership, campaign=campaign, **form.cleaned_data)
        except ServiceError as exc:
            field_name = exc.field if exc.field in form.fields else None
            form.add_error(field_name, exc.message)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns")
    status = 400 if form.is_bound else 200
    return render(
        request,
        "publishing/campaign_form.html",
        {"form": form, "campaign": campaign},
        status=status,
    )


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def campaign_new(request):
    return _campaign_form(request)


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def campaign_edit(request, campaign_id: int):
    campaign = selectors.access_campaign(membership=request.membership, campaign_id=campaign_id)
    return _campaign_form(request, campaign)


# --------------------------------------------------------------------------- queue


def _slot_text(slots: list[QueueSlot], weekday: int) -> str:
    return ", ".join(s.time.strftime("%H:%M") for s in slots if s.weekday == weekday)


def parse_slots(data) -> list[tuple[int, dt.time]]:
    """`day-0` … `day-6` holding times like "09:00, 13:30" → [(weekday, time)]."""
    slots = []
    for weekday in range(7):
        for piece in data.get(f"day-{weekday}", "").replace(";", ",").split(","):
            piece = piece.strip()
            if not piece:
                continue
            at = _parse_time(piece if len(piece) > 2 else f"{piece}:00")
            if at is None:
                raise ServiceError(
                    _("“%(value)s” is not a time; write times like 09:00, 13:30.")
                    % {"value": piece},
                    field="slots",
                )
            slots.append((weekday, at.replace(second=0, microsecond=0)))
    return slots


@member_required(Capability.PUBLISH_POSTS)
@require_GET
def queue(request):
    now = timezone.now()
    weekday_names = [date_format(dt.date(2024, 1, 1 + n), "l") for n in range(7)]  # Mon..Sun
    rows = []
    for account in _usable(request):
        slots = list(account.slots.all())
        rows.append(
            {
                "account": account,
                "network": get_provider(account.provider).name,
                "days": [
                    {"weekday": n, "name": weekday_names[n], "times": _slot_text(slots, n)}
                    for n in range(7)
                ],
                "next_free": services.next_free_slot(account, after=now),
                "queued": list(selectors.queued_variants(account, after=now)[:20]),
                "has_slots": bool(slots),
            }
        )
    return render(request, "publishing/queue.html", {"rows": rows, "zone_name": zone_name()})


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def queue_slots(request, account_id: int):
    account = next((a for a in _usable(request) if a.pk == account_id), None)
    if account is None:
        raise Http404(_("No such social account."))
    try:
        services.queue_slots_set(
            actor=request.membership, account=account, slots=parse_slots(request.POST)
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Posting times saved for %(handle)s.") % {"handle": account.handle}
        )
    return redirect(reverse("queue") + f"#account-{account.pk}")


@member_required()
@require_GET
def on_time(request):
    """Lateness of published posts (promised time → network-confirmed time), 30 days."""
    return render(
        request,
        "publishing/on_time.html",
        {
            "by_account": selectors.on_time_record(request.membership, by="account"),
            "by_network": selectors.on_time_record(request.membership, by="network"),
        },
    )


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def bulk_import(request):
    """CSV bulk scheduling: every row is checked and reported; all are scheduled or none."""
    report, error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a CSV file.")
        else:
            try:
                report = imports.posts_import_csv(
                    actor=request.membership,
                    data=upload.read(),
                    commit=request.POST.get("action") == "import",
                )
            except ServiceError as exc:
                error = exc.message
        if report and report.committed:
            messages.success(
                request,
                _("Scheduled %(n)s posts.") % {"n": len(report.post_ids)},
            )
            return redirect(f"{reverse('calendar')}?view=list")
    return render(
        request,
        "publishing/import.html",
        {"report": report, "error": error, "columns": imports.__doc__},
    )
