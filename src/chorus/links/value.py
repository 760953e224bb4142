"""Customer value: what social brings the business, directly (attributed conversions and
their value) and indirectly (referral visits, mentions), per campaign, per network and
over time.

One class per figure, registered in `VALUE_FIGURES`, and one function (`breakdown`) that
the page, the API and reports all call, as analytics does with its figures. Reviews are
not counted: Chorus has no source of reviews (no network it connects reports them), and
the page says so rather than showing a made-up number.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from chorus.core.days import per_local_day
from chorus.core.errors import ServiceError
from chorus.links.models import Click, Conversion
from chorus.links.selectors import _bounds, zone_of
from chorus.listening.selectors import mention_counts
from chorus.networks.providers import PROVIDERS
from chorus.publishing.models import Campaign

BY_DAY, BY_CAMPAIGN, BY_NETWORK = "day", "campaign", "network"
DIMENSIONS = {
    BY_DAY: _("Over time"),
    BY_CAMPAIGN: _("Per campaign"),
    BY_NETWORK: _("Per network"),
}
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    workspace: object
    start: dt.date
    end: dt.date
    currency: str = ""  # for money figures: the one they are summed in

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return _bounds(self.start, self.end, zone_of(self.workspace))


@dataclass(frozen=True)
class Row:
    key: object  # a date, a campaign id (None: no campaign) or a network name
    label: str
    value: Decimal


VALUE_FIGURES: dict[str, ValueFigure] = {}


def register(cls):
    VALUE_FIGURES[cls.key] = cls()
    return cls


class ValueFigure(abc.ABC):
    key: ClassVar[str]
    label: ClassVar[str]
    definition: ClassVar[str]
    direct: ClassVar[bool] = False  # direct value, or an indirect signal
    money: ClassVar[bool] = False
    dimensions: ClassVar[tuple[str, ...]] = (BY_DAY, BY_CAMPAIGN, BY_NETWORK)

    @abc.abstractmethod
    def grouped(self, period: Period, by: str) -> dict:
        """{day, campaign id or network: value} over the period."""


def _group(rows, by: str, zone, *, at: str, campaign: str, network: str, aggregate) -> dict:
    if by == BY_DAY:
        return per_local_day(rows, at, zone, aggregate)
    rows = rows.annotate(key=F(campaign if by == BY_CAMPAIGN else network))
    return {r["key"]: Decimal(r["v"] or 0) for r in rows.values("key").annotate(v=aggregate)}


class _Conversions(ValueFigure):
    direct = True

    def rows(self, period: Period):
        since, until = period.bounds
        rows = Conversion.objects.filter(
            workspace=period.workspace, at__gte=since, at__lt=until, link__isnull=False
        )
        return rows.filter(currency=period.currency) if self.money else rows

    def grouped(self, period: Period, by: str) -> dict:
        return _group(
            self.rows(period),
            by,
            zone_of(period.workspace),
            at="at",
            campaign="campaign_id",
            network="network",
            aggregate=Sum("value") if self.money else Count("id"),
        )


@register
class ConversionValue(_Conversions):
    key = "conversion_value"
    label = _("Conversion value")
    definition = _(
        "What attributed conversions were worth (purchases on your site that followed a "
        "click on one of your links), in one currency."
    )
    money = True


@register
class AttributedConversions(_Conversions):
    key = "conversions"
    label = _("Attributed conversions")
    definition = _("Conversions on your site attributed to a click on one of your links.")


@register
class ReferralVisits(ValueFigure):
    key = "referral_visits"
    label = _("Referral visits")
    definition = _(
        "Visits to your site through your short links that came with a referring site "
        "(a network or another page), not typed or pasted."
    )

    def grouped(self, period: Period, by: str) -> dict:
        since, until = period.bounds
        rows = Click.objects.filter(
            link__workspace=period.workspace, at__gte=since, at__lt=until
        ).filter(~Q(referrer=""))
        return _group(
            rows,
            by,
            zone_of(period.workspace),
            at="at",
            campaign="link__campaign_id",
            network="link__network",
            aggregate=Count("id"),
        )


@register
class Mentions(ValueFigure):
    key = "mentions"
    label = _("Mentions and earned media")
    definition = _(
        "Public posts by others that matched your listening topics: word of mouth and "
        "earned media. Listening is not tied to a campaign, so there is no per-campaign "
        "figure."
    )
    dimensions = (BY_DAY, BY_NETWORK)

    def grouped(self, period: Period, by: str) -> dict:
        since, until = period.bounds
        counts = mention_counts(
            workspace_id=period.workspace.pk,
            since=since,
            until=until,
            zone=zone_of(period.workspace),
            by=by,
        )
        return {key: Decimal(n) for key, n in counts.items()}


def currencies(workspace, start: dt.date, end: dt.date) -> list[str]:
    """Currencies of the period's attributed conversions, most used first."""
    since, until = Period(workspace, start, end).bounds
    rows = (
        Conversion.objects.filter(workspace=workspace, at__gte=since, at__lt=until)
        .filter(link__isnull=False)
        .exclude(currency="")
        .values("currency")
        .annotate(n=Count("id"))
        .order_by("-n", "currency")
    )
    return [r["currency"] for r in rows]


def breakdown(figure: ValueFigure, period: Period, by: str) -> list[Row]:
    """The figure per day (every day of the period, 0 on quiet days), per campaign (most
    first, "No campaign" for links outside one) or per network (most first)."""
    found = figure.grouped(period, by)
    if by == BY_DAY:
        days = [
            period.start + dt.timedelta(days=i) for i in range((period.end - period.start).days + 1)
        ]
        return [Row(day, "", found.get(day, Decimal(0))) for day in days]
    if by == BY_CAMPAIGN:
        names = dict(
            Campaign.objects.filter(
                workspace=period.workspace, pk__in=[k for k in found if k]
            ).values_list("pk", "name")
        )
        labels = {k: names.get(k, "") if k else str(_("No campaign")) for k in found}
    else:
        labels = {k: PROVIDERS[k].name if k in PROVIDERS else k or str(_("Unknown")) for k in found}
    rows = [Row(k, labels[k], v) for k, v in found.items()]
    return sorted(rows, key=lambda r: (-r.value, r.label))


@dataclass(frozen=True)
class Report:
    figure: ValueFigure
    by: str
    period: Period
    currencies: list[str]
    rows: list[Row]

    @property
    def total(self) -> Decimal:
        return sum((r.value for r in self.rows), Decimal(0))


def value_report(
    *, workspace, figure: str, by: str, start: dt.date | None, end: dt.date | None, currency=""
) -> Report:
    """One figure over a period (the last 28 days by default), checked: what the page, the
    API and reports show. A money figure is summed in the chosen currency, else the one
    most used."""
    from django.utils import timezone

    chosen = VALUE_FIGURES.get(figure)
    if chosen is None:
        raise ServiceError(_("Choose a figure from the list."), field="figure")
    if by not in chosen.dimensions:
        raise ServiceError(_("This figure cannot be shown that way."), field="by")
    end = end or timezone.now().astimezone(zone_of(workspace)).date()
    start = start or end - dt.timedelta(days=27)
    if end < start:
        raise ServiceError(_("The period ends before it starts."), field="start")
    if (end - start).days >= MAX_DAYS:
        raise ServiceError(_("A period is at most a year long."), field="start")
    found = currencies(workspace, start, end) if chosen.money else []
    currency = (currency or "").upper()
    if chosen.money and currency not in found:
        currency = found[0] if found else ""
    period = Period(workspace, start, end, currency)
    return Report(chosen, by, period, found, breakdown(chosen, period, by))
