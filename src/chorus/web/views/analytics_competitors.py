"""Competitors page: public accounts on Bluesky and Mastodon side by side with ours
(chorus.analytics.competitors adds and reads them, chorus.analytics.compare compares)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability
from chorus.analytics import charts, competitors
from chorus.analytics.compare import compare
from chorus.analytics.dashboards import Bar
from chorus.analytics.reports import may_manage
from chorus.analytics.selectors import access_scope
from chorus.core.errors import NotAllowed, ServiceError
from chorus.web.views.common import member_required

SERIES_COLOURS = 6  # .series-0 to .series-5 in analytics.css
PERIODS = ((28, gettext_lazy("Last 28 days")), (90, gettext_lazy("Last 90 days")))


class CompetitorForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("Network"))
    address = forms.CharField(
        label=gettext_lazy("Handle or profile address"),
        max_length=500,
        help_text=gettext_lazy("e.g. brand.bsky.social, @brand@mastodon.social"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = competitors.networks_with_public_accounts()


def _page(request, form=None, status=200):
    membership = request.membership
    days = 90 if request.GET.get("days") == "90" else 28
    context = {"periods": PERIODS, "days": days, "may_change": may_manage(membership)}
    try:
        followed = list(competitors.competitors_of(membership))
    except NotAllowed as exc:
        context["refusal"] = exc.message
        return render(request, "analytics/competitors.html", context, status=403)
    scope = access_scope(membership=membership)
    if scope.days != days:
        start = scope.end - timedelta(days=days - 1)
        scope = access_scope(membership=membership, start=start, end=scope.end)
    comparison = compare(scope, followed)
    labels = [date_format(day, "SHORT_DATE_FORMAT") for day in comparison.days]
    sides = comparison.sides
    context.update(
        form=form or CompetitorForm(),
        competitors=followed,
        comparison=comparison,
        scope=scope,
        rows=[(side, comparison.per_week(side), comparison.per_post(side)) for side in sides],
        followers_chart=(
            chart := charts.lines_chart(labels, [(s.label, s.followers) for s in sides])
        ),
        followers_lines=[
            (side, line, index % SERIES_COLOURS)
            for index, (side, line) in enumerate(zip(sides, chart.lines, strict=True))
        ],
        per_week=(week := [Bar(s.label, comparison.per_week(s)) for s in sides]),
        per_week_chart=charts.bar_chart([(b.label, b.value) for b in week]),
        per_post=(post := [Bar(s.label, comparison.per_post(s) or 0) for s in sides]),
        per_post_chart=charts.bar_chart([(b.label, b.value) for b in post]),
        day_rows=[(day, [s.followers[i] for s in sides]) for i, day in enumerate(comparison.days)],
    )
    return render(request, "analytics/competitors.html", context, status=status)


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def competitor_list(request):
    """Competitors' followers, posting frequency, engagement per post and top posts, next
    to the accounts the member has analytics on."""
    return _page(request)


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def competitor_add(request):
    form = CompetitorForm(request.POST)
    if form.is_valid():
        try:
            competitor = competitors.competitor_add(
                actor=request.membership,
                provider_key=form.cleaned_data["provider"],
                address=form.cleaned_data["address"],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Now comparing with %(handle)s.") % {"handle": competitor.handle}
            )
            return redirect("analytics_competitors")
    return _page(request, form=form, status=400)


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def competitor_remove(request, competitor_id: int):
    competitor = competitors.access_competitor(
        membership=request.membership, competitor_id=competitor_id
    )
    competitors.competitor_remove(actor=request.membership, competitor=competitor)
    messages.success(
        request, _("%(handle)s removed from the competitors.") % {"handle": competitor.handle}
    )
    return redirect("analytics_competitors")
