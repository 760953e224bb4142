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
    origin: Decimal = Decimal(0)  # where the straight path starts: 0, or a level's baseline

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def percent(self) -> int:
        """Share of the target reached so far (the page's progress bar)."""
        span = self.target - self.origin
        if not span:
            return 100
        return int(max(0, min(100, (self.actual - self.origin) * 100 / span)))


def target_from(
    *, baseline: Decimal, kind: str, value: Decimal, lower_better: bool = False
) -> Decimal:
    """The absolute target: the number, or the baseline moved by `value` percent (up, or
    down for a metric where lower is better, such as response time)."""
    if kind == "percent":
        change = -value if lower_better else value
        return (baseline * (Decimal(100) + change) / Decimal(100)).quantize(Decimal("0.01"))
    return value


def reached(value: Decimal, target: Decimal, *, lower_better: bool = False) -> bool:
    return value <= target if lower_better else value >= target


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


def level_forecast(points: list[tuple[int, Decimal]], last_index: int) -> Decimal:
    """The level on day `last_index` if the least-squares line through the readings so
    far (day index, value) holds (never below zero); the latest reading with fewer than
    two days to fit."""
    if len(points) < 2:
        return points[-1][1] if points else Decimal(0)
    mean_x = Decimal(sum(x for x, _v in points)) / len(points)
    mean_y = sum((v for _x, v in points), Decimal(0)) / len(points)
    spread = sum((Decimal(x) - mean_x) ** 2 for x, _v in points)
    if not spread:
        return points[-1][1]
    slope = sum((Decimal(x) - mean_x) * (v - mean_y) for x, v in points) / spread
    return max(Decimal(0), mean_y + slope * (Decimal(last_index) - mean_x))


def evaluate(
    *,
    target: Decimal,
    starts_on: dt.date,
    deadline: dt.date,
    today: dt.date,
    daily: dict[dt.date, Decimal],
    cumulative: bool = True,
    lower_better: bool = False,
    baseline: Decimal = Decimal(0),
) -> Progress:
    """Progress of a goal. A cumulative metric (clicks, conversions) is summed from the
    start and its straight path runs from 0 to the target; a level (followers, response
    time, share of voice) counts as its latest reading, and its path runs from the
    baseline to the target."""
    days_total = (deadline - starts_on).days + 1
    days_elapsed = max(0, min(days_total, (today - starts_on).days + 1))
    days = [starts_on + dt.timedelta(days=i) for i in range(days_total)]
    if cumulative:
        values = [Decimal(daily.get(day, 0)) for day in days[:days_elapsed]]
        actual = sum(values, Decimal(0))
        forecast = trend_forecast(values, days_total)
        origin = Decimal(0)
        shown, running = [], Decimal(0)
        for value in values:
            running += value
            shown.append(running)
    else:
        points = [
            (i, Decimal(daily[day])) for i, day in enumerate(days[:days_elapsed]) if day in daily
        ]
        actual = points[-1][1] if points else baseline
        forecast = level_forecast(points, days_total - 1) if points else baseline
        origin = baseline
        shown, level = [], None
        for day in days[:days_elapsed]:
            level = Decimal(daily[day]) if day in daily else level
            shown.append(level)
    expected = origin + (target - origin) * days_elapsed / days_total
    if days_elapsed == 0:
        status = NOT_STARTED
    elif reached(actual, target, lower_better=lower_better) and (cumulative or points):
        status = ACHIEVED
    elif today > deadline:
        status = MISSED
    else:
        on_track = reached(forecast, target, lower_better=lower_better)
        status = ON_TRACK if on_track else AT_RISK
    path = []
    for i, day in enumerate(days):
        straight = float(origin + (target - origin) * (i + 1) / days_total)
        value = shown[i] if i < days_elapsed else None
        path.append((day, straight, None if value is None else float(value)))
    return Progress(
        target=target,
        actual=actual,
        expected=expected.quantize(Decimal("0.01")),
        forecast=forecast.quantize(Decimal("0.01")),
        status=status,
        days_total=days_total,
        days_elapsed=days_elapsed,
        path=path,
        origin=origin,
    )
