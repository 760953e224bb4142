"""Goals: targets, the prior period, the forecast from the trend, and the status."""

import datetime as dt
from decimal import Decimal as D

from chorus.links import goals

START = dt.date(2026, 3, 1)
END = dt.date(2026, 3, 10)  # ten days


def daily(*values):
    return {START + dt.timedelta(days=i): D(v) for i, v in enumerate(values)}


def test_target_as_a_rise_over_the_baseline():
    assert goals.target_from(baseline=D(200), kind="percent", value=D(25)) == D(250)
    assert goals.target_from(baseline=D(200), kind="absolute", value=D(300)) == D(300)


def test_prior_period_has_the_same_length_and_ends_the_day_before():
    first, last = goals.prior_period(START, END)
    assert (first, last) == (dt.date(2026, 2, 19), dt.date(2026, 2, 28))
    assert (last - first).days == (END - START).days


def test_a_steady_trend_forecasts_its_run_rate():
    # 10 a day for 4 days: the least-squares line is flat at 10, so 100 by the deadline.
    assert goals.trend_forecast([D(10)] * 4, 10) == D(100)


def test_a_rising_trend_forecasts_more_than_the_run_rate():
    forecast = goals.trend_forecast([D(1), D(2), D(3), D(4)], 10)
    assert forecast == D(10) + sum(D(n) for n in range(5, 11))  # the line goes on rising


def test_a_falling_trend_never_forecasts_negative_days():
    assert goals.trend_forecast([D(9), D(6), D(3)], 10) == D(18)  # 0 a day from day 4


def test_on_track_when_the_forecast_reaches_the_target():
    progress = goals.evaluate(
        target=D(100),
        starts_on=START,
        deadline=END,
        today=START + dt.timedelta(days=3),
        daily=daily(10, 10, 10, 10),
    )
    assert progress.status == goals.ON_TRACK
    assert progress.actual == D(40) and progress.expected == D(40) and progress.forecast == D(100)


def test_at_risk_when_the_forecast_falls_short():
    progress = goals.evaluate(
        target=D(200),
        starts_on=START,
        deadline=END,
        today=START + dt.timedelta(days=3),
        daily=daily(10, 10, 10, 10),
    )
    assert progress.status == goals.AT_RISK


def test_a_passed_deadline_is_missed_or_achieved():
    after = END + dt.timedelta(days=5)
    missed = goals.evaluate(
        target=D(500), starts_on=START, deadline=END, today=after, daily=daily(*[10] * 10)
    )
    assert missed.status == goals.MISSED and missed.actual == D(100)
    assert missed.days_elapsed == 10  # days after the deadline do not count
    done = goals.evaluate(
        target=D(50), starts_on=START, deadline=END, today=after, daily=daily(*[10] * 10)
    )
    assert done.status == goals.ACHIEVED


def test_a_goal_that_has_not_started():
    progress = goals.evaluate(
        target=D(10), starts_on=START, deadline=END, today=START - dt.timedelta(days=1), daily={}
    )
    assert progress.status == goals.NOT_STARTED and progress.actual == 0


def test_the_path_rises_straight_to_the_target_and_the_actual_stops_today():
    progress = goals.evaluate(
        target=D(100),
        starts_on=START,
        deadline=END,
        today=START + dt.timedelta(days=1),
        daily=daily(5, 7),
    )
    assert [p[1] for p in progress.path] == [10.0 * n for n in range(1, 11)]
    assert [p[2] for p in progress.path[:3]] == [5.0, 12.0, None]
