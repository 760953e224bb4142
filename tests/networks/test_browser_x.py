"""Connecting an X account from the web UI, through the emulator's X consent page."""

import pytest

from chorus.networks.models import SocialAccount
from chorus.testing.emulator import EmulatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def x_app(emulator, settings, live_server):
    emulator.reset()
    settings.SITE_URL = live_server.url
    settings.CHORUS_NETWORK_OPTIONS = {
        "x": {"client_id": "chorus-app", "client_secret": "s3cret", "api_url": emulator.base_url}
    }
    return emulator


def test_x_needs_setup_then_connects_through_the_consent_page(signed_in_page, x_app, settings):
    page = signed_in_page
    settings.CHORUS_NETWORK_OPTIONS = {"x": {}}
    page.goto("/social-accounts/")
    assert "CHORUS_X_CLIENT_ID" in page.inner_text("#connect-x")
    page.click("#connect-x >> text=How to set it up")
    assert "developer" in page.inner_text("body")

    settings.CHORUS_NETWORK_OPTIONS = {
        "x": {"client_id": "chorus-app", "client_secret": "s3cret", "api_url": x_app.base_url}
    }
    page.goto("/social-accounts/")
    assert page.locator("#connect-x input[name=server_url]").count() == 0
    page.click("#connect-x button[type=submit]")
    page.wait_for_selector("text=Authorize app")
    page.fill("input[name=username]", "brand_news")
    page.click("button[value=allow]")
    page.wait_for_selector("#social-accounts tr[data-handle='brand_news']")
    assert "Working" in page.inner_text("#social-accounts")
    account = SocialAccount.objects.get()
    assert account.provider == "x" and account.secrets["refresh_token"]


def test_declining_on_x_says_so_and_saves_nothing(signed_in_page, x_app):
    page = signed_in_page
    page.goto("/social-accounts/")
    page.click("#connect-x button[type=submit]")
    page.click("button[value=deny]")
    page.wait_for_selector("text=did not grant access")
    assert not SocialAccount.objects.exists()
