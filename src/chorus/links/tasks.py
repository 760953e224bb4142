"""Background work for links; each task calls one service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from chorus.links import services


@db_periodic_task(crontab(minute="*/10"))
def attribute_waiting_conversions() -> None:
    """Every ten minutes: conversions whose click id was unknown when they arrived (the
    click still in a buffer that was written later) are matched again."""
    services.conversions_attribute_waiting()


@db_periodic_task(crontab(minute="7"))
def check_goals() -> None:
    """Every hour: goals that have just become at risk notify their campaign's owner."""
    services.goals_check()
