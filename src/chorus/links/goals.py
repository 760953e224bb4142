"""A goal's progress: the straight path to its target, a forecast from the trend so far,
and whether it is on track. Pure functions over daily figures, so they are unit-tested
without a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

ON_TRACK, AT_RISK, ACHIEVED, MISSED, NOT_STARTED = (
    "on_track",
    "at_risk",
    "achieved",
    "missed",
    "not_started",
)

STATUS_LABELS = {
    ON_TRACK: _("On track"),
    AT_RISK: _("At risk"),
    ACHIEVED: _("Achieved"),
    MISSED: _("Missed"),
    NOT_STARTED: _("Not started"),
}


@dataclass(frozen=True)
class Progress:
    target: Decimal
    actual: Decimal  # the metric's total so far in the goal's period
    expected: Decimal  # where the straight path to the target stands today
    forecast: Decimal  # the total expected at the deadline if the trend holds
    status: str
    days_total: int
    days_elapsed: int
    path: list[tuple[dt.date, float, float | None]]  # (day, straight path, actual so far)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def percent(self) -> int:
        """Share of the target reached so far (the page's progress bar)."""
        return int(min(100, self.actual * 100 / self.target)) if self.target else 100


def target_from(*, baseline: Decimal, kind: str, value: Decimal) -> Decimal:
    """The absolute target: the number, or the baseline raised by `value` percent."""
    if kind == "percent":
        return (baseline * (Decimal(100) + value) / Decimal(100)).quantize(Decimal("0.01"))
    return value


def prior_period(starts_on: dt.date, deadline: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before the goal's (first and last day)."""
    length = (deadline - starts_on).days + 1
    return starts_on - dt.timedelta(days=length), starts_on - dt.timedelta(days=1)


def trend_forecast(values: list[Decimal], days_total: int) -> Decimal:
    """Total at the deadline: what happened, plus the remaining days on the least-squares
    line through the daily figures so far (never below zero a day); the mean rate while
    there are fewer than three days to fit."""
    done = len(values)
    actual = sum(values, Decimal(0))
    remaining = days_total - done
    if remaining <= 0 or done == 0:
        return actual
    if done < 3:
        return actual + actual / done * remaining
    xs = range(done)
    mean_x = Decimal(done - 1) / 2
    mean_y = actual / done
    spread = sum((Decimal(x) - mean_x) ** 2 for x in xs)
    slope = sum((Decimal(x) - mean_x) * (y - mean_y) for x, y in zip(xs, values, strict=True))
    slope = slope / spread
    future = sum(
        max(Decimal(0), mean_y + slope * (Decimal(x) - mean_x)) for x in range(done, days_total)
    )
    return actual + future


def evaluate(
    *,
    target: Decimal,
    starts_on: dt.date,
    deadline: dt.date,
    today: dt.date,
    daily: dict[dt.date, Decimal],
) -> Progress:
    days_total = (deadline - starts_on).days + 1
    days_elapsed = max(0, min(days_total, (today - starts_on).days + 1))
    days = [starts_on + dt.timedelta(days=i) for i in range(days_total)]
    values = [Decimal(daily.get(day, 0)) for day in days[:days_elapsed]]
    actual = sum(values, Decimal(0))
    expected = target * days_elapsed / days_total
    forecast = trend_forecast(values, days_total)
    if days_elapsed == 0:
        status = NOT_STARTED
    elif actual >= target:
        status = ACHIEVED
    elif today > deadline:
        status = MISSED
    else:
        status = ON_TRACK if forecast >= target else AT_RISK
    path, running = [], Decimal(0)
    for i, day in enumerate(days):
        straight = float(target * (i + 1) / days_total)
        if i < days_elapsed:
            running += values[i]
            path.append((day, straight, float(running)))
        else:
            path.append((day, straight, None))
    return Progress(
        target=target,
        actual=actual,
        expected=expected.quantize(Decimal("0.01")),
        forecast=forecast.quantize(Decimal("0.01")),
        status=status,
        days_total=days_total,
        days_elapsed=days_elapsed,
        path=path,
    )
