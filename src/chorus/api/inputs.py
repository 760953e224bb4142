"""Input types with bounds, so that what the database or the calendar cannot hold is refused
at the schema layer with a 422 naming the field, never met later as a server error."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Path, Schema
from ninja.pagination import PageNumberPagination
from pydantic import AfterValidator

MAX_ID = 2**63 - 1  # ids are 64-bit (BigAutoField) on SQLite and PostgreSQL
MAX_PAGE = 1_000_000  # 200 million rows at the largest page size
FIRST_YEAR, LAST_YEAR = 1900, 8999  # any offset or zone keeps such a time a valid datetime

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _year_in_range(value: Any) -> Any:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _no_offset(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("a time of day in the workspace's zone, without an offset (e.g. 09:30)")
    return value


Moment = Annotated[dt.datetime, AfterValidator(_year_in_range)]
Day = Annotated[dt.date, AfterValidator(_year_in_range)]
TimeOfDay = Annotated[dt.time, AfterValidator(_no_offset)]


class Pagination(PageNumberPagination):
    """Django Ninja's page numbers, with a bounded page (a huge one overflowed the database)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE)
