"""The customer value page: what social brings the business, per campaign, per network
and over time (chorus.links.value), drawn with the analytics chart templates."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils.formats import date_format
from django.views.decorators.http import require_safe

from chorus.analytics import charts
from chorus.analytics.dashboards import Bar
from chorus.core.errors import ServiceError
from chorus.links import value
from chorus.web.views.common import member_required


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@member_required()
@require_safe
def customer_value(request):
    workspace = request.membership.workspace
    asked = {
        "figure": request.GET.get("figure") or "conversion_value",
        "by": request.GET.get("by") or value.BY_DAY,
        "start": _date(request.GET.get("start", "")),
        "end": _date(request.GET.get("end", "")),
        "currency": request.GET.get("currency", ""),
    }
    context = {
        "figures": value.VALUE_FIGURES.values(),
        "dimensions": value.DIMENSIONS.items(),
        "asked": asked,
    }
    try:
        report = value.value_report(workspace=workspace, **asked)
    except ServiceError as exc:
        context["error"] = exc.message
        return render(request, "links/value.html", context, status=400)
    context["report"] = report
    title = f"{report.figure.label} · {value.DIMENSIONS[report.by]}"
    context["title"] = title
    if report.by == value.BY_DAY:
        labels = [date_format(r.key, "SHORT_DATE_FORMAT") for r in report.rows]
        context["line"] = charts.line_chart(labels, [float(r.value) for r in report.rows])
    else:
        bars = [Bar(r.label, r.value) for r in report.rows]
        context["bars"] = bars
        context["bar_chart"] = charts.bar_chart([(b.label, float(b.value)) for b in bars])
    return render(request, "links/value.html", context)
