"""Push for the inbox: one open stream per connected Mastodon account.

`chorus manage inbox_stream` (or `chorus run`) runs a `StreamConsumer`: a thread per
account reads `stream_interactions()` and stores each arriving item through the same
idempotent `ingest.store_page` the poller uses, but without moving the poll cursor
(`advance=False`). The poller stays the safety net: it still reads past those items, finds
them stored, and stores nothing twice. A stream that breaks reconnects after an exponential
back-off (capped, with jitter) and asks the poller to run at once to fill the gap; a server
that offers no event stream is left to polling. While a stream is open the account's
`PollState.stream_until` is renewed, so the inbox shows "live (streaming)" or "polling".
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.models import PollState
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers.base import AuthExpired, InteractionPage, ProviderError
from chorus.networks.providers.mastodon_streaming import StreamingUnavailable

log = logging.getLogger(__name__)

STREAMING_PROVIDERS = ("mastodon",)
FIRST_WAIT = 2.0  # seconds before the first reconnect
LONGEST_WAIT = 300.0  # the back-off's cap
RENEW_EVERY = 30.0  # seconds between renewals of `stream_until`
LIVE_FOR = timedelta(seconds=90)  # how long a renewal says "live" without the next one
RESCAN_EVERY = 60.0  # seconds between looks for accounts connected or removed


def backoff(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before reconnect number `failures` (1, 2, …): doubling from
    FIRST_WAIT, capped at LONGEST_WAIT, with "equal jitter" (half fixed, half random) so
    accounts on one server that broke together do not reconnect together."""
    ceiling = min(LONGEST_WAIT, FIRST_WAIT * 2 ** max(failures - 1, 0))
    return ceiling / 2 + ceiling / 2 * rand()


def store_streamed(account: SocialAccount, items) -> ingest.Stored:
    """Store pushed items the way a polled page is stored, leaving the cursor as it is."""
    page = InteractionPage(items=tuple(items), cursor="")
    return ingest.store_page(account, page, now=timezone.now(), advance=False)


def _mark(account_id: int, live: bool) -> None:
    until = timezone.now() + LIVE_FOR if live else None
    PollState.objects.filter(account_id=account_id).update(stream_until=until)


def _poll_soon(account_id: int) -> None:
    """Ask the poller to read what came while the stream was down."""
    PollState.objects.filter(account_id=account_id).update(next_poll_at=timezone.now())


class AccountStream(threading.Thread):
    """Keeps one account's stream open until `stop` is set, the account goes away or its
    server turns out to have no stream."""

    def __init__(self, account_id: int, stop: threading.Event) -> None:
        super().__init__(name=f"inbox-stream-{account_id}", daemon=True)
        self.account_id = account_id
        self.stop = stop
        self.connected = threading.Event()
        self.failures = 0
        self.unavailable = False
        self._http = None

    def interrupt(self) -> None:
        """Stop now: closing the connection ends a read that waits for the next event."""
        self.stop.set()
        http = self._http
        if http is not None:
            try:
                http.close()
            except Exception:  # noqa: BLE001 - already closing; the thread ends either way
                log.debug("closing the stream of account %s", self.account_id, exc_info=True)

    def run(self) -> None:
        try:
            while not self.stop.is_set() and self._account() is not None:
                ended = self.read_once()
                if ended is None:
                    return
                self.failures += 1
                _poll_soon(self.account_id)
                self.stop.wait(backoff(self.failures))
        finally:
            self.connected.clear()
            _mark(self.account_id, False)
            close_old_connections()

    def _account(self) -> SocialAccount | None:
        close_old_connections()
        return SocialAccount.objects.filter(pk=self.account_id, status=AccountStatus.ACTIVE).first()

    def read_once(self) -> str | None:
        """One connection: store what arrives until it ends. Returns why it ended (to
        reconnect), or None to stop for good."""
        from chorus.networks.services import provider_for

        account = self._account()
        if account is None:
            return None
        PollState.objects.get_or_create(account=account, defaults={"next_poll_at": timezone.now()})
        try:
            with provider_for(account) as provider:
                self._http = getattr(provider, "http", None)
                if self.stop.is_set():
                    return None
                for item in provider.stream_interactions():
                    if not self.connected.is_set():
                        self.connected.set()
                        self.failures = 0
                        _mark(self.account_id, True)
                    store_streamed(account, [item])
                    if self.stop.is_set():
                        return None
        except StreamingUnavailable as exc:
            log.info("account %s has no event stream, polling it: %s", account.pk, exc.message)
            self.unavailable = True
            return None
        except AuthExpired:
            return None  # needs reconnecting: provider_for marked the account
        except ProviderError as exc:
            if self.stop.is_set():
                return None
            log.info("stream of account %s ended: %s", account.pk, exc.message)
            return exc.message
        finally:
            self._http = None
            if self.connected.is_set():
                self.connected.clear()
                _mark(self.account_id, False)
        return "ended"


class StreamConsumer:
    """Runs an AccountStream for every connected account of a streaming network, renews
    their "live" mark and picks up accounts connected later."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.streams: dict[int, AccountStream] = {}
        self.unavailable: set[int] = set()

    def accounts(self) -> list[int]:
        return list(
            SocialAccount.objects.filter(
                status=AccountStatus.ACTIVE, provider__in=STREAMING_PROVIDERS
            ).values_list("pk", flat=True)
        )

    def rescan(self) -> None:
        """Start streams for accounts without one (servers without a stream are asked
        again at the next start of the consumer, not every minute)."""
        for pk, thread in list(self.streams.items()):
            if not thread.is_alive():
                if thread.unavailable:
                    self.unavailable.add(pk)
                del self.streams[pk]
        for pk in self.accounts():
            if pk not in self.streams and pk not in self.unavailable:
                thread = AccountStream(pk, self.stop)
                self.streams[pk] = thread
                thread.start()

    def renew(self) -> None:
        live = [pk for pk, thread in self.streams.items() if thread.connected.is_set()]
        if live:
            PollState.objects.filter(account_id__in=live).update(
                stream_until=timezone.now() + LIVE_FOR
            )

    def run(self) -> None:
        """Until `stop` is set (SIGINT/SIGTERM in the command)."""
        last_scan = None
        try:
            while not self.stop.is_set():
                now = timezone.now()
                if last_scan is None or (now - last_scan).total_seconds() >= RESCAN_EVERY:
                    self.rescan()
                    last_scan = now
                self.renew()
                close_old_connections()
                self.stop.wait(RENEW_EVERY)
        finally:
            self.stop.set()
            for thread in self.streams.values():
                thread.interrupt()
            for thread in self.streams.values():
                thread.join(timeout=5)
