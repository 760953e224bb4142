"""Telegram through Chorus: the connect page and service, the account held when the bot loses
the channel, the dispatcher's exactly-once on a retried publish, and the generic "needs
setup" state of a network whose installation settings are missing."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.networks import services
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers.telegram import Telegram
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db

TOKEN = "777001:AAE-connect-test"


@pytest.fixture(scope="module")
def running():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def emulator(running):
    running.reset()
    return running


def connect(owner, emulator, chat="@brandnews", **choices):
    return services.account_connect_with_password(
        actor=owner,
        provider_key="telegram",
        identifier=chat,
        password=TOKEN,
        service_url=emulator.base_url,
        choices=choices,
    )


def control(emulator, action, **body):
    return httpx.post(f"{emulator.base_url}/_emulator/telegram/{action}", json=body).json()


def publish_now(owner, account, text):
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text=text)]
    )
    publishing.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


def test_connect_saves_the_channel_with_the_token_encrypted(owner, emulator):
    account = connect(owner, emulator, silent="true", unknown="ignored")
    assert account.provider == "telegram" and account.handle == "brandnews"
    assert account.remote_id.startswith("-100") and account.status == AccountStatus.ACTIVE
    assert account.identity["silent"] is True and "unknown" not in account.identity
    assert account.secrets == {"bot_token": TOKEN}
    assert TOKEN not in account.secrets_encrypted


def test_a_wrong_token_is_a_clear_error_and_saves_nothing(owner, emulator):
    httpx.post(f"{emulator.base_url}/_emulator/revoke", json={"account": TOKEN})
    with pytest.raises(ServiceError, match="BotFather"):
        connect(owner, emulator)
    assert not SocialAccount.objects.exists()


def test_publishes_through_the_dispatcher(owner, emulator):
    account = connect(owner, emulator)
    variant = publish_now(owner, account, "Hello **channel**")
    Dispatcher().run_once()
    variant.refresh_from_db()
    [event] = emulator.events()
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == event["id"]
    assert event["text"] == "Hello channel"


def test_a_lost_answer_is_recorded_from_the_discussion_group_not_sent_again(owner, emulator):
    account = connect(owner, emulator)
    emulator.configure(
        faults=[{"route": "telegram.sendMessage", "status": 502, "after_commit": True}]
    )
    variant = publish_now(owner, account, "Exactly once")
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    events = emulator.events()
    assert len(events) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == events[0]["id"]


def test_when_telegram_cannot_tell_the_post_fails_visibly_and_is_not_repeated(owner, emulator):
    httpx.post(f"{emulator.base_url}/bot{TOKEN}/getMe")
    control(emulator, "chat", username="solo", discussion=False)
    account = connect(owner, emulator, chat="@solo")
    emulator.configure(
        faults=[{"route": "telegram.sendMessage", "status": 502, "after_commit": True}]
    )
    variant = publish_now(owner, account, "Maybe once")
    Dispatcher().run_once()
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    assert len(emulator.events()) == 1
    assert variant.status == VariantStatus.FAILED
    assert "Check the channel" in variant.last_error


def test_a_kicked_bot_holds_the_post_until_reconnected(owner, emulator):
    account = connect(owner, emulator)
    control(emulator, "kick", chat="@brandnews")
    variant = publish_now(owner, account, "Held, not lost")
    Dispatcher().run_once()
    variant.refresh_from_db()
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert "Add it back as an administrator" in account.last_error
    assert variant.status != VariantStatus.PUBLISHED and not emulator.events()


def test_the_connect_page_offers_telegram_with_its_guide(client, owner):
    client.force_login(owner.user)
    page = client.get("/social-accounts/").content.decode()
    assert 'id="connect-telegram"' in page and "Bot token" in page
    assert "/social-accounts/guide/telegram/" in page
    guide = client.get("/social-accounts/guide/telegram/").content.decode()
    assert "BotFather" in guide and "<script" not in guide.split("network-guide")[1]


def test_a_network_missing_its_app_settings_needs_setup_instead_of_a_form(
    client, owner, monkeypatch, settings
):
    monkeypatch.setattr(Telegram, "app_settings", {"client_id": "CHORUS_TELEGRAM_CLIENT_ID"})
    client.force_login(owner.user)
    page = client.get("/social-accounts/").content.decode()
    card = page.split('id="connect-telegram"')[1].split('class="card"')[0]
    assert "Needs setup" in card and "CHORUS_TELEGRAM_CLIENT_ID" in card
    assert "<form" not in card and "/social-accounts/guide/telegram/" in card
    response = client.post(
        "/social-accounts/connect/telegram/password/",
        {"identifier": "@x", "password": TOKEN},
    )
    assert response.status_code == 400
    assert "CHORUS_TELEGRAM_CLIENT_ID" in response.content.decode()
    assert not SocialAccount.objects.exists()

    settings.CHORUS_NETWORK_OPTIONS = {"telegram": {"client_id": "set"}}
    page = client.get("/social-accounts/").content.decode()
    assert "Needs setup" not in page.split('id="connect-telegram"')[1].split('class="card"')[0]


def test_the_api_lists_telegram_and_what_it_lacks(client, owner, api_token_for):
    token = api_token_for(owner)
    networks = client.get("/api/v1/networks", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    telegram = next(n for n in networks if n["key"] == "telegram")
    assert telegram["needs_setup"] is False and telegram["missing_settings"] == []
    assert telegram["limits"]["max_text"] == 4096 and telegram["limits"]["max_caption"] == 1024


def test_the_composer_checks_a_caption_against_1024_and_a_message_against_4096():
    from chorus.publishing.validation import MediaInfo, check_variant, part_lengths

    text = "ก" * 1100
    photo = [MediaInfo("image/jpeg", 1000)]
    assert check_variant(provider_key="telegram", text=text) == []
    [problem] = check_variant(provider_key="telegram", text=text, media=photo)
    assert problem.field == "text" and "1100 of 1024" in problem.message
    [alone] = part_lengths("telegram", [text])
    [caption, reply] = part_lengths("telegram", [text, text], with_media=True)
    assert (alone.limit, caption.limit, reply.limit) == (4096, 1024, 4096)
    too_big = [MediaInfo("image/png", 11 * 1024 * 1024)]
    assert check_variant(provider_key="telegram", text="x", media=too_big)


def test_the_account_page_offers_reconnecting_with_the_bot_form(client, owner, emulator):
    account = connect(owner, emulator, silent="true")
    client.force_login(owner.user)
    page = client.get(f"/social-accounts/{account.pk}/").content.decode()
    assert "Bot token" in page and 'value="brandnews"' in page
    assert 'name="silent"' in page and "checked" in page.split('name="silent"')[1][:80]


def test_the_preview_draws_telegram_formatting():
    from chorus.web.views.preview_cards import segments

    assert segments("**Hi** <b>x</b> ||a||", "telegram") == [
        {"kind": "bold", "text": "Hi", "value": ""},
        {"kind": "", "text": " <b>x</b> ", "value": ""},
        {"kind": "spoiler", "text": "a", "value": ""},
    ]
