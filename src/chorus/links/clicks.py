"""The redirect's fast path: which requests count, rate limits, and the click buffer.

Clicks are buffered in memory and written in batches by a background thread, so the
redirect never waits on the database, and a busy or briefly locked database loses nothing:
a batch that fails goes back to the head of the buffer and is retried. Conversions that
arrived before their click was written are attributed when it is (see `services`).
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
import time
from dataclasses import dataclass

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.db import DatabaseError, close_old_connections

log = logging.getLogger(__name__)

# Link-preview fetchers and fediverse servers crawlerdetect does not know (or may not):
# a card preview is not a click. Checked case-insensitively as substrings.
PREVIEW_AGENTS = (
    "cardyb",  # Bluesky's card service
    "bluesky",
    "mastodon/",
    "pleroma",
    "akkoma",
    "misskey",
    "gotosocial",
    "http.rb",
    "facebookexternalhit",
    "twitterbot",
    "slackbot",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "linkedinbot",
    "skypeuripreview",
    "iframely",
    "embedly",
    "preview",
)
_detector = CrawlerDetect()


def is_bot(user_agent: str, meta) -> bool:
    """A crawler, a link-preview fetcher or a browser's speculative prefetch (`meta`: the
    request's META)."""
    if not user_agent.strip():
        return True
    purpose = (meta.get("HTTP_SEC_PURPOSE") or meta.get("HTTP_PURPOSE") or "").lower()
    if "prefetch" in purpose or "preview" in purpose:
        return True
    lowered = user_agent.lower()
    if any(mark in lowered for mark in PREVIEW_AGENTS):
        return True
    return bool(_detector.isCrawler(user_agent))


_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|windows phone|opera mini", re.I)
_DESKTOP = re.compile(r"windows nt|macintosh|x11|cros|linux", re.I)


def device_class(user_agent: str) -> str:
    """mobile, tablet, desktop or other: all Chorus keeps of the user agent."""
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    if _DESKTOP.search(user_agent):
        return "desktop"
    return "other"


class RateLimiter:
    """At most `limit` redirects per client address per minute, per process."""

    def __init__(self, limit: int):
        self.limit = limit
        self._window = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        if self.limit <= 0:
            return True
        window = int(time.monotonic() // 60)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(address, 0) + 1
            self._counts[address] = count
        return count <= self.limit


limiter = RateLimiter(getattr(settings, "LINKS_RATE_PER_MINUTE", 600))


@dataclass(slots=True)
class PendingClick:
    link_id: int
    token: str
    at: object
    referrer: str
    device: str
    ip: str | None


class ClickBuffer:
    """Clicks waiting to be written; `flush` writes them in batches."""

    def __init__(self, *, batch: int = 500, interval: float = 0.25, capacity: int = 200_000):
        self.batch, self.interval, self.capacity = batch, interval, capacity
        self._pending: list[PendingClick] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, click: PendingClick) -> None:
        with self._lock:
            if len(self._pending) >= self.capacity:  # the database has been down for long
                self.dropped += 1
                return
            self._pending.append(click)
            full = len(self._pending) >= self.batch
        if getattr(settings, "LINKS_BACKGROUND_FLUSH", True):
            self._ensure_thread()
            if full:
                self._wake.set()

    def flush(self) -> int:
        """Write what is pending; on a database error keep it for the next try."""
        from chorus.links import services

        written = 0
        with self._flush_lock:
            while True:
                with self._lock:
                    taken, self._pending = self._pending[: self.batch], self._pending[self.batch :]
                if not taken:
                    return written
                try:
                    services.clicks_write(taken)
                except DatabaseError:
                    log.warning("clicks not written yet (%s kept): database busy", len(taken))
                    with self._lock:
                        self._pending[:0] = taken
                    return written
                written += len(taken)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
                links.refresh()
                close_old_connections()  # the writer's own connection, if it broke
            except Exception:  # never let the writer die: the next round retries
                log.exception("click writer failed")
                time.sleep(self.interval)


buffer = ClickBuffer()
atexit.register(buffer.flush)


@dataclass(frozen=True, slots=True)
class Destination:
    link_id: int
    target: str
    disabled: bool
    store_ip: bool


class LinkCache:
    """code -> Destination, refreshed ahead of expiry by the click writer's thread.

    A code read once stays in memory while it is being clicked: every `ttl` seconds the
    writer re-reads all codes used in the last `keep` seconds in one query, so the redirect
    of a popular link never waits for the database, and a link disabled in another process
    stops redirecting within `ttl` (at once in the process that disabled it).
    """

    def __init__(self, ttl: float = 10.0, keep: float = 300.0, size: int = 50_000):
        self.ttl, self.keep, self.size = ttl, keep, size
        # code -> [expires, destination or None, last used]
        self._entries: dict[str, list] = {}
        self.hits = self.misses = 0

    def get(self, code: str) -> Destination | None:
        now = time.monotonic()
        hit = self._entries.get(code)
        if hit and hit[0] > now:
            hit[2] = now
            self.hits += 1
            return hit[1]
        self.misses += 1
        found = self._read([code]).get(code)
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[code] = [now + self.ttl, found, now]
        return found

    @staticmethod
    def _read(codes: list[str]) -> dict[str, Destination]:
        from django.db.models import Exists, OuterRef

        from chorus.links.models import LinkSettings, ShortLink

        allows_ip = LinkSettings.objects.filter(workspace=OuterRef("workspace"), store_ip=True)
        rows = (
            ShortLink.objects.filter(code__in=codes)
            .annotate(store_ip=Exists(allows_ip))
            .values_list("code", "pk", "target", "disabled", "store_ip")
        )
        return {row[0]: Destination(*row[1:]) for row in rows}

    def refresh(self) -> int:
        """Re-read the codes about to expire that are still being used; drop the rest."""
        now = time.monotonic()
        due = [
            code
            for code, (expires, _found, used) in list(self._entries.items())
            if expires - now < self.ttl / 2
        ]
        stale = [code for code in due if now - self._entries[code][2] > self.keep]
        for code in stale:
            self._entries.pop(code, None)
        fresh = [code for code in due if code not in stale]
        for start in range(0, len(fresh), 500):
            chunk = fresh[start : start + 500]
            found = self._read(chunk)
            for code in chunk:
                entry = self._entries.get(code)
                if entry is not None:
                    entry[0], entry[1] = now + self.ttl, found.get(code)
        return len(fresh)

    def forget(self, code: str) -> None:
        self._entries.pop(code, None)


links = LinkCache()
