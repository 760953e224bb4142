"""Listening's background work: retention."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from chorus.listening import services


@db_periodic_task(crontab(hour="4", minute="41"))
def purge_expired_mentions() -> int:
    return services.purge_expired()


@db_periodic_task(crontab(minute="*"))
def detect_alerts() -> int:
    """Every minute: compare each alert rule's last window with its usual level."""
    from chorus.listening import alerts

    return len(alerts.detect())
