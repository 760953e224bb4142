"""Server budgets: one network quota shared by every account on the same server.

Networks limit some things per account (the dispatcher follows each account's rate-limit
headers and Retry-After) and some per server and client IP address: a Bluesky PDS
allows 3,000 requests per 5 minutes from one address, whichever accounts they act for.
Brands with many accounts on one server would trip that limit in a top-of-the-hour
burst, and a 429 there stalls every account on the server. So the dispatchers share a
fixed-window budget per (network, server) in the database: each claim reserves one
request per post before anything is sent, servers whose budget is spent are skipped
until the window ends, and the further requests a post makes (thread parts, media
uploads) are charged once the claim knows them.

Defaults come from each network's `Limits.server_budget`; CHORUS_SERVER_BUDGETS
overrides them (`bluesky=2700/300,mastodon=off`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chorus.networks.models import ServerBudget, SocialAccount
from chorus.networks.providers import get_provider

Server = tuple[str, str]  # (network key, host)


def budget_for(provider_key: str) -> tuple[int, int] | None:
    """(requests, window seconds) for each server of this network, or None: unlimited."""
    overrides = settings.CHORUS_SERVER_BUDGETS
    if provider_key in overrides:
        return overrides[provider_key]
    return get_provider(provider_key).limits.server_budget


def spent_servers(now: datetime) -> list[Server]:
    """Servers whose budget for the current window is used up."""
    return list(
        ServerBudget.objects.filter(window_ends_at__gt=now, used__gte=F("limit")).values_list(
            "provider", "server"
        )
    )


def reserve(wanted: Counter[Server], now: datetime) -> Counter[Server]:
    """Take up to `wanted` requests from each server's budget and return what was granted.

    Call inside the claim's transaction: the budget rows stay locked until it commits,
    so two dispatchers never hand out the same request.
    """
    granted: Counter[Server] = Counter()
    for server in sorted(wanted):  # one lock order for every dispatcher: no deadlocks
        budget = budget_for(server[0])
        if budget is None:
            granted[server] = wanted[server]
            continue
        row = _current_window(server, budget, now)
        granted[server] = max(0, min(wanted[server], row.limit - row.used))
        row.used += granted[server]
        row.save(update_fields=["limit", "used", "window_ends_at"])
    return granted


def _current_window(server: Server, budget: tuple[int, int], now: datetime) -> ServerBudget:
    """The server's budget row for the window open at `now`, locked until the caller commits."""
    limit, seconds = budget
    row, _created = ServerBudget.objects.select_for_update().get_or_create(
        provider=server[0],
        server=server[1],
        defaults={"limit": limit, "window_ends_at": now + timedelta(seconds=seconds)},
    )
    if row.window_ends_at <= now:
        row.used, row.window_ends_at = 0, now + timedelta(seconds=seconds)
    row.limit = limit
    return row


def _own_budget_short(account: SocialAccount, requests: int, now: datetime, reserve: float) -> bool:
    """Would `requests` more dip into the reserve of the account's current rate window?"""
    if account.rate_reset_at is None or account.rate_reset_at <= now:
        return False  # no window known, or it has reset: the network will tell us again
    if not account.rate_limit or account.rate_remaining is None:
        return False
    return account.rate_remaining - requests < ceil(account.rate_limit * reserve)


def reserve_background(account: SocialAccount, requests: int, now: datetime) -> datetime | None:
    """Let a background reader (inbox poller, metrics collector, listening backfill) spend
    `requests` of the account's and its server's budgets; None when granted, else when to try.

    Readers stop short of the last `CHORUS_PUBLISHING_RESERVE` share of either budget, which
    only the dispatcher may use, so polling never starves publishing. The account's share is
    read from the network's latest rate-limit headers (kept by `services.provider_for`).
    """
    if _own_budget_short(account, requests, now, settings.CHORUS_PUBLISHING_RESERVE):
        return account.rate_reset_at
    if not account.server:
        return None
    return reserve_server_background((account.provider, account.server), requests, now)


def reserve_server_background(server: Server, requests: int, now: datetime) -> datetime | None:
    """The server half of `reserve_background`, for readers acting for no account of ours
    (public reads of competitors' accounts); None when granted, else when to try again."""
    budget = budget_for(server[0])
    if budget is None:
        return None
    with transaction.atomic():
        row = _current_window(server, budget, now)
        if row.used + requests > int(row.limit * (1 - settings.CHORUS_PUBLISHING_RESERVE)):
            row.save(update_fields=["limit", "used", "window_ends_at"])
            return row.window_ends_at
        row.used += requests
        row.save(update_fields=["limit", "used", "window_ends_at"])
    return None


def background_ample(account: SocialAccount, now: datetime, share: float) -> bool:
    """Is at least `share` of the account's rate window and of its server's budget still
    unspent? Charges nothing: an optional extra reader (the inbox's fast polling while a
    page is open) asks first and keeps to its normal pace when the answer is no."""
    if _own_budget_short(account, 0, now, share):
        return False
    budget = budget_for(account.provider) if account.server else None
    if budget is None:
        return True
    row = ServerBudget.objects.filter(provider=account.provider, server=account.server).first()
    if row is None or row.window_ends_at <= now:
        return True
    return row.limit - row.used >= ceil(row.limit * share)


def charge(extra: Counter[Server]) -> None:
    """Count further requests (thread parts, media uploads) against budgeted servers."""
    for (provider, server), count in extra.items():
        if count > 0 and budget_for(provider) is not None:
            ServerBudget.objects.filter(provider=provider, server=server).update(
                used=F("used") + count
            )


@dataclass(frozen=True)
class ServerUsage:
    """What an account's server budget looks like now (for its health page)."""

    server: str
    limit: int
    window_seconds: int
    used: int  # in the current window
    window_ends_at: datetime | None  # None: no window open


def usage_of(account: SocialAccount) -> ServerUsage | None:
    """The shared budget of this account's server, or None if its network sets none."""
    budget = budget_for(account.provider)
    if budget is None or not account.server:
        return None
    row = ServerBudget.objects.filter(provider=account.provider, server=account.server).first()
    current = row is not None and row.window_ends_at > timezone.now()
    return ServerUsage(
        server=account.server,
        limit=budget[0],
        window_seconds=budget[1],
        used=row.used if current else 0,
        window_ends_at=row.window_ends_at if current else None,
    )
