"""Listening's background work: retention, alerts, back-filling a new query's hashtags."""

import logging

import httpx
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.listening import services


@db_periodic_task(crontab(hour="4", minute="41"))
def purge_expired_mentions() -> int:
    return services.purge_expired()


@db_periodic_task(crontab(minute="*"))
def detect_alerts() -> int:
    """Every minute: compare each alert rule's last window with its usual level."""
    from chorus.listening import alerts

    return len(alerts.detect())


@db_task()
def backfill_hashtags(query_id: int) -> int:
    """A saved query's hashtags, read back from the tag timelines of the servers our
    connected Mastodon accounts live on (a server that fails is skipped)."""
    from chorus.listening import selectors
    from chorus.listening.sources.mastodon import MastodonStream, backfill_hashtag

    stored = 0
    tags = selectors.query_hashtags(query_id)
    for server, token in selectors.mastodon_servers().items() if tags else ():
        for tag in sorted(tags):
            stream = MastodonStream(server, "hashtag", tag=tag, token=token)
            try:
                stored += backfill_hashtag(stream)
            except (httpx.HTTPError, ValueError) as exc:
                logging.getLogger(__name__).warning("backfill %s: %s", stream.name, exc)
    return stored
