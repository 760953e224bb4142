"""Goals over levels (followers, response time, share of voice): the path from the
baseline, the forecast from the readings' line, and lower-is-better targets."""

import datetime as dt
from decimal import Decimal as D

from chorus.links import goals

START = dt.date(2026, 3, 1)
END = dt.date(2026, 3, 10)  # ten days


def readings(**by_day):
    return {START + dt.timedelta(days=int(k[1:])): D(v) for k, v in by_day.items()}


def test_a_lower_is_better_target_is_a_cut_below_the_baseline():
    assert goals.target_from(baseline=D(60), kind="percent", value=D(25), lower_better=True) == D(
        45
    )


def test_a_level_counts_its_latest_reading_not_the_sum():
    progress = goals.evaluate(
        target=D(1200),
        starts_on=START,
        deadline=END,
        today=START + dt.timedelta(days=3),
        daily=readings(d0=1000, d1=1010, d2=1020, d3=1030),
        cumulative=False,
        baseline=D(1000),
    )
    assert progress.actual == D(1030)
    assert progress.forecast == D(1090)  # +10 a day up to day 9
    assert progress.status == goals.AT_RISK
    assert progress.path[0][1] == 1020.0  # the straight path starts from the baseline
    assert progress.percent == 15  # 30 of the 200 to gain


def test_a_falling_response_time_on_its_way_to_the_target_is_on_track():
    progress = goals.evaluate(
        target=D(30),
        starts_on=START,
        deadline=END,
        today=START + dt.timedelta(days=4),
        daily=readings(d0=60, d2=50, d4=40),  # quiet days keep the last reading
        cumulative=False,
        lower_better=True,
        baseline=D(60),
    )
    assert progress.actual == D(40) and progress.forecast == D(15)
    assert progress.status == goals.ON_TRACK
    assert [p[2] for p in progress.path[:5]] == [60.0, 60.0, 50.0, 50.0, 40.0]


def test_a_level_goal_reached_is_achieved_and_one_with_no_reading_is_not():
    common = {"target": D(30), "starts_on": START, "deadline": END, "cumulative": False}
    reached = goals.evaluate(
        today=START, daily=readings(d0=25), lower_better=True, baseline=D(60), **common
    )
    assert reached.status == goals.ACHIEVED
    nothing = goals.evaluate(
        today=START + dt.timedelta(days=2), daily={}, baseline=D(60), lower_better=True, **common
    )
    assert nothing.actual == D(60) and nothing.status == goals.AT_RISK
