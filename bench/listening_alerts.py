"""Listening alerts: time from spike onset to alert, and false alerts on the flat part.

    .venv/bin/python bench/listening_alerts.py [--runs 5] [--flat-hours 6]

A fresh SQLite database is migrated; each run stores four past weeks and the current week of
a synthetic stream (tests/listening/spike_stream.py: a few posts a minute, more by day, with
noise) and injects a spike of 20 extra posts a minute at a random second. The detector
(chorus.listening.alerts.detect, the every-minute Huey task's body) is replayed once a
minute at a random phase, as the periodic task would run it, and the time from the spike's
first post to the pass that fired is reported (goal <= 60 s), with false alerts before the
spike and over a spike-free stretch of --flat-hours (goal 0), and the detector's cost per pass.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def setup_django(data_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=f"sqlite:///{data_dir}/alerts.sqlite3",
        CHORUS_DATA_DIR=data_dir,
        CHORUS_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="chorus.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def replay(alerts, start, minutes, phase, *, query_ids=None, batch_seconds=10):
    """Detector passes once a minute from `start + phase`, and with `query_ids` also the
    check ingest runs after each batch (one every `batch_seconds` of stream time, as a source
    flushes); (pass time, alert) of each firing."""
    fired = []
    step = dt.timedelta(seconds=batch_seconds)
    moment, end = start, start + dt.timedelta(minutes=minutes)
    next_minute = start + dt.timedelta(seconds=phase)
    while moment <= end:
        found = []
        if query_ids is not None:
            found += alerts.check_ingested(query_ids, now=moment)
        if moment >= next_minute:
            t0 = time.process_time()
            found += alerts.detect(now=moment)
            replay.costs.append(time.process_time() - t0)
            next_minute += dt.timedelta(minutes=1)
        fired += [(moment, alert) for alert in found]
        moment += step
    return fired


replay.costs = []


RUNS = iter(range(10_000))


def spike_runs(alerts, services, spike_stream, owner, rng, runs, mode, window):
    """`runs` streams with a spike; the onset-to-alert delays and alerts before the onset."""
    delays, early = [], 0
    for _ in range(runs):
        run = next(RUNS)
        topic = services.topic_create(actor=owner, name=f"Run {run}", kind="brand")
        query = services.query_create(actor=owner, topic=topic, name="Us", text=f"run{run}")
        alerts.rule_create(
            actor=owner, topic=topic, kind="volume", window_minutes=window, notify_members=False
        )
        start = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=run * 35)
        stream = spike_stream.store(query, start=start, minutes=150, spike_minute=120, seed=run)
        onset = stream.spike_at  # the spike's first post is at second 0 of its minute
        ingest = {query.pk} if "ingest" in mode else None
        fired = replay(alerts, start, 150, rng.uniform(0, 60), query_ids=ingest)
        early += sum(1 for _moment, alert in fired if alert.window_end <= onset)
        late = [moment for moment, alert in fired if alert.window_end > onset]
        if late:
            delays.append((late[0] - onset).total_seconds())
        topic.is_active = False  # later runs' passes check only their own rule
        topic.save()
    return delays, early


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--flat-hours", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from tests.listening import spike_stream

        from chorus.accounts import services as accounts
        from chorus.accounts.models import Membership
        from chorus.listening import alerts, services

        user = accounts.user_sign_up(
            email="bench@example.org", password="bench-password-1", workspace_name="Bench"
        )
        owner = Membership.objects.get(user=user)
        rng = random.Random(11)
        results = {}
        for mode, window in (
            ("minute task", 15),
            ("minute task", 5),
            ("minute task + ingest", 15),
            ("minute task + ingest", 5),  # the default: what Chorus does
        ):
            results[(mode, window)] = spike_runs(
                alerts, services, spike_stream, owner, rng, args.runs, mode, window
            )
        topic = services.topic_create(actor=owner, name="Flat", kind="brand")
        query = services.query_create(actor=owner, topic=topic, name="Us", text="flat")
        alerts.rule_create(actor=owner, topic=topic, kind="volume", notify_members=False)
        start = dt.datetime(2027, 6, 7, 0, 0, tzinfo=dt.UTC)
        minutes = args.flat_hours * 60
        spike_stream.store(query, start=start, minutes=minutes, seed=999)
        replay.costs.clear()
        flat = replay(alerts, start, minutes, 30.0, query_ids={query.pk})
    costs = sorted(replay.costs)
    print(f"spike: +20 posts a minute over a 1-3 a minute baseline, {args.runs} runs each")
    for (mode, window), (delays, early) in results.items():
        figures = (
            f"p50 {statistics.median(delays):.0f} s, max {max(delays):.0f} s"
            if delays
            else "none detected"
        )
        print(
            f"{mode:>22}, {window:>2}-min window: onset to alert {figures} (goal <= 60 s); "
            f"detected {len(delays)}/{args.runs}; false alerts before the spike {early}"
        )
    print(
        f"false alerts on the flat stream (default 5-min window, ingest checks): {len(flat)} "
        f"over {args.flat_hours} h (goal 0)"
    )
    print(
        f"detector pass (one rule, SQLite): p50 {1000 * costs[len(costs) // 2]:.1f} ms, "
        f"p95 {1000 * costs[int(len(costs) * 0.95)]:.1f} ms CPU"
    )


if __name__ == "__main__":
    main()
