"""The metric registry goals are measured with.

A metric says what it is worth per day for a workspace (or one campaign) and which posts
contributed most. A cumulative metric (clicks, conversions) is summed over the goal's
days; a level (followers, response time, share of voice) counts as its latest reading.
Links registers clicks, conversions and conversion value here; the metrics counted by
analytics, the inbox and listening are registered by `chorus.links.measures`, which reads
them through those apps' own selectors (links sits above them in the import order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from chorus.core.days import per_local_day
from chorus.links.models import Click, Conversion

Daily = Callable[[int, int | None, dt.datetime, dt.datetime, dt.tzinfo], dict[dt.date, Decimal]]
Contributors = Callable[[int, int | None, dt.datetime, dt.datetime, int], list[dict]]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    daily: Daily  # (workspace_id, campaign_id, since, until, zone) -> {day: value}
    contributors: Contributors  # (..., limit) -> [{"post_id", "label", "value"}]
    money: bool = False
    cumulative: bool = True  # summed per day; False: the latest reading counts
    lower_better: bool = False  # response time: the target is below the baseline
    campaign_scoped: bool = True  # False: measured for the whole workspace


METRICS: dict[str, Metric] = {}


def register_metric(metric: Metric) -> None:
    METRICS[metric.key] = metric


def metric_choices() -> list[tuple[str, str]]:
    return [(m.key, m.label) for m in METRICS.values()]


def _clicks(workspace_id, campaign_id, since, until):
    rows = Click.objects.filter(link__workspace_id=workspace_id, at__gte=since, at__lt=until)
    return rows.filter(link__campaign_id=campaign_id) if campaign_id else rows


def _conversions(workspace_id, campaign_id, since, until):
    rows = Conversion.objects.filter(workspace_id=workspace_id, at__gte=since, at__lt=until)
    return rows.filter(campaign_id=campaign_id) if campaign_id else rows


def _top(rows, post_field: str, label_field: str, aggregate, limit: int) -> list[dict]:
    grouped = (
        rows.exclude(**{f"{post_field}__isnull": True})
        .values(post_field, label_field)
        .annotate(v=aggregate)
        .order_by("-v")[:limit]
    )
    return [
        {"post_id": r[post_field], "label": r[label_field], "value": Decimal(r["v"] or 0)}
        for r in grouped
    ]


register_metric(
    Metric(
        "clicks",
        _("Clicks"),
        lambda w, c, s, u, z: per_local_day(_clicks(w, c, s, u), "at", z, Count("id")),
        lambda w, c, s, u, n: _top(
            _clicks(w, c, s, u), "link__post_id", "link__post_label", Count("id"), n
        ),
    )
)
register_metric(
    Metric(
        "conversions",
        _("Conversions"),
        lambda w, c, s, u, z: per_local_day(_conversions(w, c, s, u), "at", z, Count("id")),
        lambda w, c, s, u, n: _top(
            _conversions(w, c, s, u), "post_id", "link__post_label", Count("id"), n
        ),
    )
)
register_metric(
    Metric(
        "conversion_value",
        _("Conversion value"),
        lambda w, c, s, u, z: per_local_day(_conversions(w, c, s, u), "at", z, Sum("value")),
        lambda w, c, s, u, n: _top(
            _conversions(w, c, s, u), "post_id", "link__post_label", Sum("value"), n
        ),
        money=True,
    )
)
