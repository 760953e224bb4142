"""The calendar (month, week, list) and campaigns."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chorus.accounts import selectors as account_selectors
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.networks import selectors as network_selectors
from chorus.publishing import selectors, services
from chorus.publishing.models import (
    Post,
    PostState,
    VariantStatus,
)
from chorus.web.views.common import member_required
from chorus.web.views.posts import is_movable, post_status
from chorus.web.views.timeinput import parse_day, zone_name

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
            (a.pk, a.label) for a in network_selectors.accounts_of(membership)
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
    return {
        "post": post,
        "local": local,
        "time": local.strftime("%H:%M") if local else "",
        "status": status,
        "label": label,
        "colour": post.campaign.colour if post.campaign else "",
        "text": post.main_text[:80],
        "accounts": [v.account.label for v in variants],
        "movable": can_move and is_movable(post),
    }


@member_required()
@require_GET
def calendar(request):
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
