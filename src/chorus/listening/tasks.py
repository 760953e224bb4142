"""Listening's background work: retention."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from chorus.listening import services


@db_periodic_task(crontab(hour="4", minute="41"))
def purge_expired_mentions() -> int:
    return services.purge_expired()
