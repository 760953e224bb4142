"""Saved analytics reports: the builder (list, new, change, delete), one report's page and
its CSV. The numbers are the Analytics page's, drawn by the same code for the reader."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts import selectors as account_selectors
from chorus.accounts.roles import Capability
from chorus.analytics import reports, schedules, sharing
from chorus.analytics.export import saved_report_csv
from chorus.analytics.models import ReportPeriod, ScheduleFrequency
from chorus.analytics.pdf import report_pdf as render_report_pdf
from chorus.analytics.presentation import WEEKDAYS, report_context
from chorus.analytics.selectors import analytics_accounts
from chorus.core.errors import NotAllowed, ServiceError
from chorus.publishing import selectors as publishing_selectors
from chorus.web.views.common import member_required, public, show_service_error


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
    if context["may_change"]:
        context.update(schedule_context(request.membership, report))
        context.update(share_context(report))
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


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(label=gettext_lazy("Send"), choices=ScheduleFrequency.choices)
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Weekday (weekly)"),
        coerce=int,
        choices=[(i, day) for i, day in enumerate(WEEKDAYS)],
        initial=0,
    )
    day_of_month = forms.IntegerField(
        label=gettext_lazy("Day of the month (monthly)"),
        min_value=1,
        max_value=31,
        initial=1,
        help_text=gettext_lazy("In a shorter month, its last day."),
    )
    local_time = forms.TimeField(
        label=gettext_lazy("Time (workspace time zone)"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=gettext_lazy(
            "A time skipped when clocks go forward is sent at the next minute that exists."
        ),
    )
    members = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Members"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    outside_emails = forms.CharField(
        label=gettext_lazy("Outside addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One e-mail address a line; they receive the report as you see it."),
    )

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [
            (m.pk, m.user.display_name) for m in account_selectors.members_of(membership.workspace)
        ]


def schedule_context(membership, report) -> dict:
    return {
        "schedules": report.schedules.prefetch_related("members__user").order_by("next_run_at"),
        "schedule_form": ScheduleForm(membership=membership),
    }


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def report_schedule_add(request, report_id: int):
    """Schedule the report's delivery by e-mail."""
    report = reports.access_report(membership=request.membership, report_id=report_id)
    form = ScheduleForm(request.POST, membership=request.membership)
    if form.is_valid():
        data = form.cleaned_data
        try:
            schedules.schedule_save(
                actor=request.membership,
                report=report,
                frequency=data["frequency"],
                weekday=data["weekday"],
                day_of_month=data["day_of_month"],
                local_time=data["local_time"],
                member_ids=data["members"],
                outside_emails=data["outside_emails"].splitlines(),
            )
            messages.success(request, _("Delivery scheduled."))
            return redirect("analytics_report", report_id=report.pk)
        except ServiceError as exc:
            show_service_error(form, exc)
    context = report_context(request.membership, report)
    context.update(schedule_context(request.membership, report), schedule_form=form)
    context["may_change"] = True
    return render(request, "analytics/report.html", context, status=400)


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def report_schedule_delete(request, report_id: int, schedule_id: int):
    report = reports.access_report(membership=request.membership, report_id=report_id)
    schedule = report.schedules.filter(pk=schedule_id).first()
    if schedule is not None:
        schedules.schedule_delete(actor=request.membership, schedule=schedule)
        messages.success(request, _("Delivery stopped."))
    return redirect("analytics_report", report_id=report.pk)


def share_context(report) -> dict:
    links = report.share_links.filter(revoked_at=None, expires_at__gt=timezone.now())
    return {"share_links": [(link, sharing.token_of(link)) for link in links]}


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def report_share_create(request, report_id: int):
    """A read-only link to the report for people without an account."""
    report = reports.access_report(membership=request.membership, report_id=report_id)
    try:
        days = int(request.POST.get("days", "7"))
    except ValueError:
        days = 0
    try:
        sharing.share_link_create(actor=request.membership, report=report, days=days)
        messages.success(request, _("Share link created."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("analytics_report", report_id=report.pk)


@member_required(Capability.MANAGE_REPORTS)
@require_POST
def report_share_revoke(request, report_id: int, share_id: int):
    report = reports.access_report(membership=request.membership, report_id=report_id)
    link = report.share_links.filter(pk=share_id).first()
    if link is not None:
        sharing.share_link_revoke(actor=request.membership, link=link)
        messages.success(request, _("Share link revoked."))
    return redirect("analytics_report", report_id=report.pk)


@public
@require_GET
def report_shared(request, token: str):
    """The report behind a share link, read-only, without signing in; never indexed."""
    try:
        link = sharing.share_link_open(token)
        context = report_context(link.created_by, link.report)
        status = 200
    except (sharing.ShareLinkInvalid, NotAllowed) as exc:
        context, status = {"invalid": exc.message}, 410
    context["shared"] = True
    response = render(request, "analytics/report_shared.html", context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
