"""Analytics pages: the dashboard (workspace, account, network, campaign), one post's
figures, best times to post, and the CSV report. Figures come from chorus.analytics."""

from __future__ import annotations

import csv

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from chorus.accounts import selectors as account_selectors
from chorus.accounts.roles import Capability
from chorus.analytics import besttime, charts, figures
from chorus.analytics.export import write_report
from chorus.analytics.presentation import WEEKDAYS, dashboard_context, heat_rows
from chorus.analytics.selectors import (
    access_scope,
    access_tracked_post,
    analytics_accounts,
    tracked_languages,
)
from chorus.core.errors import NotAllowed, ServiceError
from chorus.networks.models import SocialAccount
from chorus.networks.providers import PROVIDERS
from chorus.publishing import selectors as publishing_selectors
from chorus.web.views.common import member_required


class AnalyticsFilterForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    account = forms.TypedChoiceField(label=gettext_lazy("Account"), required=False, coerce=int)
    network = forms.ChoiceField(label=gettext_lazy("Network"), required=False)
    campaign = forms.TypedChoiceField(label=gettext_lazy("Campaign"), required=False, coerce=int)
    author = forms.TypedChoiceField(label=gettext_lazy("Author"), required=False, coerce=int)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        accounts = list(analytics_accounts(membership))
        asked = str(self.data.get("account", "")) if self.is_bound else ""
        if asked.isdigit() and int(asked) not in {a.pk for a in accounts}:
            # An account the member may not see (any more): kept, so the answer names it
            accounts += SocialAccount.objects.filter(workspace=membership.workspace, pk=int(asked))
        self.fields["account"].choices = everything + [(a.pk, a.label) for a in accounts]
        self.fields["network"].choices = everything + [
            (key, PROVIDERS[key].name) for key in sorted(PROVIDERS)
        ]
        self.fields["campaign"].choices = everything + [
            (c.pk, c.name) for c in publishing_selectors.campaigns_of(membership)
        ]
        self.fields["author"].choices = everything + [
            (m.user_id, m.user.display_name)
            for m in account_selectors.members_of(membership.workspace).prefetch_related(None)
        ]
        self.fields["language"].choices = everything + [
            (code, code) for code in tracked_languages(membership.workspace_id)
        ]

    def scope(self, membership):
        data = self.cleaned_data
        return access_scope(
            membership=membership,
            account_ids=[data["account"]] if data.get("account") else None,
            network=data.get("network") or "",
            campaign_id=data.get("campaign") or None,
            author_id=data.get("author") or None,
            language=data.get("language") or "",
            start=data.get("start"),
            end=data.get("end"),
        )


def _read_scope(request):
    """(form, scope, refusal): the scope the query string asks for, or why not."""
    form = AnalyticsFilterForm(request.GET or None, membership=request.membership)
    if request.GET and not form.is_valid():
        return form, None, ""
    if not request.GET:
        form.is_valid()  # unbound: use the defaults
        form.cleaned_data = {}
    try:
        return form, form.scope(request.membership), ""
    except NotAllowed as exc:
        return form, None, exc.message
    except ServiceError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return form, None, ""


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def analytics_dashboard(request):
    """The dashboard of whatever the filters select: the workspace, one account, one
    network, one campaign, one author's or one language's posts, against the period before."""
    form, scope, refusal = _read_scope(request)
    context = {"form": form, "refusal": refusal, "scope": scope, "query": request.GET.urlencode()}
    if scope is not None:
        context.update(dashboard_context(scope))
        context["report_url"] = "?" + request.GET.urlencode()
    return render(request, "analytics/dashboard.html", context, status=403 if refusal else 200)


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def analytics_post(request, tracked_id: int):
    """One post's lifetime figures and every reading taken of it."""
    try:
        post = access_tracked_post(membership=request.membership, tracked_id=tracked_id)
    except NotAllowed as exc:
        return render(request, "analytics/post.html", {"refusal": exc.message}, status=403)
    snapshots = list(post.snapshots.all())
    labels = [date_format(s.collected_at, "SHORT_DATETIME_FORMAT") for s in snapshots]
    totals = [s.likes + s.reposts + s.replies + s.quotes for s in snapshots]
    return render(
        request,
        "analytics/post.html",
        {
            "post": post,
            "figures": figures.of_post(post),
            "snapshots": snapshots,
            "chart": charts.line_chart(labels, totals),
        },
    )


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def analytics_best_time(request):
    """Best times to post for one account, as a heatmap and three suggestions."""
    accounts = list(analytics_accounts(request.membership))
    chosen = request.GET.get("account", "")
    context = {"accounts": accounts, "chosen": chosen}
    if not accounts:
        return render(request, "analytics/best_time.html", context)
    try:
        account_id = int(chosen) if chosen else accounts[0].pk
        best = besttime.access_best_times(membership=request.membership, account_id=account_id)
    except ValueError:
        context["refusal"] = _("Choose an account from the list.")
        return render(request, "analytics/best_time.html", context, status=400)
    except NotAllowed as exc:
        context["refusal"] = exc.message
        return render(request, "analytics/best_time.html", context, status=403)
    context.update(
        best=best,
        chosen=str(best.account.pk),
        heatmap=heat_rows(best.grid),
        suggestions=[(WEEKDAYS[s.weekday], s) for s in best.suggestions],
        hours=range(24),
        enough=besttime.ENOUGH_POSTS,
    )
    return render(request, "analytics/best_time.html", context)


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def analytics_report_csv(request):
    """The dashboard's figures and daily series as CSV, for the same filters."""
    form, scope, refusal = _read_scope(request)
    if scope is None:
        message = refusal or " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(message, status=403 if refusal else 400, content_type="text/plain")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"chorus-analytics-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # spreadsheet apps then read Thai and Khmer as UTF-8
    write_report(csv.writer(response), scope)
    return response
