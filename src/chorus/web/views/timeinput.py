"""Wall-clock times typed by a person, read in the active time zone and turned into UTC."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.core.errors import ServiceError


def local_to_utc(day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """A wall-clock `day` `at` in `zone` as an aware UTC datetime, DST-correct.

    A time the clocks skip (e.g. 01:30 on the March change in Europe/London) is refused
    rather than silently moved; a time that happens twice (the autumn change) is the first.
    """
    local = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0)).replace(tzinfo=zone)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ServiceError(
            _("%(time)s does not exist on %(day)s in %(zone)s: the clocks skip it.")
            % {"time": at.strftime("%H:%M"), "day": day.isoformat(), "zone": zone_name(zone)},
            field="scheduled_at",
        )
    return utc


def zone_name(zone: dt.tzinfo | None = None) -> str:
    zone = zone or timezone.get_current_timezone()
    return getattr(zone, "key", None) or str(zone)


def parse_day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def parse_time(value: str | None) -> dt.time | None:
    try:
        return dt.time.fromisoformat((value or "").strip())
    except ValueError:
        return None


def when_from(data) -> dt.datetime:
    """`scheduled_date` + `scheduled_time` (active zone) → UTC, or a field error."""
    day, at = parse_day(data.get("scheduled_date")), parse_time(data.get("scheduled_time"))
    if day is None or at is None:
        raise ServiceError(_("Choose a date and a time."), field="scheduled_at")
    return local_to_utc(day, at, timezone.get_current_timezone())


# --------------------------------------------------------------------------- composer state
