"""The Telegram Bot API part of the network emulator (`chorus.testing.emulator`).

Routes are `POST|GET /bot<token>/<method>` (core.telegram.org/bots/api#making-requests);
parameters arrive as a query string, `application/json`, `x-www-form-urlencoded` or
`multipart/form-data` with files (core.telegram.org/bots/api#sending-files), and every answer
is the Bot API's envelope: `{"ok": true, "result": ...}` or `{"ok": false, "error_code",
"description", "parameters"}`, with `parameters.retry_after` on 429
(core.telegram.org/bots/api#responseparameters). Telegram sends no rate-limit headers.

Any token shaped `<digits>:<secret>` is a bot (its id is the digits). A channel named in a
`getChat` for the first time is created with that bot as an administrator allowed to post,
and with a discussion group `@<name>_chat`; every channel post is copied into that group as
an automatic forward, which bots in the group receive as an update, as Telegram does
(core.telegram.org/api/discussion). Control, under `/_emulator/telegram/`:

- `chat` `{"username", "type": channel|supergroup, "discussion": bool, "bot_status",
  "can_post_messages", "members"}` creates or changes a chat (for every known bot);
- `comment` `{"chat", "post", "text", "user": {"id", "username", "first_name"}}` writes a
  comment under channel post `post` in its discussion group (or `reply_to` in a group);
- `kick` `{"chat"}` removes the bots from a chat; `limits` `{"photo_bytes", "file_bytes"}`
  lowers the upload limits so tests need not send 50 MB;
- `messages` `{"chat"}` lists a chat's messages, newest last.

Revoking a token is the emulator's own `/_emulator/revoke {"account": token}` (then 401).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chorus.testing.emulator import Emulator, FaultStep, _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
PUBLISH_METHODS = ("sendMessage", "sendPhoto", "sendVideo", "sendMediaGroup")
SERVICE_USER = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
_TEXT_MAX, _CAPTION_MAX = 4096, 1024  # core.telegram.org/bots/api#sendmessage, #sendphoto
_PHOTO_BYTES, _FILE_BYTES = 10 * 1024 * 1024, 50 * 1024 * 1024  # #sendphoto, #sending-files
_DESCRIPTIONS = {
    401: "Unauthorized",
    403: "Forbidden: bot was kicked from the channel chat",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    413: "Request Entity Too Large",
}


class Refused(Exception):
    """Ends a Bot API call with `{"ok": false}`."""

    def __init__(self, status: int, description: str, **parameters: Any):
        super().__init__(description)
        self.reply = error(status, description, **parameters)


def error(status: int, description: str = "", **parameters: Any) -> Reply:
    """A refusal in the Bot API's shape (core.telegram.org/bots/api#making-requests)."""
    if not description:
        if status == 429:
            description = f"Too Many Requests: retry after {parameters.get('retry_after', 1)}"
        else:
            phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            description = _DESCRIPTIONS.get(status, phrase or "Error")
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body, []


def fault_reply(step: FaultStep) -> Reply:
    """An injected fault, as Telegram would send it (429 carries `retry_after`)."""
    if step.status == 429:
        wait = int(step.retry_after if step.retry_after is not None else 1)
        return error(429, step.error, retry_after=max(1, wait))
    return error(step.status, step.error)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TelegramBotApi:
    """State and handlers; `Emulator` owns one and routes `/bot...` paths here."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.reset()

    def reset(self) -> None:
        self.bots: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.names: dict[str, int] = {}  # username (lower case) -> chat id
        self.members: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, bot) -> member
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.last_ids: dict[str, int] = {"update": 100000, "chat": 1000000000}  # and per chat
        self.updates: dict[int, list[dict[str, Any]]] = {}  # bot id -> pending updates
        self.photo_bytes, self.file_bytes = _PHOTO_BYTES, _FILE_BYTES

    def _next(self, sequence: str) -> int:
        """The next id of a sequence: updates, chats, or one chat's messages."""
        self.last_ids[sequence] = self.last_ids.get(sequence, 0) + 1
        return self.last_ids[sequence]

    _STATE = ("bots", "chats", "names", "members", "messages", "updates", "last_ids")

    def snapshot(self) -> dict[str, Any]:
        """The state as plain data (the sandbox keeps it between runs)."""
        return {name: getattr(self, name) for name in self._STATE}

    def restore(self, state: dict[str, Any]) -> None:
        for name in self._STATE:
            if name in state:
                setattr(self, name, state[name])

    # ----------------------------------------------------------------- routing

    def resolve(self, request: _Request) -> tuple[Callable[[_Request, str], Reply] | None, str]:
        token, _, method = request.path[4:].partition("/")
        handler = getattr(self, f"_m_{method}", None) if method.isalnum() else None
        request.route = f"telegram.{method}"
        if handler is None:
            return (lambda r, t: error(404, "Not Found")), token
        return self._wrap(handler), token

    def _wrap(self, handler: Callable[[dict[str, Any], dict[str, Any], _Request], Any]):
        def run(request: _Request, token: str) -> Reply:
            try:
                bot = self._bot(request, token)
                return 200, {"ok": True, "result": handler(bot, _params(request), request)}, []
            except Refused as refused:
                return refused.reply

        return run

    def _bot(self, request: _Request, token: str) -> dict[str, Any]:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise Refused(404, "Not Found")  # what api.telegram.org answers a malformed token
        if token in self.emulator.revoked:
            self.emulator.counters["auth_rejected"] += 1
            raise Refused(401, "Unauthorized")
        rule = self.emulator.settings.rate_limit
        if rule is not None:
            from chorus.testing.emulator_http import _Reply

            try:
                self.emulator._consume(request, token)
            except _Reply as limited:
                wait = dict(limited.reply[2]).get("Retry-After", "1")
                raise Refused(429, "", retry_after=int(wait)) from None
            request.out_headers.clear()  # the Bot API sends no rate-limit headers
        bot = self.bots.get(int(bot_id))
        if bot is None:
            bot = self.bots[int(bot_id)] = {
                "id": int(bot_id),
                "is_bot": True,
                "first_name": f"Chorus bot {bot_id}",
                "username": f"chorus{bot_id}_bot",
                "token": token,
            }
        return bot

    # ----------------------------------------------------------------- chats

    def _chat(self, ref: Any, bot: dict[str, Any] | None = None) -> dict[str, Any]:
        """A chat by id or @username; an unknown @username becomes a channel (with a
        discussion group) where this bot is an administrator."""
        text = str(ref or "").strip()
        if text.lstrip("-").isdigit() and int(text) in self.chats:
            return self.chats[int(text)]
        name = text.lstrip("@").lower()
        if name in self.names:
            return self.chats[self.names[name]]
        if not text.startswith("@") or bot is None:
            raise Refused(400, "Bad Request: chat not found")
        return self.create_chat({"username": text.lstrip("@")}, bots=[bot])

    def create_chat(
        self, spec: dict[str, Any], *, bots: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        name = str(spec["username"]).lstrip("@")
        chat = self.chats.get(self.names.get(name.lower(), 0))
        if chat is None:
            chat_id = -(10**12) - self._next("chat")  # -100xxxxxxxxxx, like supergroups
            chat = {"id": chat_id, "type": spec.get("type", "channel"), "title": name.title()}
            chat["username"] = name
            chat["member_count"] = 0
            self.chats[chat_id] = chat
            self.names[name.lower()] = chat_id
        if "type" in spec:
            chat["type"] = spec["type"]
        chat["member_count"] = int(spec.get("members", chat["member_count"] or 120))
        discussion = spec.get("discussion", chat["type"] == "channel")
        for bot in bots if bots is not None else list(self.bots.values()):
            member = self.members.setdefault((chat["id"], bot["id"]), {"user": _user(bot)})
            member["status"] = spec.get("bot_status", "administrator")
            member["can_post_messages"] = bool(spec.get("can_post_messages", True))
            member["can_send_messages"] = True
        if discussion and chat["type"] == "channel" and not chat.get("linked_chat_id"):
            group = self.create_chat(
                {"username": f"{name}_chat", "type": "supergroup", "discussion": False},
                bots=bots,
            )
            chat["linked_chat_id"], group["linked_chat_id"] = group["id"], chat["id"]
        elif discussion is False and chat.get("linked_chat_id") and chat["type"] == "channel":
            chat.pop("linked_chat_id")
        return chat

    def _rights(self, chat: dict[str, Any], bot: dict[str, Any]) -> dict[str, Any]:
        member = self.members.get((chat["id"], bot["id"]))
        if member is None or member["status"] in ("left", "kicked"):
            kind = "channel" if chat["type"] == "channel" else "group"
            if member and member["status"] == "kicked":
                raise Refused(403, f"Forbidden: bot was kicked from the {kind} chat")
            raise Refused(403, f"Forbidden: bot is not a member of the {kind} chat")
        return member

    # ----------------------------------------------------------------- methods

    # core.telegram.org/bots/api#getme
    def _m_getMe(self, bot: dict, params: dict, request: _Request) -> Any:
        return {k: v for k, v in bot.items() if k != "token"}

    # core.telegram.org/bots/api#getchat (a ChatFullInfo)
    def _m_getChat(self, bot: dict, params: dict, request: _Request) -> Any:
        chat = self._chat(params.get("chat_id"), bot)
        self._rights(chat, bot)
        info = {k: v for k, v in chat.items() if k != "member_count"}
        return {**info, "accent_color_id": 0, "max_reaction_count": 11}

    # core.telegram.org/bots/api#getchatmember
    def _m_getChatMember(self, bot: dict, params: dict, request: _Request) -> Any:
        chat = self._chat(params.get("chat_id"))
        member = self.members.get((chat["id"], int(params.get("user_id") or 0)))
        if member is None:
            raise Refused(400, "Bad Request: member not found")
        return member

    # core.telegram.org/bots/api#getchatmembercount
    def _m_getChatMemberCount(self, bot: dict, params: dict, request: _Request) -> Any:
        chat = self._chat(params.get("chat_id"))
        self._rights(chat, bot)
        return chat["member_count"]

    # core.telegram.org/bots/api#sendmessage
    def _m_sendMessage(self, bot: dict, params: dict, request: _Request) -> Any:
        text = str(params.get("text") or "")
        if not text.strip():
            raise Refused(400, "Bad Request: message text is empty")
        if utf16_length(text) > _TEXT_MAX:
            raise Refused(400, "Bad Request: message is too long")
        _check_entities(text, params.get("entities"))
        content = {"text": text, **_present(params, "entities", "link_preview_options")}
        return self._post(bot, params, [content], request)[0]

    # core.telegram.org/bots/api#sendphoto
    def _m_sendPhoto(self, bot: dict, params: dict, request: _Request) -> Any:
        return self._send_file(bot, params, request, "photo")

    # core.telegram.org/bots/api#sendvideo
    def _m_sendVideo(self, bot: dict, params: dict, request: _Request) -> Any:
        return self._send_file(bot, params, request, "video")

    # core.telegram.org/bots/api#sendmediagroup (2-10 InputMediaPhoto / InputMediaVideo)
    def _m_sendMediaGroup(self, bot: dict, params: dict, request: _Request) -> Any:
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise Refused(400, "Bad Request: wrong number of media specified")
        group_id = str(self._next("update"))
        contents = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video"):
                raise Refused(400, "Bad Request: unsupported media type in the album")
            data = self._attached(params, str(item.get("media", "")), item["type"])
            caption = str(item.get("caption") or "")
            contents.append(
                {
                    **_file_content(item["type"], data, caption, item.get("caption_entities")),
                    "media_group_id": group_id,
                    **_present(item, "has_spoiler"),
                }
            )
        return self._post(bot, params, contents, request)

    # core.telegram.org/bots/api#deletemessage
    def _m_deleteMessage(self, bot: dict, params: dict, request: _Request) -> Any:
        chat = self._chat(params.get("chat_id"))
        self._rights(chat, bot)
        key = (chat["id"], int(params.get("message_id") or 0))
        if self.messages.pop(key, None) is None:
            raise Refused(400, "Bad Request: message to delete not found")
        self.emulator.counters["posts_deleted"] += 1
        return True

    # core.telegram.org/bots/api#deletemessages ("messages that can't be found are skipped")
    def _m_deleteMessages(self, bot: dict, params: dict, request: _Request) -> Any:
        chat = self._chat(params.get("chat_id"))
        self._rights(chat, bot)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise Refused(400, "Bad Request: message identifiers are not specified")
        for message_id in ids:
            if self.messages.pop((chat["id"], int(message_id)), None) is not None:
                self.emulator.counters["posts_deleted"] += 1
        return True

    # core.telegram.org/bots/api#getupdates: an offset confirms every earlier update
    def _m_getUpdates(self, bot: dict, params: dict, request: _Request) -> Any:
        pending = self.updates.setdefault(bot["id"], [])
        offset = params.get("offset")
        limit = max(1, min(100, int(params.get("limit") or 100)))
        if offset is not None and int(offset) < 0:
            kept = pending[int(offset) :]
            pending[:] = kept
        elif offset is not None:
            pending[:] = [u for u in pending if u["update_id"] >= int(offset)]
        allowed = params.get("allowed_updates")
        chosen = [u for u in pending if not allowed or any(k in u for k in allowed)]
        return chosen[:limit]

    # ----------------------------------------------------------------- sending

    def _send_file(self, bot: dict, params: dict, request: _Request, kind: str) -> Any:
        data = self._attached(params, params.get(kind), kind)
        content = _file_content(
            kind, data, str(params.get("caption") or ""), params.get("caption_entities")
        )
        return self._post(bot, params, [{**content, **_present(params, "has_spoiler")}], request)[0]

    def _attached(self, params: dict, ref: Any, kind: str) -> bytes:
        """The uploaded bytes a parameter names (the file itself, or `attach://<name>`)."""
        if isinstance(ref, str) and ref.startswith("attach://"):
            ref = params.get(ref[9:])
        if not isinstance(ref, bytes):
            raise Refused(400, f"Bad Request: there is no {kind} in the request")
        if len(ref) > self.file_bytes:
            raise Refused(413, "Request Entity Too Large")
        if kind == "photo" and len(ref) > self.photo_bytes:
            raise Refused(400, "Bad Request: file is too big")
        return ref

    def _post(
        self, bot: dict, params: dict, contents: list[dict[str, Any]], request: _Request
    ) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        member = self._rights(chat, bot)
        if chat["type"] == "channel" and not (
            member["status"] == "creator" or member.get("can_post_messages")
        ):
            raise Refused(400, "Bad Request: need administrator rights in the channel chat")
        reply = params.get("reply_parameters")
        parent = None
        if isinstance(reply, dict):
            parent = self.messages.get((chat["id"], int(reply.get("message_id") or 0)))
            if parent is None and not reply.get("allow_sending_without_reply"):
                raise Refused(400, "Bad Request: message to be replied not found")
        now = time.time()
        sent = []
        for content in contents:
            message: dict[str, Any] = {
                "message_id": self._next(str(chat["id"])),
                "date": int(now),
                "chat": _public(chat),
                **content,
            }
            if chat["type"] == "channel":
                message["sender_chat"] = _public(chat)
            else:
                message["from"] = _user(bot)
            if parent is not None:
                message["reply_to_message"] = parent
                if parent.get("message_thread_id"):
                    message["message_thread_id"] = parent["message_thread_id"]
            if params.get("disable_notification"):
                message["silent"] = True  # what the emulator remembers; not in the Message
            self.messages[(chat["id"], message["message_id"])] = message
            sent.append(message)
        answer = [{k: v for k, v in m.items() if k != "silent"} for m in sent]
        self.emulator._published(
            "telegram",
            bot["token"],
            "",
            str(sent[0]["message_id"]),
            now,
            str(sent[0].get("text") or sent[0].get("caption") or ""),
        )
        if chat["type"] == "channel" and chat.get("linked_chat_id"):
            for message in answer:
                self._forward_to_discussion(chat, message)
        return answer

    def _forward_to_discussion(self, channel: dict, post: dict) -> None:
        """The copy Telegram makes of each channel post in its discussion group."""
        group = self.chats[channel["linked_chat_id"]]
        copy = {
            k: v for k, v in post.items() if k in ("text", "caption", "entities", "photo", "video")
        }
        message = {
            "message_id": self._next(str(group["id"])),
            "from": SERVICE_USER,
            "sender_chat": _public(channel),
            "chat": _public(group),
            "date": post["date"],
            "is_automatic_forward": True,
            "forward_origin": {
                "type": "channel",
                "chat": _public(channel),
                "message_id": post["message_id"],
                "date": post["date"],
            },
            **copy,
        }
        self.messages[(group["id"], message["message_id"])] = message
        self._deliver(group, message)

    def _deliver(self, chat: dict, message: dict) -> None:
        for (chat_id, bot_id), member in self.members.items():
            if chat_id == chat["id"] and member["status"] in ("administrator", "creator", "member"):
                update = {"update_id": self._next("update"), "message": message}
                self.updates.setdefault(bot_id, []).append(update)

    # ----------------------------------------------------------------- control

    def control(self, action: str, body: dict[str, Any]) -> Reply:
        if action == "chat":
            return 200, self.create_chat(body), []
        if action == "kick":
            chat = self._chat(body["chat"])
            for key, member in self.members.items():
                if key[0] == chat["id"]:
                    member["status"] = "kicked"
            return 200, {"ok": True}, []
        if action == "limits":
            self.photo_bytes = int(body.get("photo_bytes", self.photo_bytes))
            self.file_bytes = int(body.get("file_bytes", self.file_bytes))
            return 200, {"ok": True}, []
        if action == "comment":
            return 200, self.comment(body), []
        if action == "messages":
            chat = self._chat(body["chat"])
            found = [m for (c, _), m in sorted(self.messages.items()) if c == chat["id"]]
            return 200, {"messages": found}, []
        return 404, {"error": f"no Telegram control {action!r}"}, []

    def comment(self, body: dict[str, Any]) -> dict[str, Any]:
        """Someone comments under a channel post (or replies to a message in a group)."""
        chat = self._chat(body["chat"])
        user = {"id": 5550001, "is_bot": False, "first_name": "Amara", "username": "amara"}
        user.update(body.get("user") or {})
        if chat["type"] == "channel":
            group = self.chats[chat["linked_chat_id"]]
            post = int(body["post"])
            copy = next(
                m
                for (c, _), m in self.messages.items()
                if c == group["id"] and m.get("forward_origin", {}).get("message_id") == post
            )
            parent = self.messages.get((group["id"], int(body.get("reply_to") or 0))) or copy
            thread = copy["message_id"]
        else:
            group, thread = chat, 0
            parent = self.messages.get((chat["id"], int(body.get("reply_to") or 0)))
        message: dict[str, Any] = {
            "message_id": self._next(str(group["id"])),
            "from": user,
            "chat": _public(group),
            "date": int(time.time()),
            "text": str(body.get("text") or ""),
        }
        if parent is not None:
            message["reply_to_message"] = parent
        if thread:
            message["message_thread_id"] = thread
            message["is_topic_message"] = False
        self.messages[(group["id"], message["message_id"])] = message
        self._deliver(group, message)
        return message


# --------------------------------------------------------------------------- helpers


def _user(bot: dict[str, Any]) -> dict[str, Any]:
    return {k: bot[k] for k in ("id", "is_bot", "first_name", "username")}


def _public(chat: dict[str, Any]) -> dict[str, Any]:
    """A Chat object as messages carry it (core.telegram.org/bots/api#chat)."""
    return {k: chat[k] for k in ("id", "type", "title", "username") if k in chat}


def _present(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: params[name] for name in names if params.get(name) not in (None, "", False)}


def _file_content(kind: str, data: bytes, caption: str, entities: Any) -> dict[str, Any]:
    if utf16_length(caption) > _CAPTION_MAX:
        raise Refused(400, "Bad Request: message caption is too long")
    _check_entities(caption, entities)
    file_id = f"emu-{kind}-{len(data)}-{abs(hash(data)) % 10**8}"
    size = {"file_id": file_id, "file_unique_id": file_id[-8:], "file_size": len(data)}
    content: dict[str, Any] = {
        kind: [{**size, "width": 800, "height": 600}] if kind == "photo" else {**size}
    }
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    return content


def _check_entities(text: str, entities: Any) -> None:
    """core.telegram.org/bots/api#messageentity: offsets and lengths in UTF-16 code units."""
    if not entities:
        return
    size = utf16_length(text)
    for entity in entities if isinstance(entities, list) else [None]:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise Refused(400, "Bad Request: can't parse entities: wrong entity")
        start, length = entity.get("offset"), entity.get("length")
        if (
            not isinstance(start, int)
            or not isinstance(length, int)
            or start < 0
            or (length < 1 or start + length > size)
        ):
            raise Refused(400, "Bad Request: can't parse entities: entity beyond the end of text")
        if entity["type"] == "text_link" and not str(entity.get("url") or "").startswith(
            ("http://", "https://", "tg://")
        ):
            raise Refused(400, "Bad Request: can't parse entities: wrong URL")


def _params(request: _Request) -> dict[str, Any]:
    """The call's parameters, whichever way they were sent; JSON-serialised objects in
    form fields are decoded, files are bytes."""
    params: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        head = f"Content-Type: {kind}\r\n\r\n".encode("latin-1")
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            data = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                params[name] = data
            else:
                params[name] = data.decode("utf-8")
    elif kind.startswith("application/json") and request.body:
        return {**params, **request.json()}
    elif request.body:
        params.update(request.json())  # x-www-form-urlencoded
    return {k: _decoded(k, v) for k, v in params.items()}


# Parameters whose values are objects, arrays or booleans: in a query string or a form they
# arrive JSON-serialised (core.telegram.org/bots/api#making-requests).
_STRUCTURED = frozenset(
    {
        "media",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "message_ids",
        "disable_notification",
        "has_spoiler",
    }
)


def _decoded(name: str, value: Any) -> Any:
    if name not in _STRUCTURED or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise Refused(400, f"Bad Request: can't parse {name} JSON object") from None
