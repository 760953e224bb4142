"""Idempotency keys for API creates: a retried request creates one object, not two.

The first request with a key reserves it (a committed row, so a concurrent retry sees it),
runs, and stores its response; a retry with the same key and the same body gets that
response again. Keys belong to the member (whichever token or session sends them), last
24 hours, and a reservation whose request died without an answer is taken over after
five minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import IdempotencyKey, Membership
from chorus.core.errors import Conflict, ServiceError

KEY_LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict


def idempotency_begin(*, membership: Membership, key: str, request_hash: str) -> Replay | None:
    """Reserve `key` for this request; or the stored answer if it already ran."""
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ServiceError(
            _("The Idempotency-Key header must be 1 to 255 printable ASCII characters."),
            code="invalid_idempotency_key",
            field=HEADER,
        )
    now = timezone.now()
    IdempotencyKey.objects.filter(membership=membership, created_at__lt=now - KEY_LIFETIME).delete()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(membership=membership, key=key, request_hash=request_hash)
        return None
    except IntegrityError:
        pass
    row = IdempotencyKey.objects.get(membership=membership, key=key)
    if row.request_hash != request_hash:
        raise ServiceError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            field=HEADER,
        )
    if row.status_code is not None:
        return Replay(row.status_code, row.response)
    taken_over = IdempotencyKey.objects.filter(
        pk=row.pk, status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER
    ).update(created_at=now)
    if taken_over:
        return None
    raise Conflict(
        _("A request with this Idempotency-Key is still being processed; retry in a moment."),
        code="idempotency_key_in_use",
        field=HEADER,
    )


def idempotency_finish(*, membership: Membership, key: str, status_code: int, body: dict) -> None:
    """Store the answer the first request got, for its retries."""
    IdempotencyKey.objects.filter(membership=membership, key=key).update(
        status_code=status_code, response=body
    )


def idempotency_release(*, membership: Membership, key: str) -> None:
    """The request failed: forget the reservation so a retry runs again."""
    IdempotencyKey.objects.filter(membership=membership, key=key, status_code__isnull=True).delete()
