"""Queue slots: the next free weekly posting time of one account, or of many at once."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from itertools import islice

from chorus.networks.models import SocialAccount
from chorus.publishing.models import Post, Variant, VariantStatus

QUEUE_HORIZON_DAYS = 60
__all__ = ["QUEUE_HORIZON_DAYS", "next_free_slot", "next_free_slots"]


def next_free_slot(
    account: SocialAccount, *, after: datetime, exclude_post: Post | None = None
) -> datetime | None:
    """The first weekly slot after `after` (in the workspace's zone, DST-correct) not taken."""
    return next_free_slots([account], after=after, exclude_post=exclude_post)[account.pk]


SLOT_BATCH = 32  # candidate slot times checked per account and query


def _slot_times(account: SocialAccount, after: datetime):
    """The account's weekly slot instants after `after`, in order, over the horizon."""
    slots = sorted(account.slots.all(), key=lambda s: (s.weekday, s.time))
    if not slots:
        return
    zone = zoneinfo.ZoneInfo(account.workspace.timezone)
    local_day = after.astimezone(zone).date()
    for offset in range(QUEUE_HORIZON_DAYS):
        day = local_day + timedelta(days=offset)
        for slot in slots:
            if slot.weekday != day.weekday():
                continue
            when = datetime.combine(day, slot.time, tzinfo=zone).astimezone(UTC)
            if when > after:
                yield when


def next_free_slots(
    accounts: list[SocialAccount], *, after: datetime, exclude_post: Post | None = None
) -> dict[int, datetime | None]:
    """{account id: its first free slot after `after`, or None}, for many accounts at once.

    Only candidate slot instants are looked up (the next few of each account, in one query
    for all accounts), never every future post: a full queue asks again for the accounts
    still without a free slot, so the number of queries does not grow with the accounts.
    Load accounts with `select_related("workspace")` and `prefetch_related("slots")`.
    """
    pending = {account.pk: _slot_times(account, after) for account in accounts}
    found: dict[int, datetime | None] = {}
    while pending:
        chunk = {pk: list(islice(times, SLOT_BATCH)) for pk, times in pending.items()}
        # One query for every (account, candidate time): accounts usually share their slot
        # times, so asking for the union of times over all the accounts stays short.
        instants = {t for times in chunk.values() for t in times}
        taken = set()
        if instants:
            taken = set(
                Variant.objects.filter(
                    account_id__in=[pk for pk, times in chunk.items() if times],
                    scheduled_at__in=sorted(instants),
                    status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING],
                )
                .exclude(post=exclude_post)
                .values_list("account_id", "scheduled_at")
            )
        still = {}
        for pk, times in chunk.items():
            free = next((t for t in times if (pk, t) not in taken), None)
            if free is not None or len(times) < SLOT_BATCH:
                found[pk] = free
            else:
                still[pk] = pending[pk]
        pending = still
    return found
