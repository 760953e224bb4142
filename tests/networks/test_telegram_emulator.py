"""The Telegram provider against the emulator's Bot API: connect, publish, comments, delete,
metrics, and what happens to a retried publish (exactly once)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
)
from chorus.networks.providers.telegram import Telegram, Unconfirmed
from chorus.testing.emulator import EmulatorServer

TOKEN = "4242:AAE-emulated-secret"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0, rate_limit=None) as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    server.reset()
    return server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def control(server: EmulatorServer, action: str, **body) -> dict:
    response = httpx.post(f"{server.base_url}/_emulator/telegram/{action}", json=body)
    response.raise_for_status()
    return response.json()


def connect(server, http, chat="@brandnews", **options) -> Telegram:
    credentials = Telegram.sign_in(chat, TOKEN, service_url=server.base_url, http=http, **options)
    return Telegram(credentials, http=http)


def draft(text: str, **extra) -> PostDraft:
    return PostDraft(text=text, idempotency_key="k-1", **extra)


def test_connect_reads_the_chat_and_the_bot(emulator, http):
    bot = connect(emulator, http)
    identity = bot.credentials.identity
    assert identity["chat_id"].startswith("-100") and identity["username"] == "brandnews"
    assert identity["bot_id"] == "4242" and identity["linked_chat_id"]
    assert bot.credentials.secrets == {"bot_token": TOKEN}
    assert Telegram.server_of(identity) == emulator.base_url.removeprefix("http://")
    me = bot.verify()
    assert me.handle == "brandnews" and me.profile_url == "https://t.me/brandnews"


def test_connect_refuses_a_bot_that_may_not_post(emulator, http):
    control(emulator, "chat", username="quiet", can_post_messages=False)
    httpx.post(f"{emulator.base_url}/bot{TOKEN}/getMe")  # the bot becomes known
    control(emulator, "chat", username="quiet", can_post_messages=False)
    with pytest.raises(AuthExpired, match="Post messages"):
        connect(emulator, http, chat="@quiet")


def test_connect_refuses_what_is_not_a_token_or_a_chat(emulator, http):
    with pytest.raises(Rejected, match="BotFather"):
        Telegram.sign_in("@x", "not-a-token", service_url=emulator.base_url, http=http)
    with pytest.raises(Rejected, match="numeric id"):
        Telegram.sign_in("bad name!", TOKEN, service_url=emulator.base_url, http=http)
    with pytest.raises(AuthExpired, match="chat not found"):
        Telegram.sign_in("-1009999", TOKEN, service_url=emulator.base_url, http=http)


def test_publishes_formatted_text_silently_and_deletes_it(emulator, http):
    bot = connect(emulator, http, silent="true")
    post = bot.publish(draft("**Big** news 🎉 [read](https://example.org/a)"))
    assert post.ref.url == f"https://t.me/brandnews/{post.ref.remote_id}"
    [message] = control(emulator, "messages", chat="@brandnews")["messages"]
    assert message["text"] == "Big news 🎉 read"
    assert message["entities"] == [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "text_link", "offset": 12, "length": 4, "url": "https://example.org/a"},
    ]
    assert message["silent"] is True
    bot.delete(post.ref)
    bot.delete(post.ref)  # already gone is not an error
    assert control(emulator, "messages", chat="@brandnews")["messages"] == []


def test_publishes_a_photo_with_a_caption_and_an_album(emulator, http):
    bot = connect(emulator, http)
    photo = Media(PNG, "image/png", filename="a.png")
    single = bot.publish(draft("One __photo__", media=(photo,), content_warning="Spoilers"))
    album = bot.publish(draft("Three", media=(photo, photo, photo)))
    messages = control(emulator, "messages", chat="@brandnews")["messages"]
    first = messages[0]
    assert first["caption"] == "Spoilers\n\nOne photo" and first["has_spoiler"] is True
    assert {"type": "spoiler", "offset": 10, "length": 9} in first["caption_entities"]
    assert len(messages) == 4 and messages[1]["caption"] == "Three"
    assert album.ref.extra["message_ids"] == ",".join(str(m["message_id"]) for m in messages[1:])
    bot.delete(album.ref)
    remaining = control(emulator, "messages", chat="@brandnews")["messages"]
    assert [m["message_id"] for m in remaining] == [int(single.ref.remote_id)]


def test_a_file_over_the_limit_is_rejected_with_the_limits(emulator, http):
    bot = connect(emulator, http)
    control(emulator, "limits", photo_bytes=32)
    with pytest.raises(Rejected, match="10 MB"):
        bot.publish(draft("big", media=(Media(PNG, "image/png"),)))
    control(emulator, "limits", file_bytes=32)
    with pytest.raises(Rejected, match="50 MB"):
        bot.publish(draft("bigger", media=(Media(PNG, "video/mp4"),)))


def test_a_thread_replies_to_its_parent(emulator, http):
    bot = connect(emulator, http)
    first = bot.publish(draft("1/2"))
    bot.publish(draft("2/2", reply_to=first.ref))
    messages = control(emulator, "messages", chat="@brandnews")["messages"]
    assert messages[1]["reply_to_message"]["message_id"] == int(first.ref.remote_id)


def test_comments_arrive_as_replies_and_can_be_answered(emulator, http):
    bot = connect(emulator, http)
    post = bot.publish(draft("Tell us"))
    control(emulator, "comment", chat="@brandnews", post=int(post.ref.remote_id), text="Nice!")
    page = bot.fetch_interactions("")
    [comment] = page.items
    assert comment.kind == "reply" and comment.text == "Nice!"
    assert comment.subject.remote_id == post.ref.remote_id
    assert comment.author_handle == "amara"
    assert comment.url.startswith(f"https://t.me/brandnews/{post.ref.remote_id}?comment=")
    # answering it lands in the discussion group, under the comment
    answer = bot.publish(draft("Thank you", reply_to=RemoteRef(comment.remote_id)))
    group = bot.credentials.identity["linked_chat_id"]
    assert answer.ref.remote_id.startswith(f"{group}:")
    control(
        emulator,
        "comment",
        chat="@brandnews",
        post=int(post.ref.remote_id),
        reply_to=int(answer.ref.remote_id.split(":")[1]),
        text="You're welcome",
    )
    later = bot.fetch_interactions(page.cursor)
    assert [i.text for i in later.items] == ["You're welcome"]
    assert later.items[0].subject.remote_id == answer.ref.remote_id
    assert bot.fetch_interactions(later.cursor).items == ()  # confirmed, never repeated


def test_metrics_report_subscribers_and_nothing_invented(emulator, http):
    bot = connect(emulator, http)
    control(emulator, "chat", username="brandnews", members=1234)
    assert bot.fetch_account_metrics().followers == 1234
    post = bot.publish(draft("x"))
    assert bot.fetch_post_metrics([post.ref]) == []


def test_revoked_token_and_kicked_bot_hold_the_post(emulator, http):
    bot = connect(emulator, http)
    control(emulator, "kick", chat="@brandnews")
    with pytest.raises(AuthExpired, match="Add it back as an administrator"):
        bot.publish(draft("held"))
    httpx.post(f"{emulator.base_url}/_emulator/revoke", json={"account": TOKEN})
    with pytest.raises(AuthExpired, match="BotFather"):
        bot.publish(draft("held"))


def test_flood_control_gives_retry_after(emulator, http):
    bot = connect(emulator, http)
    emulator.configure(faults=[{"route": "telegram.sendMessage", "status": 429, "retry_after": 17}])
    with pytest.raises(RateLimited) as raised:
        bot.publish(draft("later"))
    assert raised.value.retry_after == 17


def test_a_lost_answer_is_found_through_the_discussion_group(emulator, http):
    """The post went out but its answer was lost: the retry finds it, and sends nothing."""
    bot = connect(emulator, http)
    since = datetime.now(UTC) - timedelta(seconds=1)
    emulator.configure(
        faults=[{"route": "telegram.sendMessage", "status": 502, "after_commit": True}]
    )
    with pytest.raises(Exception):  # noqa: B017 - Transient, as a lost answer looks
        bot.publish(draft("Once only"))
    found = bot.find_published(draft("Once only"), since=since)
    [message] = control(emulator, "messages", chat="@brandnews")["messages"]
    assert found is not None and found.ref.remote_id == str(message["message_id"])
    # the updates were only looked at: the inbox still reads them; once it has confirmed
    # them (its next call, with the cursor) they are gone and nothing can be proven
    page = bot.fetch_interactions("")
    assert page.items == () and page.cursor
    bot.fetch_interactions(page.cursor)
    with pytest.raises(Unconfirmed, match="Check the channel"):
        bot.find_published(draft("Once only"), since=since, exclude=frozenset())


def test_without_a_discussion_group_a_retry_is_refused_not_repeated(emulator, http):
    httpx.post(f"{emulator.base_url}/bot{TOKEN}/getMe")
    control(emulator, "chat", username="solo", discussion=False)
    bot = connect(emulator, http, chat="@solo")
    with pytest.raises(Unconfirmed):
        bot.find_published(draft("x"), since=datetime.now(UTC))
    assert control(emulator, "messages", chat="@solo")["messages"] == []


def test_in_a_group_replies_to_the_bot_and_mentions_count(emulator, http):
    httpx.post(f"{emulator.base_url}/bot{TOKEN}/getMe")
    control(emulator, "chat", username="club", type="supergroup", discussion=False)
    bot = connect(emulator, http, chat="@club")
    ours = bot.publish(draft("Meeting at six"))
    control(emulator, "comment", chat="@club", reply_to=int(ours.ref.remote_id), text="Coming!")
    control(emulator, "comment", chat="@club", text="Ask @chorus4242_bot please")
    control(emulator, "comment", chat="@club", text="unrelated chatter")
    page = bot.fetch_interactions("")
    assert [(i.kind, i.text) for i in page.items] == [
        ("reply", "Coming!"),
        ("mention", "Ask @chorus4242_bot please"),
    ]
    assert page.items[0].subject.remote_id == ours.ref.remote_id


def test_a_discussion_group_linked_later_is_learnt_on_the_next_check(emulator, http):
    httpx.post(f"{emulator.base_url}/bot{TOKEN}/getMe")
    control(emulator, "chat", username="later", discussion=False)
    bot = connect(emulator, http, chat="@later")
    assert bot.credentials.identity["linked_chat_id"] == ""
    bot.credentials_changed = False
    control(emulator, "chat", username="later", discussion=True)
    bot.refresh()
    assert bot.credentials.identity["linked_chat_id"] and bot.credentials_changed


def test_a_photo_post_is_not_taken_for_a_text_post_with_the_same_words(emulator, http):
    bot = connect(emulator, http)
    since = datetime.now(UTC) - timedelta(seconds=1)
    bot.publish(draft("", media=(Media(PNG, "image/png"),)))
    with pytest.raises(Unconfirmed):
        bot.find_published(draft(""), since=since)
    found = bot.find_published(draft("", media=(Media(PNG, "image/png"),)), since=since)
    assert found is not None
    with pytest.raises(Unconfirmed):  # recorded already for another post: not this one
        bot.find_published(
            draft("", media=(Media(PNG, "image/png"),)),
            since=since,
            exclude=frozenset({found.ref.remote_id}),
        )
