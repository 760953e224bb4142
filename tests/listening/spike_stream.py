"""A replayable listening stream with daily rhythm, past weeks of history and one injected
spike, stored as mentions of a topic (shared by the alert tests and bench/listening_alerts.py).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from chorus.listening.models import Mention, Query

MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Stream:
    start: dt.datetime  # first replayed minute of the current week
    minutes: int  # replayed minutes
    spike_at: dt.datetime | None  # first minute of the spike


def per_minute(rng: random.Random, moment: dt.datetime) -> int:
    """A few posts a minute, more by day than at night, with noise."""
    base = 3 if 8 <= moment.hour < 20 else 1
    return max(0, base + rng.choice((-1, 0, 0, 1)))


def store(
    query: Query,
    *,
    start: dt.datetime,
    minutes: int,
    weeks: int = 4,
    spike_minute: int | None = None,
    spike_rate: int = 20,
    spike_length: int = 10,
    negative_spike: bool = False,
    seed: int = 7,
) -> Stream:
    """Store `weeks` past weeks and the current week over the same minutes (plus the window
    before them), with a spike of `spike_rate` extra posts a minute from `spike_minute`."""
    rng = random.Random(seed)
    lead = 60  # minutes before `start`, so the first windows are full
    rows: list[Mention] = []
    for week in range(weeks, -1, -1):
        origin = start - dt.timedelta(weeks=week)
        for minute in range(-lead, minutes):
            moment = origin + minute * MINUTE
            count = per_minute(rng, moment)
            spiking = (
                week == 0
                and spike_minute is not None
                and spike_minute <= minute < spike_minute + spike_length
            )
            extra = spike_rate if spiking else 0
            for n in range(count + extra):
                negative = (n % 5 == 0) if not (spiking and negative_spike) else n % 5 != 4
                rows.append(
                    Mention(
                        workspace_id=query.topic.workspace_id,
                        network="bluesky",
                        uri=f"at://q{query.pk}/w{week}/m{minute}/{n}",
                        author="someone.example",
                        text="chorus",
                        sentiment=("negative" if negative else "positive") if n % 2 == 0 else "",
                        posted_at=moment + dt.timedelta(seconds=(n * 7) % 60),
                    )
                )
    stored = Mention.objects.bulk_create(rows, batch_size=2000)
    Mention.queries.through.objects.bulk_create(
        [Mention.queries.through(mention_id=m.pk, query_id=query.pk) for m in stored],
        batch_size=2000,
    )
    spike_at = start + spike_minute * MINUTE if spike_minute is not None else None
    return Stream(start=start, minutes=minutes, spike_at=spike_at)
