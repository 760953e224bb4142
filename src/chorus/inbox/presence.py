"""Collision detection: who else has a conversation open, and who is writing a reply.

Kept in the database (Chorus runs several web processes and configures no shared cache):
one row per (conversation, member), renewed by the page's change probe (`seen_at`, see
`inbox.live`) and by the reply box while keys are pressed (`typed_at`). A row counts for
PRESENCE_SECONDS, so a tab that closes or a member who stops typing drops out without any
"left" message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from chorus.accounts.models import Membership
from chorus.inbox.models import Conversation, Presence

PRESENCE_SECONDS = 15


@dataclass(frozen=True)
class Present:
    name: str
    typing: bool


def presence_ping(
    *,
    actor: Membership,
    conversation: Conversation,
    typing: bool = False,
    now: datetime | None = None,
) -> None:
    """Record that `actor` has the conversation open (and is typing, when said). The
    caller has checked access (`selectors.access_conversation`)."""
    now = now or timezone.now()
    fields = {"seen_at": now, **({"typed_at": now} if typing else {})}
    updated = Presence.objects.filter(conversation=conversation, member=actor).update(**fields)
    if not updated:
        Presence.objects.bulk_create(
            [Presence(conversation=conversation, member=actor, **fields)], ignore_conflicts=True
        )


def present_others(
    *, actor: Membership, conversation: Conversation, now: datetime | None = None
) -> list[Present]:
    """The other members with the conversation open in the last PRESENCE_SECONDS, those
    typing first; stale rows of the conversation are removed on the way."""
    now = now or timezone.now()
    since = now - timedelta(seconds=PRESENCE_SECONDS)
    Presence.objects.filter(conversation=conversation, seen_at__lt=since).delete()
    rows = (
        Presence.objects.filter(conversation=conversation, seen_at__gte=since)
        .exclude(member=actor)
        .select_related("member__user")
        .order_by("member__user__full_name", "member__user__email")
    )
    found = [
        Present(
            name=row.member.user.display_name,
            typing=row.typed_at is not None and row.typed_at >= since,
        )
        for row in rows
    ]
    return sorted(found, key=lambda p: not p.typing)
