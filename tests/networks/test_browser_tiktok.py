"""Connecting a TikTok account from the web UI, through the emulator's TikTok authorization
page; the private-only rule before the app's audit is shown on the connect page and in the
composer."""

import pytest

from chorus.networks.models import SocialAccount
from chorus.testing.emulator import EmulatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


def _options(emulator, **more) -> dict:
    base = f"{emulator.base_url}/tiktok"
    app = {"client_key": "chorus-tt", "client_secret": "s3cret", "api_url": base}
    return {"tiktok": {**app, "auth_url": base, **more}}


@pytest.fixture
def tiktok_app(emulator, settings, live_server):
    emulator.reset()
    settings.SITE_URL = live_server.url
    settings.CHORUS_NETWORK_OPTIONS = _options(emulator)
    return emulator


def test_tiktok_needs_setup_then_connects(signed_in_page, tiktok_app, settings):
    page = signed_in_page
    settings.CHORUS_NETWORK_OPTIONS = {"tiktok": {}}
    page.goto("/social-accounts/")
    assert "CHORUS_TIKTOK_CLIENT_KEY" in page.inner_text("#connect-tiktok")
    assert page.locator("#notice-tiktok").count() == 0
    page.click("#connect-tiktok >> text=How to set it up")
    assert "Content Posting API" in page.inner_text("body")

    settings.CHORUS_NETWORK_OPTIONS = _options(tiktok_app)
    page.goto("/social-accounts/")
    assert "private" in page.inner_text("#notice-tiktok")
    assert page.locator("#connect-tiktok input[name=server_url]").count() == 0
    page.click("#connect-tiktok button[type=submit]")
    page.wait_for_selector("text=Log in to TikTok")
    page.fill("input[name=username]", "brand_tiktok")
    page.click("button[value=allow]")
    page.wait_for_selector("#social-accounts tr[data-handle='brand_tiktok']")
    assert "Working" in page.inner_text("#social-accounts")
    account = SocialAccount.objects.get()
    assert account.provider == "tiktok" and account.secrets["refresh_token"]

    page.goto("/posts/new/")
    assert "private" in page.inner_text(f"#notice-{account.pk}")
    settings.CHORUS_NETWORK_OPTIONS = _options(tiktok_app, audited="1")
    page.goto("/posts/new/")
    assert page.locator(f"#notice-{account.pk}").count() == 0


def test_declining_on_tiktok_saves_nothing(signed_in_page, tiktok_app):
    page = signed_in_page
    page.goto("/social-accounts/")
    page.click("#connect-tiktok button[type=submit]")
    page.click("button[value=deny]")
    page.wait_for_selector("text=did not grant access")
    assert not SocialAccount.objects.exists()
