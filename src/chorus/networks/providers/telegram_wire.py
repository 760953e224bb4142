"""The Telegram Bot API's envelope and its refusals, mapped onto the provider's typed errors.

Every method answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}` (core.telegram.org/bots/api#making-requests).
`parameters.retry_after` comes with 429 (flood control) and `parameters.migrate_to_chat_id`
when a group became a supergroup (core.telegram.org/bots/api#responseparameters).

What each refusal means for Chorus:

- 401 `Unauthorized`: the token was revoked or regenerated in @BotFather -> `AuthExpired`.
- 403 `Forbidden: bot was kicked from the channel chat`, `bot is not a member of ...`: the
  bot lost the chat -> `AuthExpired`, so posts are held until the bot is added back and the
  account reconnected; nothing is lost. So does 400 `chat not found` (a private channel the
  bot left) and 400 with `migrate_to_chat_id` (the group has a new id).
- 429 `Too Many Requests: retry after N` -> `RateLimited(retry_after=N)`.
- 413 `Request Entity Too Large` -> `Rejected`, naming the Bot API's upload limits.
- 409 `Conflict: can't use getUpdates method while webhook is active` -> `Rejected`, saying
  what to do; 409 `terminated by other getUpdates request` (two reads at once, or another
  program polling the same bot) -> `Transient`, with the same advice.
- 5xx, 408, a malformed body -> `Transient`; any other 400 -> `Rejected` with Telegram's words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from .base import AuthExpired, RateLimited, Rejected, Transient
from .wire import seconds_to_wait

DEFAULT_RETRY_AFTER = 30.0  # when a 429 names no wait (the Bot API always should)
_LOST_CHAT = ("chat not found", "bot was kicked", "not a member", "have no rights to send")


class Refusal(Exception):
    """A Bot API refusal before it is typed: kept for callers that expect one (a message
    already deleted, a reply target gone)."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any]):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def result(response: httpx.Response) -> Any:
    """The `result` of a successful call; `Refusal` for `ok: false`, `Transient` for a body
    that is not the Bot API's envelope (a proxy's page, a cut connection)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise Refusal(response.status_code, "", {})
        raise Transient(f"Telegram sent a malformed response (HTTP {response.status_code})")
    if body["ok"]:
        return body.get("result")
    parameters = body.get("parameters")
    raise Refusal(
        int(body.get("error_code") or response.status_code),
        str(body.get("description") or "").strip(),
        parameters if isinstance(parameters, dict) else {},
    )


def typed(refusal: Refusal, *, chat: str, headers: httpx.Headers | None = None) -> Exception:
    """The provider error for a refusal; `chat` names the channel or group in messages."""
    code, words = refusal.code, refusal.description
    said = words or f"HTTP {code}"
    lowered = words.lower()
    if code == 401:
        return AuthExpired(
            f"Telegram no longer accepts this bot token ({said}): it was revoked or "
            "regenerated in @BotFather. Reconnect with the bot's current token."
        )
    migrated = refusal.parameters.get("migrate_to_chat_id")
    if migrated:
        return AuthExpired(
            f"{chat} became a supergroup with the new id {migrated} ({said}). "
            f"Reconnect it with {migrated}."
        )
    if code == 403 or (code == 400 and any(part in lowered for part in _LOST_CHAT)):
        return AuthExpired(
            f"The bot can no longer post in {chat} ({said}). Add it back as an administrator "
            "allowed to post messages, then reconnect the account."
        )
    if code == 429:
        wait = refusal.parameters.get("retry_after")
        header = (headers or httpx.Headers()).get("Retry-After", "")
        seconds = (
            max(1.0, float(wait))
            if isinstance(wait, int | float) and not isinstance(wait, bool)
            else seconds_to_wait(None, header, now=datetime.now(UTC), default=DEFAULT_RETRY_AFTER)
        )
        return RateLimited(f"Telegram flood control ({said})", retry_after=seconds)
    if code == 413 or "too big" in lowered or "too large" in lowered:
        return Rejected(
            f"Telegram refused the file ({said}): bots may upload photos up to 10 MB and "
            "other files up to 50 MB."
        )
    if code == 409 and "terminated by other" in lowered:
        return Transient(
            f"Telegram cut this read short ({said}): another read of the same bot's updates "
            "ran at the same moment. If this keeps happening, another program uses the bot: "
            "give Chorus a bot of its own."
        )
    if code == 409:
        return Rejected(
            f"Telegram will not hand this bot's updates to Chorus ({said}). Another program "
            "uses the same bot, or a webhook is set: give Chorus a bot of its own."
        )
    if code == 408 or code >= 500:
        return Transient(f"Telegram server error (HTTP {code}): {said}")
    return Rejected(f"Telegram refused this: {said}")
