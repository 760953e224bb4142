"""Background collection of analytics; each task calls one collection function."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.analytics import collection
from chorus.networks.models import SocialAccount

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def collect_metrics() -> None:
    """Every five minutes: track newly published posts and read what is due."""
    outcome = collection.collect_all()
    if outcome.read or outcome.failed or outcome.deferred:
        log.info(
            "analytics: %s read, %s deleted, %s deferred, %s failed",
            outcome.read,
            outcome.deleted,
            outcome.deferred,
            outcome.failed,
        )


@db_periodic_task(crontab(minute="7"))
def collect_competitors() -> None:
    """Every hour: read the competitors whose daily reading is due."""
    from chorus.analytics import competitors

    outcome = competitors.collect_competitors()
    if outcome.read or outcome.failed or outcome.deferred:
        log.info(
            "analytics: competitors %s read, %s deferred, %s failed",
            outcome.read,
            outcome.deferred,
            outcome.failed,
        )


@db_task()
def backfill_account(account_id: int) -> None:
    """After an account is connected: its recent posts (bounded) and a first reading."""
    account = SocialAccount.objects.filter(pk=account_id).first()
    if account is not None:
        collection.backfill(account=account)


@db_periodic_task(crontab(minute="*"))
def send_scheduled_reports() -> None:
    """Every minute: e-mail the reports whose scheduled time has come."""
    from chorus.analytics import schedules

    sent = schedules.send_due()
    if sent:
        log.info("analytics: %s scheduled report e-mails sent", sent)
