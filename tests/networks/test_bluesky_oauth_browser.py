"""Signing in with Bluesky (atproto OAuth: PAR, PKCE, DPoP) from the Connect page, through
the real local PDS's own sign-in and consent pages (tests/servers/bluesky)."""

import pytest
from tests.conftest import PASSWORD

from chorus.networks import services
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers.base import AuthExpired, PostDraft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(settings, bluesky_server, live_server):
    """Chorus at http://127.0.0.1:port, where the spec's loopback client id applies."""
    url = live_server.url.replace("localhost", "127.0.0.1")
    settings.SITE_URL = url
    settings.CHORUS_NETWORK_OPTIONS = {
        "bluesky": {"plc_url": bluesky_server.plc_url, "handle_resolver": bluesky_server.pds_url}
    }
    return url


@pytest.fixture
def chorus(page, owner, site):
    page.goto(f"{site}/login/")
    page.fill("#id_username", owner.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{site}/")
    return page


def test_sign_in_with_bluesky_then_use_the_account(chorus, site, bluesky_server):
    first = bluesky_server.accounts[0]
    page = chorus
    page.goto(f"{site}/social-accounts/")
    page.fill("#connect-bluesky #id_bluesky_oauth_server_url", first.handle)
    page.click("#oauth-bluesky button[type=submit]")
    page.wait_for_url(f"{bluesky_server.pds_url}/oauth/authorize**")
    page.fill("input[type=password]", first.account_password)
    page.click("button:has-text('Sign in')")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{site}/social-accounts/")
    page.wait_for_selector(f"#social-accounts tr[data-handle='{first.handle}']")
    assert "Working" in page.inner_text("#social-accounts")
    account = SocialAccount.objects.get()
    assert account.remote_id == first.did and account.identity["auth"] == "oauth"
    assert set(account.secrets) == {"access_token", "refresh_token", "dpop_key"}

    # The DPoP-bound session publishes, reads, renews its tokens and deletes, on the PDS.
    with services.provider_for(account) as bluesky:
        published = bluesky.publish(PostDraft(text="Hello over DPoP", idempotency_key="oauth-1"))
        assert bluesky.find_published(
            PostDraft(text="Hello over DPoP", idempotency_key="oauth-1"), since=None
        )
        used_refresh_token = bluesky.credentials.secrets["refresh_token"]
        bluesky.refresh()
        assert bluesky.credentials.secrets["refresh_token"] != used_refresh_token
        assert bluesky.verify().remote_id == first.did  # the renewed token works
        bluesky.delete(published.ref)
    account.refresh_from_db()
    assert account.secrets["refresh_token"] != used_refresh_token and account.is_healthy

    # A refresh token already used is refused (invalid_grant): the account needs reconnecting.
    account.secrets = {**account.secrets, "refresh_token": used_refresh_token}
    account.save()
    with pytest.raises(AuthExpired), services.provider_for(account) as bluesky:
        bluesky.refresh()
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT


def test_chorus_at_localhost_is_told_to_use_127_0_0_1(signed_in_page, bluesky_server, settings):
    """The spec's loopback clients redirect to 127.0.0.1 or [::1], never to "localhost"."""
    settings.SITE_URL = signed_in_page.url.rstrip("/")  # http://localhost:port
    page = signed_in_page
    page.goto("/social-accounts/")
    page.fill("#id_bluesky_oauth_server_url", bluesky_server.accounts[0].handle)
    page.click("#oauth-bluesky button[type=submit]")
    page.wait_for_selector("#oauth-bluesky .errorlist")
    assert "127.0.0.1" in page.inner_text("#oauth-bluesky .errorlist")
    assert page.input_value("#id_bluesky_oauth_server_url") == bluesky_server.accounts[0].handle
    assert not SocialAccount.objects.exists()
