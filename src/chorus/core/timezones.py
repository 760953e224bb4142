"""Time-zone names users may pick; values are IANA names stored as text."""

from __future__ import annotations

import zoneinfo
from functools import cache


@cache
def choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def is_valid(name: str) -> bool:
    return name in zoneinfo.available_timezones()
