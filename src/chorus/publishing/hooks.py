"""Hook points for higher apps (publishing never imports them; they register here).

- before_send: called inside the dispatcher's claim transaction with the claimed
  variants, just before they go out; a hook may rewrite a variant's text (and save it),
  e.g. the links app swaps URLs for tracked short links. A failing hook is logged and
  skipped (inside a savepoint): a post is never held back by it.
- counting: maps a part's text to the text that will be counted for an account, so the
  composer's counters match what the dispatcher will send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)

_before_send: list[Callable[[list], None]] = []
_counting: list[Callable[[object, str], str]] = []


def register_before_send(hook: Callable[[list], None]) -> None:
    if hook not in _before_send:
        _before_send.append(hook)


def register_counting(hook: Callable[[object, str], str]) -> None:
    if hook not in _counting:
        _counting.append(hook)


def before_send(variants: list) -> None:
    for hook in _before_send:
        try:
            with transaction.atomic():
                hook(variants)
        except Exception:
            log.exception("before-send hook %s failed; variants go out as written", hook)


def as_counted(account, text: str) -> str:
    """The text as it will be sent from `account` (None: no account known yet)."""
    if account is None or not text:
        return text
    for hook in _counting:
        text = hook(account, text)
    return text
