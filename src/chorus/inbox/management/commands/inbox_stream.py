"""``chorus manage inbox_stream``: keep a push stream open per connected Mastodon account.

Runs until SIGINT/SIGTERM; see `chorus.inbox.streams`. Polling goes on beside it (the
worker's `poll_due_accounts`), so stopping this loses nothing, it only makes arrivals slower.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from chorus.inbox.streams import StreamConsumer


class Command(BaseCommand):
    help = "Receive inbox messages from Mastodon's streaming API as they happen (until stopped)."

    def handle(self, *args, **options) -> None:
        consumer = StreamConsumer()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: consumer.stop.set())
        self.stdout.write("inbox streams started")
        consumer.run()
