"""Connecting a Threads profile from the web UI, through the emulator's authorization window."""

import pytest

from chorus.networks.models import SocialAccount
from chorus.testing.emulator import EmulatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


def _options(emulator) -> dict:
    base = f"{emulator.base_url}/threads"
    return {
        "threads": {
            "app_id": "chorus-threads",
            "app_secret": "s3cret",
            "graph_url": base,
            "auth_url": base,
        }
    }


def test_threads_needs_setup_then_connects(signed_in_page, emulator, settings, live_server):
    emulator.reset()
    settings.SITE_URL = live_server.url
    page = signed_in_page
    settings.CHORUS_NETWORK_OPTIONS = {"threads": {}}
    page.goto("/social-accounts/")
    assert "CHORUS_THREADS_APP_ID" in page.inner_text("#connect-threads")
    page.click("#connect-threads >> text=How to set it up")
    assert "threads_content_publish" in page.inner_text("body")

    settings.CHORUS_NETWORK_OPTIONS = _options(emulator)
    page.goto("/social-accounts/")
    assert page.locator("#connect-threads input[name=server_url]").count() == 0
    page.click("#connect-threads button[type=submit]")
    page.wait_for_selector("text=Allow access to Threads")
    page.fill("input[name=username]", "brand_threads")
    page.click("button[value=allow]")
    page.wait_for_selector("#social-accounts tr[data-handle='brand_threads']")
    assert "Working" in page.inner_text("#social-accounts")
    account = SocialAccount.objects.get()
    assert account.provider == "threads" and account.secrets["access_token"]


def test_declining_on_threads_saves_nothing(signed_in_page, emulator, settings, live_server):
    emulator.reset()
    settings.SITE_URL = live_server.url
    settings.CHORUS_NETWORK_OPTIONS = _options(emulator)
    page = signed_in_page
    page.goto("/social-accounts/")
    page.click("#connect-threads button[type=submit]")
    page.click("button[value=deny]")
    page.wait_for_selector("text=did not grant access")
    assert not SocialAccount.objects.exists()
