"""Saved analytics reports: the builder (list, new, change, delete), one report's page and
its CSV. The numbers are the Analytics page's, drawn by the same code for the reader."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts.roles import Capability
from chorus.analytics import reports
from chorus.analytics.export import saved_report_csv
from chorus.analytics.models import ReportPeriod
from chorus.analytics.pdf import report_pdf as render_report_pdf
from chorus.analytics.presentation import report_context
from chorus.analytics.selectors import analytics_accounts
from chorus.core.errors import NotAllowed, ServiceError
from chorus.publishing import selectors as publishing_selectors
from chorus.web.views.common import member_required, show_service_error


class ReportForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Sections"), widget=forms.CheckboxSelectMultiple
    )
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=ReportPeriod.choices)
    accounts = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Accounts"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None chosen: every account the reader has analytics on."),
    )
    campaign = forms.TypedChoiceField(
        label=gettext_lazy("Campaign"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sections"].choices = reports.section_choices()
        self.fields["accounts"].choices = [(a.pk, a.label) for a in analytics_accounts(membership)]
        self.fields["campaign"].choices = [("", _("All"))] + [
            (c.pk, c.name) for c in publishing_selectors.campaigns_of(membership)
        ]


def _initial(report) -> dict:
    return {
        "name": report.name,
        "sections": report.sections,
        "period": report.period,
        "accounts": [a.pk for a in report.accounts.all()],
        "campaign": report.campaign_id or "",
    }


def _save(request, form, report=None):
    """Save from a valid form; None (with the refusal on the form) when the service says no."""
    data = form.cleaned_data
    try:
        return reports.report_save(
            actor=request.membership,
            name=data["name"],
            sections=data["sections"],
            period=data["period"],
            account_ids=data["accounts"],
            campaign_id=data["campaign"],
            report=report,
        )
    except ServiceError as exc:
        show_service_error(form, exc)
        return None


@member_required(Capability.VIEW_WORKSPACE)
@require_http_methods(["GET", "POST"])
def report_list(request):
    """The report builder: saved reports and a form for a new one."""
    if request.method == "POST":
        reports.check_may_manage(request.membership)
    form = ReportForm(request.POST or None, membership=request.membership)
    if request.method == "POST" and form.is_valid():
        report = _save(request, form)
        if report is not None:
            messages.success(request, _("Report saved."))
            return redirect("analytics_report", report_id=report.pk)
    if not form.is_bound:
        form.initial = {"sections": ["engagements", "followers", "engagement_chart"]}
    return render(
        request,
        "analytics/reports.html",
        {
            "form": form,
            "reports": reports.reports_of(request.membership),
            "may_manage": reports.may_manage(request.membership),
        },
        status=400 if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_REPORTS)
@require_http_methods(["GET", "POST"])
def report_edit(request, report_id: int):
    report = reports.access_report(membership=request.membership, report_id=report_id)
    form = ReportForm(request.POST or None, membership=request.membership, initial=_initial(report))
    if request.method == "POST" and form.is_valid() and _save(request, form, report):
        messages.success(request, _("Report saved."))
        return redirect("analytics_report", report_id=report.pk)
    return render(
        request,
        "analytics/report_edit.html",
        {"form": form, "report": report},
        status=400 if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def report_delete(request, report_id: int):
    report = reports.access_report(membership=request.membership, report_id=report_id)
    reports.report_delete(actor=request.membership, report=report)
    messages.success(request, _("Report deleted."))
    return redirect("analytics_reports")


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def report_view(request, report_id: int):
    """One saved report over its period as of today, for the reader's accounts."""
    report = reports.access_report(membership=request.membership, report_id=report_id)
    try:
        context = report_context(request.membership, report)
    except NotAllowed as exc:
        return render(
            request, "analytics/report.html", {"report": report, "refusal": exc.message}, status=403
        )
    context["may_change"] = reports.may_manage(request.membership)
    return render(request, "analytics/report.html", context)


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def report_csv(request, report_id: int):
    report = reports.access_report(membership=request.membership, report_id=report_id)
    try:
        scope = reports.report_scope(membership=request.membership, report=report)
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain")
    name, text = saved_report_csv(report, scope)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@member_required(Capability.VIEW_WORKSPACE)
@require_GET
def report_pdf(request, report_id: int):
    """The report as PDF with its charts, in the reader's language."""
    report = reports.access_report(membership=request.membership, report_id=report_id)
    try:
        name, pdf = render_report_pdf(membership=request.membership, report=report)
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
