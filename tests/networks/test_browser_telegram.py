"""Connecting a Telegram channel from the web UI, against the emulator's Bot API."""

import httpx
import pytest

from chorus.networks.models import SocialAccount
from chorus.networks.providers.telegram import Telegram
from chorus.testing.emulator import EmulatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "909090:AAE-browser-test"


@pytest.fixture
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


def test_connect_a_channel_after_a_wrong_token(signed_in_page, emulator):
    httpx.post(f"{emulator.base_url}/_emulator/revoke", json={"account": "1:revoked"})
    page = signed_in_page
    page.goto("/social-accounts/")
    card = "#connect-telegram"
    assert "BotFather" in page.inner_text(card)
    page.fill(f"{card} #id_identifier", "@brandnews")
    page.fill(f"{card} #id_password", "1:revoked")
    page.fill(f"{card} #id_service_url", emulator.base_url)
    page.click(f"{card} button[type=submit]")
    page.wait_for_selector(f"{card} .errorlist")
    assert "BotFather" in page.inner_text(f"{card} .errorlist")
    assert not SocialAccount.objects.exists()

    page.fill(f"{card} #id_password", TOKEN)
    page.check(f"{card} #id_silent")
    page.fill(f"{card} #id_service_url", emulator.base_url)
    page.click(f"{card} button[type=submit]")
    page.wait_for_selector("#social-accounts tr[data-handle='brandnews']")
    assert "Working" in page.inner_text("#social-accounts")
    account = SocialAccount.objects.get()
    assert account.provider == "telegram" and account.identity["silent"] is True

    page.click(f"{card} >> text=How to connect Telegram")
    page.wait_for_selector("#network-guide")
    assert "Post messages" in page.inner_text("#network-guide")


def test_a_network_without_its_settings_shows_needs_setup(signed_in_page, monkeypatch):
    monkeypatch.setattr(Telegram, "app_settings", {"client_id": "CHORUS_TELEGRAM_CLIENT_ID"})
    page = signed_in_page
    page.goto("/social-accounts/")
    card = page.locator("#connect-telegram")
    assert "Needs setup" in card.inner_text()
    assert "CHORUS_TELEGRAM_CLIENT_ID" in card.inner_text()
    assert card.locator("form").count() == 0
    card.locator("text=How to set it up").click()
    page.wait_for_selector("#network-guide")
