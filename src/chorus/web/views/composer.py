"""The composer: live preview, autosave, and submitting a post to schedule, queue or publish."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.links import services as link_services
from chorus.links import shortening
from chorus.links.models import PostLinks
from chorus.networks import selectors as network_selectors
from chorus.networks.providers import get_provider
from chorus.publishing import selectors, services
from chorus.publishing.models import (
    MediaAsset,
    Post,
    PostState,
)
from chorus.publishing.services import EDITABLE, InvalidPost, VariantInput
from chorus.text.language import detect_language
from chorus.web.views.common import member_required
from chorus.web.views.languages import language_name, language_options
from chorus.web.views.preview_cards import assets_by_id, preview_cards
from chorus.web.views.timeinput import when_from, zone_name

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
    language: str = ""  # blank: detected from the text


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
                    language=d.language,
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
            language=data.get(prefix + "language", "").strip(),
            poll_options=data.getlist(prefix + "poll"),
            poll_duration=_int(data.get(prefix + "poll_duration"), 86400),
        )
    return state


def composer_from_post(post: Post) -> Composer:
    prefetched = getattr(post, "_prefetched_objects_cache", {}).get("variants")
    if prefetched is not None:  # a page of posts loaded them (with their media) at once
        variants = sorted(prefetched, key=lambda v: v.pk)
    else:
        variants = list(post.variants.prefetch_related("variantmedia_set").order_by("pk"))
    shared = post.main_text
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
            language=v.language,
            poll_options=list(poll.get("options", [])),
            poll_duration=int(poll.get("expires_in", 86400)),
        )
    if post.scheduled_at and post.state in (PostState.SCHEDULED, PostState.PENDING_APPROVAL):
        local = timezone.localtime(post.scheduled_at)
        state.scheduled_date = local.date().isoformat()
        state.scheduled_time = local.strftime("%H:%M")
    return state


# --------------------------------------------------------------------------- composer


def usable_accounts(request) -> list:
    """The accounts this member may write for, with their servers' limits read at once."""
    accounts = list(network_selectors.accounts_usable_by(request.membership))
    network_selectors.load_server_limits(accounts)
    return accounts


def _sections(accounts: list, state: Composer, problems: dict) -> list[dict]:
    sections = []
    names: dict[str, str] = {}  # most accounts share the main text: detect its language once

    def detected(text: str) -> str:
        if text not in names:
            names[text] = language_name(detect_language(text))
        return names[text]

    for account in accounts:
        provider = get_provider(account.provider)
        limits = network_selectors.account_limits(account)
        draft = state.drafts.get(account.pk) or AccountDraft()
        slots = max(limits.max_poll_options, 0)
        text = draft.text if draft.text.strip() else state.text
        sections.append(
            {
                "account": account,
                "network": provider.name,
                "notice": provider.notice(),
                "limits": limits,
                "selected": account.pk in state.accounts,
                "draft": draft,
                "poll_slots": (draft.poll_options + [""] * slots)[:slots],
                "detected_language": detected(text),
                "language_options": language_options(draft.language),
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
    recent += list(assets_by_id(request.membership, missing).values())
    items = [
        {"asset": a, "chosen": a.pk in chosen, "alt": chosen.get(a.pk, a.alt_text)} for a in recent
    ]
    order = {asset_id: n for n, asset_id in enumerate(chosen)}
    items.sort(key=lambda item: (not item["chosen"], order.get(item["asset"].pk, 0)))
    return items


def _render_composer(request, state: Composer, *, errors=None, problems=None, status=200):
    accounts = usable_accounts(request)
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
        "utm": _utm_builder(request, state),
    }
    return render(request, "publishing/composer.html", context, status=status)


UTM_FIELDS = ("utm_campaign", "utm_medium", "utm_content")


def _utm_builder(request, state: Composer) -> dict:
    """The UTM builder's values: as submitted, else the post's own, else blank (defaults)."""
    link_settings = shortening.settings_of(request.membership.workspace_id)
    if not link_settings.track_links:
        return {"enabled": False}
    campaign = next(
        (c for c in selectors.campaigns_of(request.membership) if c.pk == state.campaign_id), None
    )
    values = {"track": True, **dict.fromkeys(UTM_FIELDS, "")}
    if request.method == "POST" and request.POST.get("utm_present"):
        values = {"track": bool(request.POST.get("utm_track"))}
        values.update({name: request.POST.get(name, "")[:100] for name in UTM_FIELDS})
    elif state.post is not None:
        options = PostLinks.objects.filter(post=state.post).first()
        if options:
            values = {"track": options.track, **{n: getattr(options, n) for n in UTM_FIELDS}}
    return {
        "enabled": True,
        "open": any(values[n] for n in UTM_FIELDS) or not values["track"],
        "default_medium": link_settings.utm_medium,
        "default_campaign": shortening.campaign_slug(campaign) or "—",
        **values,
    }


def _check_utm(data) -> None:
    """Refuse hostile or garbled UTM values before anything is saved."""
    if data.get("utm_present"):
        for name in UTM_FIELDS:
            link_services.clean_utm(data.get(name, ""), name)


def _save_utm(membership, post: Post, data) -> None:
    if data.get("utm_present"):
        link_services.post_links_set(
            actor=membership,
            post=post,
            track=bool(data.get("utm_track")),
            **{name: data.get(name, "") for name in UTM_FIELDS},
        )


def _editable_post(request, post_id: int) -> Post:
    post = selectors.access_post(membership=request.membership, post_id=post_id)
    return post


def is_editable(post: Post) -> bool:
    return post.state != PostState.CANCELLED and all(
        v.status in EDITABLE for v in post.variants.all()
    )


@member_required(Capability.CREATE_POSTS)
@require_http_methods(["GET", "POST"])
def post_new(request):
    if request.method == "POST":
        return _compose_submit(request, None)
    state = Composer()
    usable = usable_accounts(request)
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
    if not is_editable(post):
        messages.info(request, _("This post is out or being published; duplicate it to reuse."))
        return redirect("post_detail", post_id=post.pk)
    if request.method == "POST":
        return _compose_submit(request, post)
    return _render_composer(request, composer_from_post(post))


COMPOSER_FIELDS = {"accounts", "media", "campaign", "scheduled_at", "queue", *UTM_FIELDS}


def _error_dict(exc: ServiceError) -> dict:
    """A service's refusal keyed by the composer field it names (else shown on top)."""
    return {exc.field if exc.field in COMPOSER_FIELDS else "general": exc.message}


def _compose_submit(request, post: Post | None):
    membership = request.membership
    usable_ids = {a.pk for a in usable_accounts(request)}
    state = composer_from_post_data(request.POST, usable_ids)
    if post is None and _int(request.POST.get("post")):  # autosave already made it
        post = _editable_post(request, _int(request.POST.get("post")))
    state.post = post
    action = request.POST.get("action", "save")
    # Without publish_posts (a contributor) scheduling submits the post for approval.
    try:
        _check_utm(request.POST)
        saved = services.post_save(
            actor=membership,
            variants=state.inputs(),
            post=post,
            campaign_id=state.campaign_id,
            main_text=state.text,
        )
        state.post = saved
        _save_utm(membership, saved, request.POST)
        if action == "schedule":
            services.post_schedule(actor=membership, post=saved, at=when_from(request.POST))
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
    accounts = usable_accounts(request)
    state = composer_from_post_data(request.POST, {a.pk for a in accounts})
    cards = preview_cards(request.membership, state, {a.pk: a for a in accounts})
    return render(request, "publishing/_preview.html", {"cards": cards})


@member_required(Capability.CREATE_POSTS)
@require_POST
def post_autosave(request):
    """Save the draft as the author types (htmx); answers with the 'Saved 12:03' line."""
    accounts = usable_accounts(request)
    state = composer_from_post_data(request.POST, {a.pk for a in accounts})
    post_id = _int(request.POST.get("post"))
    post = _editable_post(request, post_id) if post_id else None
    context = {"post": post, "saved_at": None, "error": ""}
    if not state.accounts or state.is_empty():
        context["error"] = _("Not saved yet: choose an account and write something.")
        return render(request, "publishing/_autosave.html", context)
    if post is not None and not is_editable(post):
        context["error"] = _("Not saved: this post is out or being published.")
        return render(request, "publishing/_autosave.html", context)
    try:
        post = services.post_save(
            actor=request.membership,
            variants=state.inputs(),
            post=post,
            campaign_id=state.campaign_id,
            main_text=state.text,
        )
    except ServiceError as exc:
        context["error"] = _("Not saved: %(reason)s") % {"reason": exc.message}
        return render(request, "publishing/_autosave.html", context)
    context.update(post=post, saved_at=timezone.localtime(), created=post_id is None)
    response = render(request, "publishing/_autosave.html", context)
    if post_id is None:
        response["HX-Replace-Url"] = reverse("post_edit", kwargs={"post_id": post.pk})
    return response
