"""``chorus manage listen``: read Bluesky streams into listening until stopped.

    chorus manage listen --firehose wss://bsky.network
    chorus manage listen --jetstream wss://jetstream2.us-east.bsky.network/subscribe

Each stream resumes from the cursor saved on its Source row. SIGINT/SIGTERM stop cleanly
(the last batch and cursor are saved).
"""

from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from chorus.listening.sources.consumer import FIREHOSE, JETSTREAM, Consumer, firehose_url


class Command(BaseCommand):
    help = "Read Bluesky's firehose or Jetstream into social listening (runs until stopped)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--firehose",
            action="append",
            default=[],
            metavar="URL",
            help="a relay or PDS (com.atproto.sync.subscribeRepos)",
        )
        parser.add_argument(
            "--appview",
            default="",
            metavar="URL",
            help="an AppView (https://public.api.bsky.app) for matched authors' handle and reach",
        )
        parser.add_argument(
            "--jetstream",
            action="append",
            default=[],
            metavar="URL",
            help="a Jetstream /subscribe URL",
        )

    def handle(self, *args, **options) -> None:
        consumers = [
            Consumer(
                name=f"{FIREHOSE} {url}",
                kind=FIREHOSE,
                url=firehose_url(url),
                appview_url=options["appview"],
            )
            for url in options["firehose"]
        ]
        for url in options["jetstream"]:
            if "wantedCollections" not in url:
                url += ("&" if "?" in url else "?") + "wantedCollections=app.bsky.feed.post"
            consumers.append(
                Consumer(
                    name=f"{JETSTREAM} {url}",
                    kind=JETSTREAM,
                    url=url,
                    appview_url=options["appview"],
                )
            )
        if not consumers:
            raise CommandError("name at least one stream: --firehose URL or --jetstream URL")
        asyncio.run(self._run(consumers))

    async def _run(self, consumers: list[Consumer]) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: [c.stop() for c in consumers])
        await asyncio.gather(*(consumer.run() for consumer in consumers))
