"""The calendar (month, week, list) and campaigns."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from chorus.accounts import selectors as account_selectors
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.networks import selectors as network_selectors
from chorus.publishing import selectors
from chorus.publishing.campaigns import campaign_save
from chorus.publishing.models import (
    Post,
    VariantStatus,
)
from chorus.web.views.common import member_required
from chorus.web.views.posts import is_movable, post_status
from chorus.web.views.timeinput import parse_day, zone_name

VIEWS = ("month", "week", "day", "list")
MONTH_PER_DAY = 3  # chips that fit in a month cell; the rest behind "+N more"
WEEK_PER_HOUR = 1  # chips in a week-view hour cell
LIST_PAGE_SIZE = 50  # posts per page of the list and day views
DRAFTS_SHOWN = 30


class CalendarFilterForm(forms.Form):
    account = forms.TypedChoiceField(label=gettext_lazy("Account"), required=False, coerce=int)
    campaign = forms.TypedChoiceField(label=gettext_lazy("Campaign"), required=False, coerce=int)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    author = forms.TypedChoiceField(label=gettext_lazy("Author"), required=False, coerce=int)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["account"].choices = everything + [
            (a.pk, a.label)
            for a in network_selectors.accounts_of(membership).prefetch_related(None)
        ]
        self.fields["campaign"].choices = everything + [
            (c.pk, c.name) for c in selectors.campaigns_of(membership)
        ]
        self.fields["status"].choices = everything + list(VariantStatus.choices)
        self.fields["author"].choices = everything + [
            (m.user_id, m.user.display_name)
            for m in account_selectors.members_of(membership.workspace).prefetch_related(None)
        ]


def _range(view: str, anchor: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(first day shown, day after the last, previous anchor, next anchor)."""
    if view == "day":
        one = dt.timedelta(days=1)
        return anchor, anchor + one, anchor - one, anchor + one
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


def _url_of(name: str):
    """A function of a post id giving the named URL, reversing once per page (hundreds of
    chips would otherwise reverse two URLs each)."""
    head, tail = reverse(name, args=[999999999]).split("999999999")
    return lambda pk: f"{head}{pk}{tail}"


def _chip(post: Post, can_move: bool, urls: dict | None = None) -> dict:
    local = timezone.localtime(post.scheduled_at) if post.scheduled_at else None
    status, label = post_status(post)
    variants = list(post.variants.all())
    urls = urls or {"detail": _url_of("post_detail"), "move": _url_of("post_move")}
    movable = can_move and is_movable(post)
    chip = {
        "post": post,
        "url": urls["detail"](post.pk),
        "move_url": urls["move"](post.pk) if movable else "",
        "local": local,
        "time": local.strftime("%H:%M") if local else "",
        "status": status,
        "label": label,
        "colour": post.campaign.colour if post.campaign else "#8a94a6",
        "text": post.main_text[:80],
        "accounts": [v.account.label for v in variants],
        "movable": movable,
        "title": " · ".join(
            [", ".join(v.account.label for v in variants)]
            + ([post.campaign.name] if post.campaign else [])
        ),
    }
    chip["html"] = _chip_html(chip)
    return chip


def _chip_html(c: dict) -> str:
    """A chip's link, built here rather than by an {% include %} per chip: a week shows up
    to 168 of them, and the template engine's include is most of such a page's time."""
    drag = (
        format_html(' draggable="true" data-move-url="{}"', c["move_url"])
        if c["movable"]
        else mark_safe(' draggable="false"')
    )
    return format_html(
        '<a class="cal-post status-{status}{movable}" href="{url}" data-colour="{colour}" '
        'data-post="{pk}" data-time="{time}"{drag} title="{title}"><span class="cal-line">'
        '<span class="cal-time">{time}</span> <span class="badge status-{status}">{label}'
        '</span></span><span class="cal-text">{text}</span></a>',
        status=c["status"],
        movable=" movable" if c["movable"] else "",
        url=c["url"],
        colour=c["colour"] or "#8a94a6",
        pk=c["post"].pk,
        time=c["time"],
        drag=drag,
        title=c["title"],
        label=c["label"],
        text=c["text"] or "…",
    )


def _more(n: int, day: dt.date, query: str = "") -> dict | None:
    """The "+N more" link of a month or week cell (None when everything fits)."""
    if n <= 0:
        return None
    hint = ngettext("%(n)s more post on %(day)s", "%(n)s more posts on %(day)s", n) % {
        "n": n,
        "day": date_format(day, "j F"),
    }
    label = ngettext("+%(n)s more", "+%(n)s more", n) % {"n": n}
    href = f"?view=day&date={day.isoformat()}" + (f"&{query}" if query else "")
    return {
        "n": n,
        "html": format_html(
            '<a class="cal-more" href="{}" data-more="{}"><span aria-hidden="true">{}</span>'
            '<span class="visually-hidden">{}</span></a>',
            href,
            n,
            label,
            hint,
        ),
    }


def _midnight(day: dt.date, zone) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def _page_number(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


@member_required()
@require_GET
def calendar(request):
    """Month and week show what fits in a cell and "+N more" (opening the day); the day and
    list views page through posts. Every view runs a fixed number of queries."""
    membership = request.membership
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "month"
    today = timezone.localdate()
    anchor = parse_day(request.GET.get("date")) or today
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
    can_move = role_can(membership.role, Capability.PUBLISH_POSTS)
    urls = {"detail": _url_of("post_detail"), "move": _url_of("post_move")}
    days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
    query = _query(request, exclude=("view", "date", "page"))
    context = {
        "view": view,
        "anchor": anchor,
        "today": today,
        "form": form,
        "zone_name": zone_name(zone),
        "previous": previous.isoformat(),
        "following": following.isoformat(),
        "can_move": can_move,
        "title": _title(view, start, end, anchor),
        "query": query,
        "weekdays": [date_format(start + dt.timedelta(days=n), "D") for n in range(7)]
        if view in ("month", "week")
        else [],
    }
    if view == "month":
        bounds = [_midnight(day, zone) for day in [*days, end]]
        found = selectors.posts_in_buckets(
            membership, bounds=bounds, per_bucket=MONTH_PER_DAY, **filter_args
        )
        cells = [
            {
                "date": day,
                "iso": day.isoformat(),
                "in_month": day.month == anchor.month,
                "posts": [_chip(p, can_move, urls) for p in found.shown[i]],
                "count": found.counts[i],
                "more": _more(found.more(i), day, query),
            }
            for i, day in enumerate(days)
        ]
        context["weeks"] = [cells[i : i + 7] for i in range(0, len(cells), 7)]
    elif view == "week":
        bounds = [
            dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
            for day in days
            for hour in range(24)
        ] + [_midnight(end, zone)]
        found = selectors.posts_in_buckets(
            membership, bounds=bounds, per_bucket=WEEK_PER_HOUR, **filter_args
        )
        context["days"] = days
        isos = [day.isoformat() for day in days]
        context["hours"] = [
            {
                "hour": hour,
                "label": f"{hour:02d}:00",
                "cells": [
                    {
                        "date": day,
                        "iso": isos[d],
                        "posts": [_chip(p, can_move, urls) for p in found.shown[d * 24 + hour]],
                        "more": _more(found.more(d * 24 + hour), day, query),
                    }
                    for d, day in enumerate(days)
                ],
            }
            for hour in range(24)
        ]
    else:
        context.update(_listing(request, membership, days, end, zone, filter_args, can_move, urls))
    context["unscheduled"] = [
        _chip(p, can_move, urls)
        for p in selectors.unscheduled_drafts(membership, **filter_args)[:DRAFTS_SHOWN]
    ]
    return render(request, "publishing/calendar.html", context)


def _listing(request, membership, days, end, zone, filter_args, can_move, urls) -> dict:
    """The list and day views: one page of posts in time order, grouped by local day, with
    each day's total from one aggregate query. A page past the end shows the last page."""
    posts = selectors.posts_between(
        membership, start=_midnight(days[0], zone), end=_midnight(end, zone), **filter_args
    )
    paginator = Paginator(posts, LIST_PAGE_SIZE)
    asked = _page_number(request.GET.get("page"))
    number = min(asked, paginator.num_pages)
    notice = ""
    if asked > number:
        notice = _("There is no page %(asked)s; this is the last page, %(last)s.") % {
            "asked": asked,
            "last": number,
        }
    page = paginator.page(number)
    chips = [_chip(p, can_move, urls) for p in page.object_list]
    counts: list[int] = []
    if chips:
        bounds = [_midnight(day, zone) for day in [*days, end]]
        counts = selectors.posts_per_bucket(membership, bounds=bounds, **filter_args)
    by_day: dict[dt.date, list] = {}
    for chip in chips:
        by_day.setdefault(chip["local"].date(), []).append(chip)
    index = {day: i for i, day in enumerate(days)}
    return {
        "list_days": [
            (day, by_day[day], counts[index[day]] if day in index and counts else len(by_day[day]))
            for day in sorted(by_day)
        ],
        "page": page,
        "total": paginator.count,
        "page_notice": notice,
        "page_query": _query(request, exclude=("page",)),
    }


def _title(view: str, start: dt.date, end: dt.date, anchor: dt.date) -> str:
    if view == "day":
        return date_format(anchor, "l j F Y")
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
    reason = forms.CharField(
        label=gettext_lazy("Why this campaign"),
        help_text=gettext_lazy("What the business wants from it: sales, sign-ups, attention…"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    audience = forms.CharField(
        label=gettext_lazy("Who it is for"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    budget_amount = forms.DecimalField(
        label=gettext_lazy("Budget"),
        help_text=gettext_lazy("Leave empty if the campaign has no budget."),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    budget_currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)
    owner_id = forms.TypedChoiceField(
        label=gettext_lazy("Owner"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, membership=None, **kwargs):
        super().__init__(*args, **kwargs)
        members = account_selectors.members_of(membership.workspace) if membership else []
        self.fields["owner_id"].choices = [("", "—")] + [
            (m.pk, m.user.display_name) for m in members
        ]


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
            "reason": campaign.reason,
            "audience": campaign.audience,
            "budget_amount": campaign.budget_amount,
            "budget_currency": campaign.budget_currency,
            "owner_id": campaign.owner_id,
        }
    form = CampaignForm(request.POST or None, initial=initial, membership=request.membership)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_save(actor=request.membership, campaign=campaign, **form.cleaned_data)
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
