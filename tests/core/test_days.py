"""Per-day sums in the database give the same local days on SQLite and PostgreSQL, including
zones a quarter or half an hour off UTC and a day that loses an hour to summer time."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from chorus.core.days import per_local_day
from chorus.links.models import Click, ShortLink

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def link(owner):
    return ShortLink.objects.create(
        workspace=owner.workspace, code="daystest", target="https://example.org/", network="x"
    )


def _click(link, at: dt.datetime, n: int) -> None:
    Click.objects.create(link=link, token=f"t{n}", at=at, device="mobile")


def _expected(times, zone) -> dict:
    days: dict = {}
    for at in times:
        day = at.astimezone(zone).date()
        days[day] = days.get(day, 0) + 1
    return days


@pytest.mark.parametrize("zone_name", ["Asia/Kathmandu", "Asia/Kolkata", "Europe/Berlin", "UTC"])
def test_each_row_falls_on_its_local_day(link, zone_name):
    zone = zoneinfo.ZoneInfo(zone_name)
    # Around local midnights, a quarter hour apart, across Berlin's spring change (29 March).
    start = dt.datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
    times = [start + dt.timedelta(minutes=14 * n) for n in range(400)]
    for n, at in enumerate(times):
        _click(link, at, n)
    counted = per_local_day(Click.objects.filter(link=link), "at", zone, Count("id"))
    assert counted == {day: Decimal(n) for day, n in _expected(times, zone).items()}
    assert len(counted) >= 3


def test_a_second_grouping_and_a_sum(link, owner):
    from chorus.links.models import Conversion

    zone = zoneinfo.ZoneInfo("Asia/Bangkok")
    at = dt.datetime(2026, 5, 1, 16, 59, tzinfo=UTC)  # 23:59 in Bangkok
    for n, (minutes, currency, value) in enumerate(
        [(0, "THB", "100"), (2, "THB", "50"), (2, "USD", "7"), (3, "USD", "3")]
    ):
        Conversion.objects.create(
            workspace=owner.workspace,
            at=at + dt.timedelta(minutes=minutes),
            value=Decimal(value),
            currency=currency,
            order_id=f"o{n}",
            source="api",
        )
    rows = Conversion.objects.filter(workspace=owner.workspace)
    summed = per_local_day(rows, "at", zone, Sum("value"), also="currency")
    assert summed == {
        (dt.date(2026, 5, 1), "THB"): Decimal("100"),
        (dt.date(2026, 5, 2), "THB"): Decimal("50"),
        (dt.date(2026, 5, 2), "USD"): Decimal("10"),
    }
