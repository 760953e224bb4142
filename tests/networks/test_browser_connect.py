"""Connecting a Mastodon account from the web UI, through the server's consent page."""

import pytest

from chorus.networks.models import SocialAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_mastodon_then_see_health_then_disconnect(
    signed_in_page, mastodon_server, live_server, settings
):
    settings.SITE_URL = live_server.url
    username, _token = mastodon_server.new_user("brand")
    page = signed_in_page
    page.click("nav >> text=Social accounts")
    page.fill("#connect-mastodon #id_server_url", mastodon_server.base_url)
    page.click("#connect-mastodon button[type=submit]")
    page.click(f"button:has-text('{username}'), input[value='{username}']")
    page.wait_for_selector(f"#social-accounts tr[data-handle^='{username}']")
    assert "Working" in page.inner_text("#social-accounts")

    page.click(f"#social-accounts tr[data-handle^='{username}'] a")
    page.click("#check-now")
    page.wait_for_selector("#health .health-ok")
    assert "of" in page.inner_text("#rate-budget")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#disconnect")
    page.wait_for_selector("text=Disconnected")
    assert SocialAccount.objects.get().secrets_encrypted == ""


def test_not_a_mastodon_server_shows_a_clear_error(signed_in_page, live_server):
    page = signed_in_page
    page.goto("/social-accounts/")
    page.fill("#connect-mastodon #id_server_url", live_server.url)
    page.click("#connect-mastodon button[type=submit]")
    page.wait_for_selector("#connect-mastodon .errorlist")
    assert "Mastodon" in page.inner_text("#connect-mastodon .errorlist")
    assert not SocialAccount.objects.exists()


def test_connect_bluesky_with_an_app_password(signed_in_page, bluesky_server, settings):
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": bluesky_server.plc_url}}
    first = bluesky_server.accounts[0]
    page = signed_in_page
    page.goto("/social-accounts/")
    page.fill("#connect-bluesky #id_identifier", first.handle)
    page.fill("#connect-bluesky #id_password", "not-the-password")
    page.fill("#connect-bluesky #id_service_url", bluesky_server.pds_url)
    page.click("#password-form-bluesky button[type=submit]")
    page.wait_for_selector("#connect-bluesky .errorlist")
    assert "password" in page.inner_text("#connect-bluesky .errorlist").lower()
    assert not SocialAccount.objects.exists()
    page.fill("#connect-bluesky #id_password", first.password)
    page.click("#password-form-bluesky button[type=submit]")
    page.wait_for_selector(f"#social-accounts tr[data-handle='{first.handle}']")
    assert "Working" in page.inner_text("#social-accounts")
