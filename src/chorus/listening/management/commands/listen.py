"""``chorus manage listen``: read public streams into listening until stopped.

    chorus manage listen --firehose wss://bsky.network
    chorus manage listen --jetstream wss://jetstream2.us-east.bsky.network/subscribe
    chorus manage listen --mastodon https://mastodon.social [--hashtag tag] [--remote-only]
    chorus manage listen --connected-mastodon      # the servers of connected accounts
    chorus manage listen --match                   # a matcher of CHORUS_LISTENING_BROKER

Each stream resumes from the cursor saved on its Source row. SIGINT/SIGTERM stop cleanly
(the last batch and cursor are saved).
"""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chorus.listening import pipeline, selectors
from chorus.listening.sources.consumer import FIREHOSE, JETSTREAM, Consumer, firehose_url
from chorus.listening.sources.mastodon import MastodonConsumer, MastodonStream


class Command(BaseCommand):
    help = "Read Bluesky's and Mastodon's public streams into social listening (until stopped)."

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
        parser.add_argument(
            "--mastodon",
            action="append",
            default=[],
            metavar="URL",
            help="a Mastodon server whose public stream (and --hashtag streams) to read",
        )
        parser.add_argument(
            "--connected-mastodon",
            action="store_true",
            help="also the servers our connected Mastodon accounts live on (with their token)",
        )
        parser.add_argument(
            "--hashtag",
            action="append",
            default=[],
            metavar="TAG",
            help="read this hashtag's stream on each Mastodon server, instead of its public one",
        )
        parser.add_argument(
            "--remote-only",
            action="store_true",
            help="Mastodon's public:remote stream (other servers' posts) instead of public",
        )
        parser.add_argument(
            "--match",
            action="store_true",
            help="be one matcher of the consumer group on CHORUS_LISTENING_BROKER",
        )

    def handle(self, *args, **options) -> None:
        if options["match"]:
            self._match()
            return
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
        consumers += [MastodonConsumer(stream) for stream in self._mastodon_streams(options)]
        if not consumers:
            raise CommandError(
                "name at least one stream: --firehose URL, --jetstream URL, --mastodon URL "
                "or --connected-mastodon"
            )
        asyncio.run(self._run(consumers))

    def _mastodon_streams(self, options) -> list[MastodonStream]:
        servers = dict.fromkeys(options["mastodon"], "")
        if options["connected_mastodon"]:
            servers.update(selectors.mastodon_servers())
        public = "public:remote" if options["remote_only"] else "public"
        try:
            return [
                MastodonStream(server, "hashtag", tag=tag, token=token)
                if tag
                else MastodonStream(server, public, token=token)
                for server, token in servers.items()
                for tag in options["hashtag"] or [""]
            ]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def _match(self) -> None:
        if not settings.CHORUS_LISTENING_BROKER:
            raise CommandError("--match reads CHORUS_LISTENING_BROKER (redis://…), which is unset")
        matcher = pipeline.Matcher(pipeline.Broker(settings.CHORUS_LISTENING_BROKER))
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: matcher.stop())
        matcher.run()

    async def _run(self, consumers: list[Consumer]) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: [c.stop() for c in consumers])
        await asyncio.gather(*(consumer.run() for consumer in consumers))
