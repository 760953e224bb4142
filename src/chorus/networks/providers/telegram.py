"""Telegram connector: a bot posting in a channel or group, over the Bot API.

Connecting takes the chat (`@channelname`, or the numeric id of a private channel or group)
and the token @BotFather gave the bot (core.telegram.org/bots/features#botfather). `sign_in`
checks the token (`getMe`), finds the chat (`getChat`) and checks the bot may post there
(`getChatMember`: an administrator with `can_post_messages` in a channel; a member allowed to
send messages in a group). The token stays the account's secret; a self-hosted Bot API server
(core.telegram.org/bots/api#using-a-local-bot-api-server) may be given as the server.

Publishing: text with formatting (`chorus.text.formatting`: Chorus's light marks become
`entities`, so nothing the author types is parsed as HTML), one photo or video with a caption,
or an album of 2 to 10 (`sendMediaGroup`); replies and threads with `reply_parameters`; a
content warning becomes a line above the text with the text as a spoiler, and media sent with
`has_spoiler`; a link gets a preview (`link_preview_options`). Accounts connected with
"send silently" post with `disable_notification`.

Exactly once. The Bot API has no idempotency key and no way to read a channel's messages.
What it offers is the discussion group: Telegram copies every channel post into the
channel's linked group, and a bot that administers that group receives the copy as an
update. After an uncertain outcome `find_published` reads the updates not yet fetched
(`getUpdates` without an offset, which confirms nothing, so the inbox still gets them) for
the copy of a post with this text (and media, if it has some) made since the first attempt.
When it finds none it cannot tell "not posted" from "posted, but the copy was already read
or there is no group", so it refuses (`Unconfirmed`, a `Rejected`): the post fails visibly,
saying to check the channel, and is never sent twice. See docs/networks.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from chorus.text.formatting import telegram_message

from .base import (
    AccountIdentity,
    AccountMetrics,
    AuthExpired,
    Credentials,
    InteractionPage,
    Limits,
    PasswordSignIn,
    PostDraft,
    PostMetrics,
    Provider,
    PublishedPost,
    Rejected,
    RemoteRef,
    Transient,
)
from .telegram_updates import automatic_forward_of, interaction_of, message_url
from .telegram_wire import Refusal, result, typed
from .wire import send

API_URL = "https://api.telegram.org"
# What fetch_interactions asks for: comments and replies arrive as messages.
ALLOWED_UPDATES = ["message"]
_CLOCK_DRIFT = timedelta(minutes=2)
_GONE = ("message to delete not found", "message can't be deleted", "message not found")


class Unconfirmed(Rejected):
    """An earlier attempt may have posted and the Bot API cannot say: check by hand."""


def _chat_ref(value: str) -> str:
    """`@name`, `name`, `t.me/name` or a numeric id -> what the Bot API takes as chat_id."""
    raw = value.strip()
    for prefix in ("https://", "http://"):
        raw = raw.removeprefix(prefix)
    raw = raw.removeprefix("t.me/").removeprefix("telegram.me/").strip("/")
    if raw.lstrip("-").isdigit():
        return raw
    name = raw.lstrip("@")
    if not name or not name.replace("_", "").isalnum():
        raise Rejected(
            f"{value!r} is not a Telegram channel or group: write @name, or the numeric id "
            "of a private one (it starts with -100)"
        )
    return f"@{name}"


def _api_url(service_url: str) -> str:
    url = service_url.strip().rstrip("/")
    if not url:
        return API_URL
    if urlsplit(url).scheme not in ("http", "https"):
        raise Rejected(f"{service_url!r} is not a Bot API server address")
    return url


class Telegram(PasswordSignIn, Provider):
    """One channel or group, posted to by one bot."""

    key = "telegram"
    name = "Telegram"
    auth_kind = "app_password"  # the bot token, from @BotFather
    setup_guide = "docs/networks/telegram.md"
    connect_options = ("silent",)  # send every post without a notification
    # core.telegram.org/bots/api#sendmessage (1-4096 characters after entities parsing),
    # #sendphoto (caption 0-1024; photo at most 10 MB), #sendmediagroup (2-10 items),
    # #sending-files (other files at most 50 MB through multipart uploads).
    limits = Limits(
        max_text=4096,
        max_caption=1024,
        text_counting="telegram",
        max_media=10,
        media_types=("image/jpeg", "image/png", "video/mp4"),
        max_image_bytes=10 * 1024 * 1024,
        max_video_bytes=50 * 1024 * 1024,
        supports_threads=True,
        supports_content_warning=True,
        rate_limit_note=(
            "Per bot: about 30 messages a second overall, at most 20 a minute in one group "
            "or channel (core.telegram.org/bots/faq). Over that, Telegram answers 429 with "
            "parameters.retry_after."
        ),
    )
    page_size = 100  # updates per getUpdates call (the Bot API's maximum)
    max_pages = 5

    # ----------------------------------------------------------------------- connect

    @classmethod
    def sign_in(
        cls,
        identifier: str,
        password: str,
        *,
        service_url: str = "",
        http: httpx.Client,
        **options: str,
    ) -> Credentials:
        """`identifier` is the chat, `password` the bot token; `options["silent"]` truthy
        sends every post without a notification."""
        token = password.strip()
        if ":" not in token:
            raise Rejected("That is not a bot token: @BotFather gives one like 123456789:AAE...")
        api_url = _api_url(service_url)
        identity: dict[str, Any] = {"chat_id": _chat_ref(identifier)}
        if api_url != API_URL:
            identity["api_url"] = api_url
        if options.get("silent") not in (None, "", "0", "false"):
            identity["silent"] = True
        credentials = Credentials(identity=identity, secrets={"bot_token": token})
        bot = cls(credentials, http=http)
        bot.verify()
        return bot.credentials

    # ----------------------------------------------------------------------- requests

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(str(identity.get("api_url") or API_URL)).netloc

    @property
    def chat_id(self) -> str:
        return str(self.credentials.identity["chat_id"])

    @property
    def _chat_name(self) -> str:
        identity = self.credentials.identity
        return f"@{identity['username']}" if identity.get("username") else self.chat_id

    def _url(self, method: str) -> str:
        """The method's address; it carries the token, so it is never put in a message."""
        base = str(self.credentials.identity.get("api_url") or API_URL)
        return f"{base}/bot{self.credentials.secrets['bot_token']}/{method}"

    def _call(
        self, method: str, *, files: dict | None = None, gone_ok: bool = False, **params: Any
    ) -> Any:
        """One Bot API method. JSON for plain calls; multipart form fields (objects as JSON
        strings, as the Bot API reads them) when files are attached. With `gone_ok`, a
        refusal saying the message is already gone is returned rather than raised."""
        if files:
            form = {
                name: value if isinstance(value, str) else json.dumps(value)
                for name, value in params.items()
            }
            response = send(self.http, "POST", self._url(method), data=form, files=files)
        else:
            response = send(self.http, "POST", self._url(method), json=params)
        try:
            return result(response)
        except Refusal as refusal:
            words = refusal.description.lower()
            if gone_ok and refusal.code == 400 and any(g in words for g in _GONE):
                return refusal
            raise typed(refusal, chat=self._chat_name, headers=response.headers) from None

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        """The token works, the chat exists and the bot may post there; refreshes what the
        identity knows of both (a channel renamed, a discussion group linked since)."""
        me = self._call("getMe")
        if not isinstance(me, dict) or not me.get("is_bot"):
            raise Rejected("This token does not belong to a bot")
        chat = self._call("getChat", chat_id=self.chat_id)
        if not isinstance(chat, dict) or "id" not in chat:
            raise Transient("Telegram sent no chat")
        identity = self.credentials.identity
        known = {
            "bot_id": str(me["id"]),
            "bot_username": str(me.get("username") or ""),
            "chat_id": str(chat["id"]),
            "chat_type": str(chat.get("type") or ""),
            "username": str(chat.get("username") or ""),
            "linked_chat_id": str(chat.get("linked_chat_id") or ""),
        }
        if any(identity.get(name) != value for name, value in known.items()):
            identity.update(known)  # e.g. a discussion group linked since: kept by the caller
            self.credentials_changed = True
        self._check_rights(chat)
        return AccountIdentity(
            remote_id=str(chat["id"]),
            handle=identity["username"] or str(chat["id"]),
            display_name=str(chat.get("title") or chat.get("username") or ""),
            profile_url=f"https://t.me/{identity['username']}" if identity["username"] else "",
        )

    def _check_rights(self, chat: dict[str, Any]) -> None:
        """core.telegram.org/bots/api#chatmemberadministrator: a channel needs an admin with
        can_post_messages; in a group a restricted member needs can_send_messages."""
        member = self._call(
            "getChatMember", chat_id=self.chat_id, user_id=self.credentials.identity["bot_id"]
        )
        status = member.get("status") if isinstance(member, dict) else None
        name = self._chat_name
        if chat.get("type") == "channel":
            if status == "creator":
                return
            if status != "administrator":
                raise AuthExpired(
                    f"The bot is not an administrator of {name}: add it in the channel's "
                    "settings (Administrators, Add admin) with the right to post messages."
                )
            if not member.get("can_post_messages"):
                raise AuthExpired(
                    f"The bot is an administrator of {name} but may not post messages: turn "
                    "on 'Post messages' in its administrator rights."
                )
        elif status in ("left", "kicked") or (
            status == "restricted" and not member.get("can_send_messages")
        ):
            raise AuthExpired(f"The bot may not send messages in {name}: add it to the group.")

    def refresh(self) -> None:
        """Bot tokens live until revoked in @BotFather: check it and the bot's rights."""
        self.verify()

    def fetch_account_metrics(self) -> AccountMetrics:
        """Subscribers or members (getChatMemberCount); the Bot API reports nothing else."""
        count = self._call("getChatMemberCount", chat_id=self.chat_id)
        return AccountMetrics(followers=int(count) if isinstance(count, int) else 0)

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """The Bot API gives bots no views, reactions or comment counts of earlier posts:
        nothing is reported rather than zeros that would read as 'nobody reacted'."""
        return []

    # ----------------------------------------------------------------------- publishing

    def _target(self, reply_to: RemoteRef | None) -> tuple[str, dict[str, Any]]:
        """The chat to send to and the reply parameters: a reply to a comment (`chat:id`)
        goes to the discussion group, under that comment."""
        if reply_to is None:
            return self.chat_id, {}
        chat, _, message = reply_to.remote_id.rpartition(":")
        if not message.isdigit():
            raise Rejected(f"{reply_to.remote_id!r} is not a Telegram message to reply to")
        return chat or self.chat_id, {
            "reply_parameters": {"message_id": int(message), "allow_sending_without_reply": False}
        }

    def publish(self, draft: PostDraft) -> PublishedPost:
        if len(draft.media) > self.limits.max_media:
            raise Rejected(f"Telegram takes at most {self.limits.max_media} files in one album")
        text = draft.text
        if draft.link and draft.link not in text:
            text = f"{text.rstrip()}\n\n{draft.link}" if text.strip() else draft.link
        plain, entities = telegram_message(text, draft.content_warning)
        chat, common = self._target(draft.reply_to)
        common["chat_id"] = chat
        if self.credentials.identity.get("silent"):
            common["disable_notification"] = True
        if not draft.media:
            params: dict[str, Any] = {**common, "text": plain}
            if entities:
                params["entities"] = entities
            if draft.link:
                params["link_preview_options"] = {"url": draft.link}
            else:
                params["link_preview_options"] = {"is_disabled": True}
            messages = [self._call("sendMessage", **params)]
        elif len(draft.media) == 1:
            item = draft.media[0]
            method, field = (
                ("sendVideo", "video")
                if item.mime_type.startswith("video/")
                else ("sendPhoto", "photo")
            )
            params = {**common, "caption": plain}
            if entities:
                params["caption_entities"] = entities
            if draft.content_warning:
                params["has_spoiler"] = True
            files = {field: (item.filename, item.data, item.mime_type)}
            messages = [self._call(method, files=files, **params)]
        else:
            media, files = [], {}
            for index, item in enumerate(draft.media):
                entry: dict[str, Any] = {
                    "type": "video" if item.mime_type.startswith("video/") else "photo",
                    "media": f"attach://file{index}",
                }
                if draft.content_warning:
                    entry["has_spoiler"] = True
                if index == 0 and plain:
                    entry["caption"] = plain
                    if entities:
                        entry["caption_entities"] = entities
                media.append(entry)
                files[f"file{index}"] = (item.filename, item.data, item.mime_type)
            sent = self._call("sendMediaGroup", files=files, **common, media=media)
            messages = sent if isinstance(sent, list) else []
        return self._published(messages, chat)

    def _published(self, messages: list[Any], chat: str) -> PublishedPost:
        messages = [m for m in messages if isinstance(m, dict) and m.get("message_id")]
        if not messages:
            raise Transient("Telegram accepted the post but sent no message id")
        first = messages[0]
        sent_chat = first.get("chat") if isinstance(first.get("chat"), dict) else {"id": chat}
        extra = {"chat_id": str(sent_chat.get("id", chat))}
        if len(messages) > 1:
            extra["message_ids"] = ",".join(str(m["message_id"]) for m in messages)
        own = str(sent_chat.get("id", chat)) == str(self.credentials.identity.get("chat_id"))
        remote_id = str(first["message_id"]) if own else f"{extra['chat_id']}:{first['message_id']}"
        date = first.get("date")
        return PublishedPost(
            ref=RemoteRef(remote_id, url=message_url(sent_chat, first["message_id"]), extra=extra),
            published_at=datetime.fromtimestamp(date, UTC) if isinstance(date, int) else None,
        )

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        """The copy of this post in the channel's discussion group, if the pending updates
        hold it; otherwise `Unconfirmed` (see the module docstring)."""
        identity = self.credentials.identity
        if identity.get("linked_chat_id") and draft.reply_to is None:
            text = draft.text
            if draft.link and draft.link not in text:
                text = f"{text.rstrip()}\n\n{draft.link}" if text.strip() else draft.link
            plain, _ = telegram_message(text, draft.content_warning)
            earliest = since - _CLOCK_DRIFT
            updates = self._call("getUpdates", limit=self.page_size, timeout=0)
            for update in updates if isinstance(updates, list) else []:
                found = automatic_forward_of(update, self.chat_id)
                if found is None or found[0] in exclude:
                    continue
                post, copy = found
                shown = str(copy.get("text") or copy.get("caption") or "")
                when = datetime.fromtimestamp(int(copy.get("date") or 0), UTC)
                has_media = "photo" in copy or "video" in copy
                same = shown.strip() == plain.strip() and has_media == bool(draft.media)
                if same and when >= earliest:
                    channel = {"id": self.chat_id, "username": identity.get("username")}
                    return PublishedPost(
                        ref=RemoteRef(
                            post,
                            url=message_url(channel, post),
                            extra={"chat_id": self.chat_id},
                        ),
                        published_at=when,
                    )
        raise Unconfirmed(
            f"An earlier attempt to post this in {self._chat_name} may have gone through, and "
            "Telegram's Bot API cannot tell. Check the channel: if the post is not there, "
            "publish it again."
        )

    def delete(self, ref: RemoteRef) -> None:
        """Every message of the post (an album is several); already gone is fine. Telegram
        may refuse messages older than 48 hours: that is Rejected, in its words."""
        chat = ref.extra.get("chat_id") or ref.remote_id.rpartition(":")[0] or self.chat_id
        ids = [int(i) for i in ref.extra.get("message_ids", "").split(",") if i.strip()]
        if not ids:
            ids = [int(ref.remote_id.rpartition(":")[2])]
        answer = self._call("deleteMessages", chat_id=chat, message_ids=ids, gone_ok=True)
        if isinstance(answer, Refusal) and "found" not in answer.description.lower():
            raise Rejected(f"Telegram will not delete this post: {answer.description}")

    # ----------------------------------------------------------------------- reading

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Comments and replies from `getUpdates`; the cursor is the next update id. Asking
        with it confirms (deletes) every earlier update on Telegram's side, so one bot must
        serve one Chorus account and no other program (see docs/networks/telegram.md)."""
        offset = int(cursor) if cursor.lstrip("-").isdigit() else None
        updates: list[dict[str, Any]] = []
        for _ in range(self.max_pages):
            params: dict[str, Any] = {
                "limit": self.page_size,
                "timeout": 0,
                "allowed_updates": ALLOWED_UPDATES,
            }
            if offset is not None:
                params["offset"] = offset
            page = self._call("getUpdates", **params)
            page = [u for u in page if isinstance(u, dict)] if isinstance(page, list) else []
            updates += page
            ids = [u["update_id"] for u in page if isinstance(u.get("update_id"), int)]
            if ids:
                offset = max(ids) + 1
            if len(page) < self.page_size:
                break
        items = [
            i for u in updates if (i := interaction_of(u, self.credentials.identity)) is not None
        ]
        items.sort(key=lambda i: i.created_at)
        return InteractionPage(items=tuple(items), cursor=str(offset) if offset else cursor)
