"""The sandbox's Telegram audience: comments under channel posts, replies and mentions in
groups, new subscribers; all through the emulator's Bot API state
(`chorus.testing.emulator_telegram`), so the unchanged provider reads them with
`getUpdates` and `getChatMemberCount`.

Connect a sandbox Telegram account with any chat name (`@mycafe`), any token shaped
`<digits>:<letters>` (`1234:sandbox`) and the sandbox as the Bot API server.
"""

from __future__ import annotations

from random import Random
from typing import Any

from chorus.sandbox.voices import LINES, Persona

_PERSONA_IDS = 6100000  # Telegram user ids of the personas start here


class TelegramSandbox:
    """Mixed into `Sandbox`; `self.telegram` is the emulator's Bot API state."""

    telegram: Any

    def telegram_targets(self) -> list[dict[str, str]]:
        """Channels and groups a bot posts to (not the discussion groups behind them)."""
        api = self.telegram
        targets = []
        for (chat_id, _bot), member in api.members.items():
            chat = api.chats.get(chat_id)
            if chat is None or member["status"] not in ("administrator", "creator", "member"):
                continue
            if chat["type"] != "channel" and chat.get("linked_chat_id"):
                continue
            targets.append({"network": "telegram", "account": chat.get("username") or ""})
        return [t for t in {t["account"]: t for t in targets}.values() if t["account"]]

    def telegram_act(self, username: str, kind: str, persona: Persona, rng: Random) -> bool:
        """One audience member does `kind` to the chat `username`; False if it cannot now."""
        api = self.telegram
        chat = api.chats.get(api.names.get(username.lower(), 0))
        if chat is None:
            return False
        if kind == "follow":
            chat["member_count"] = int(chat.get("member_count") or 0) + 1
            return True
        if kind not in ("reply", "mention"):
            return False  # no likes, reposts, quotes or private messages for bots to read
        number = [p.username for p in _personas()].index(persona.username)
        user = {
            "id": _PERSONA_IDS + number,
            "is_bot": False,
            "first_name": persona.name,
            "username": persona.username,
            "language_code": persona.language,
        }
        ours = sorted(
            (message for (c, _), message in api.messages.items() if c == chat["id"]),
            key=lambda m: m["message_id"],
            reverse=True,
        )[:10]
        if chat["type"] == "channel":
            if kind != "reply" or not ours or not chat.get("linked_chat_id"):
                return False
            post = ours[min(int(rng.expovariate(0.6)), len(ours) - 1)]["message_id"]
            text = rng.choice(LINES["reply"][persona.language])
            api.comment({"chat": chat["id"], "post": post, "text": text, "user": user})
            return True
        bot_messages = [m for m in ours if (m.get("from") or {}).get("is_bot")]
        if kind == "reply":
            if not bot_messages:
                return False
            parent = bot_messages[min(int(rng.expovariate(0.6)), len(bot_messages) - 1)]
            text = rng.choice(LINES["reply"][persona.language])
            body = {"chat": chat["id"], "reply_to": parent["message_id"], "text": text}
        else:
            bots = [api.bots[b] for (c, b) in api.members if c == chat["id"] and b in api.bots]
            if not bots:
                return False
            handle = f"@{bots[0]['username']}"
            text = rng.choice(LINES["mention"][persona.language]).format(handle=handle)
            body = {"chat": chat["id"], "text": text}
        api.comment({**body, "user": user})
        return True


def _personas() -> tuple[Persona, ...]:
    from chorus.sandbox.voices import PERSONAS

    return PERSONAS
