"""Connecting a Facebook Page and its Instagram account from the web UI, through the
emulator's Facebook login dialog (dialog/oauth), then choosing among the Pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus.networks.models import SocialAccount
from chorus.testing.emulator import EmulatorServer
from chorus.testing.emulator_meta import meta_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graph(settings, live_server) -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0, rate_limit=None) as server:
        for name, value in meta_settings(server.base_url).items():
            setattr(settings, name, value)
        settings.SITE_URL = live_server.url
        yield server


def test_connect_a_page_and_its_instagram(signed_in_page, graph):
    page = signed_in_page
    page.click("nav >> text=Social accounts")
    page.click("#connect-meta-facebook")
    page.click("#meta-connect button[type=submit]")
    page.wait_for_selector("text=Log in with Facebook")
    page.click("text=Continue as Emulated Owner")
    page.wait_for_selector("text=Choose Pages and Instagram accounts")
    page.check("label:has-text('Facebook Page: Chorus Café') input")
    page.check("label:has-text('Instagram: @chorus.cafe') input")
    page.click("button:has-text('Connect the chosen accounts')")
    page.wait_for_selector("#social-accounts tr[data-handle='chorus.cafe']")
    rows = page.inner_text("#social-accounts")
    assert "Chorus Café" in rows and "Working" in rows
    assert sorted(SocialAccount.objects.values_list("provider", flat=True)) == [
        "facebook",
        "instagram",
    ]


def test_cancelling_at_facebook_connects_nothing(signed_in_page, graph):
    page = signed_in_page
    page.goto("/social-accounts/meta/")
    page.click("#meta-connect button[type=submit]")
    page.click("text=Cancel")
    page.wait_for_selector("text=Facebook did not grant access")
    assert not SocialAccount.objects.exists()


def test_needs_setup_shows_the_guide_not_a_button(signed_in_page, settings):
    settings.CHORUS_META_APP_ID = ""
    page = signed_in_page
    page.goto("/social-accounts/")
    card = page.locator("#connect-instagram")
    assert "Needs setup" in card.inner_text() and "CHORUS_META_APP_ID" in card.inner_text()
    assert card.locator("button, #connect-meta-instagram").count() == 0
    card.get_by_role("link", name="How to set it up").click()
    assert "Meta app" in page.inner_text("main")
    page.goto("/social-accounts/meta/")
    assert "Needs setup" in page.inner_text("#meta-connect")
    assert page.locator("#meta-connect button").count() == 0
