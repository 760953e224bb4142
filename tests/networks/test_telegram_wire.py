"""Wire-level behaviour of the Telegram connector (respx): every error shape the Bot API
documents (core.telegram.org/bots/api#making-requests, #responseparameters) becomes the
right typed error, with Telegram's own words and never the bot token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.telegram import API_URL, Telegram

TOKEN = "123456:AAE-super-secret-token"
BASE = f"{API_URL}/bot{TOKEN}"
CHAT = "-1001234567890"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def bot() -> Iterator[Telegram]:
    credentials = Credentials(
        identity={"chat_id": CHAT, "username": "brand", "bot_id": "123456"},
        secrets={"bot_token": TOKEN},
    )
    with httpx.Client() as http:
        yield Telegram(credentials, http=http)


def refusal(code: int, description: str, **parameters) -> httpx.Response:
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(code, json=body)


def sent(message_id: int = 7) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "ok": True,
            "result": {
                "message_id": message_id,
                "date": 1767322800,
                "chat": {"id": int(CHAT), "type": "channel", "username": "brand"},
                "text": "hi",
            },
        },
    )


def post(bot: Telegram, **extra) -> None:
    bot.publish(PostDraft(text="hi", idempotency_key="k", **extra))


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (refusal(401, "Unauthorized"), AuthExpired, "BotFather"),
        (refusal(403, "Forbidden: bot was kicked from the channel chat"), AuthExpired, "kicked"),
        (refusal(403, "Forbidden: bot is not a member of the channel chat"), AuthExpired, "member"),
        (refusal(400, "Bad Request: chat not found"), AuthExpired, "chat not found"),
        (
            refusal(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=-1009876,
            ),
            AuthExpired,
            "-1009876",
        ),
        (refusal(400, "Bad Request: message is too long"), Rejected, "message is too long"),
        (refusal(413, "Request Entity Too Large"), Rejected, "50 MB"),
        (refusal(400, "Bad Request: file is too big"), Rejected, "10 MB"),
        (refusal(500, "Internal Server Error"), Transient, "Internal Server Error"),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), Transient, "502"),
        (httpx.Response(200, text="not json"), Transient, "malformed"),
        (httpx.Response(200, json={"result": 1}), Transient, "malformed"),
    ],
)
def test_refusals_become_typed_errors(api, bot, response, error, words):
    api.post("/sendMessage").mock(return_value=response)
    with pytest.raises(error, match=words) as raised:
        post(bot)
    assert TOKEN not in str(raised.value) and "AAE-super" not in raised.value.message


def test_flood_control_waits_as_long_as_parameters_say(api, bot):
    api.post("/sendMessage").mock(
        return_value=refusal(429, "Too Many Requests: retry after 35", retry_after=35)
    )
    with pytest.raises(RateLimited) as raised:
        post(bot)
    assert raised.value.retry_after == 35


def test_flood_control_without_parameters_uses_retry_after_or_a_default(api, bot):
    api.post("/sendMessage").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "12"}, text="Too Many Requests"),
            refusal(429, "Too Many Requests"),
        ]
    )
    with pytest.raises(RateLimited) as first:
        post(bot)
    with pytest.raises(RateLimited) as second:
        post(bot)
    assert first.value.retry_after == 12 and second.value.retry_after == 30


def test_network_faults_are_transient_and_name_no_token(api, bot):
    api.post("/sendMessage").mock(side_effect=[httpx.ConnectTimeout("x"), httpx.ConnectError("y")])
    for _ in range(2):
        with pytest.raises(Transient) as raised:
            post(bot)
        assert TOKEN not in raised.value.message and "api.telegram.org" in raised.value.message


def test_a_read_cut_short_by_another_is_transient(api, bot):
    api.post("/getUpdates").mock(
        return_value=refusal(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running",
        )
    )
    with pytest.raises(Transient, match="a bot of its own"):
        bot.fetch_interactions("")


def test_a_webhook_or_another_reader_is_explained(api, bot):
    api.post("/getUpdates").mock(
        return_value=refusal(409, "Conflict: can't use getUpdates method while webhook is active")
    )
    with pytest.raises(Rejected, match="a bot of its own"):
        bot.fetch_interactions("")


def test_sends_formatting_as_entities_and_the_link_preview(api, bot):
    route = api.post("/sendMessage").mock(return_value=sent())
    bot.publish(PostDraft(text="**New** 😀 _x_", idempotency_key="k", link="https://ex.org"))
    body = route.calls.last.request.read()
    import json

    payload = json.loads(body)
    assert payload["text"] == "New 😀 _x_\n\nhttps://ex.org"
    assert payload["entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    assert payload["link_preview_options"] == {"url": "https://ex.org"}
    assert payload["chat_id"] == CHAT and "parse_mode" not in payload


def test_replies_to_a_comment_go_to_its_chat(api, bot):
    route = api.post("/sendMessage").mock(return_value=sent())
    post(bot, reply_to=RemoteRef("-100555:42"))
    import json

    payload = json.loads(route.calls.last.request.read())
    assert payload["chat_id"] == "-100555"
    assert payload["reply_parameters"]["message_id"] == 42


def test_album_is_one_multipart_call(api, bot):
    route = api.post("/sendMediaGroup").mock(
        return_value=httpx.Response(
            200,
            json={
                "ok": True,
                "result": [
                    {"message_id": 8, "date": 1, "chat": {"id": int(CHAT), "type": "channel"}},
                    {"message_id": 9, "date": 1, "chat": {"id": int(CHAT), "type": "channel"}},
                ],
            },
        )
    )
    image = Media(b"img", "image/jpeg", filename="a.jpg")
    published = bot.publish(PostDraft(text="two", idempotency_key="k", media=(image, image)))
    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    content = request.read()
    assert b'"media": "attach://file0"' in content and b'name="file1"' in content
    assert published.ref.remote_id == "8" and published.ref.extra["message_ids"] == "8,9"
    assert published.ref.url == "https://t.me/c/1234567890/8"


def test_delete_skips_gone_messages_and_explains_old_ones(api, bot):
    route = api.post("/deleteMessages").mock(
        side_effect=[
            refusal(400, "Bad Request: message to delete not found"),
            refusal(400, "Bad Request: message can't be deleted for everyone"),
        ]
    )
    bot.delete(RemoteRef("5", extra={"chat_id": CHAT}))
    with pytest.raises(Rejected, match="can't be deleted"):
        bot.delete(RemoteRef("5", extra={"chat_id": CHAT}))
    assert route.call_count == 2


def test_interactions_cursor_is_the_next_update_id(api, bot):
    route = api.post("/getUpdates").mock(
        return_value=httpx.Response(200, json={"ok": True, "result": [{"update_id": 41}]})
    )
    page = bot.fetch_interactions("40")
    import json

    assert json.loads(route.calls.last.request.read())["offset"] == 40
    assert page.cursor == "42" and page.items == ()
