"""Queue slots: the next free weekly posting time of one account, or of many at once."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from typing import NamedTuple

from chorus.networks.models import SocialAccount
from chorus.publishing.models import Post, QueueSlot, Variant, VariantStatus

QUEUE_HORIZON_DAYS = 60
__all__ = ["QUEUE_HORIZON_DAYS", "Slot", "next_free_slot", "next_free_slots", "slots_by_account"]


def next_free_slot(
    account: SocialAccount, *, after: datetime, exclude_post: Post | None = None
) -> datetime | None:
    """The first weekly slot after `after` (in the workspace's zone, DST-correct) not taken."""
    return next_free_slots([account], after=after, exclude_post=exclude_post)[account.pk]


SLOT_BATCH = 32  # candidate slot times checked per account and query


class Slot(NamedTuple):
    weekday: int
    time: time


def slots_by_account(account_ids: list[int]) -> dict[int, list[Slot]]:
    """{account id: its weekly slots, in order} in one query of plain rows (the queue page
    reads a thousand slots for fifty accounts; model instances would cost more)."""
    found: dict[int, list[Slot]] = {pk: [] for pk in account_ids}
    rows = QueueSlot.objects.filter(account_id__in=account_ids).values_list(
        "account_id", "weekday", "time"
    )
    for account_id, weekday, at in rows.order_by("account_id", "weekday", "time"):
        found[account_id].append(Slot(weekday, at))
    return found


def _slot_times(account: SocialAccount, after: datetime, slots=None):
    """The account's weekly slot instants after `after`, in order, over the horizon."""
    slots = sorted(
        account.slots.all() if slots is None else slots, key=lambda s: (s.weekday, s.time)
    )
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
    accounts: list[SocialAccount],
    *,
    after: datetime,
    exclude_post: Post | None = None,
    slots: dict[int, list[Slot]] | None = None,
) -> dict[int, datetime | None]:
    """{account id: its first free slot after `after`, or None}, for many accounts at once.

    Only candidate slot instants are looked up (the next few of each account, in one query
    for all accounts), never every future post: a full queue asks again for the accounts
    still without a free slot, so the number of queries does not grow with the accounts.
    Load accounts with `select_related("workspace")`, and their slots with
    `prefetch_related("slots")` or pass `slots` from `slots_by_account`.
    """
    pending = {
        account.pk: _slot_times(account, after, None if slots is None else slots[account.pk])
        for account in accounts
    }
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
