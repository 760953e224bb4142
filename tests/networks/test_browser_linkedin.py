"""Connecting LinkedIn from the web UI: the emulator's consent page, then choosing to post
as the member and a page they administer."""

import httpx
import pytest

from chorus.networks.models import SocialAccount
from chorus.networks.providers import linkedin_oauth
from chorus.testing.emulator import EmulatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


def _options(emulator) -> dict:
    base = f"{emulator.base_url}/linkedin"
    return {
        "linkedin": {
            "client_id": "chorus-linkedin",
            "client_secret": "s3cret",
            "scopes": f"{linkedin_oauth.MEMBER_SCOPES} {linkedin_oauth.ORGANIZATION_SCOPES}",
            "api_url": base,
            "auth_url": base,
        }
    }


def test_linkedin_needs_setup_then_connects(signed_in_page, emulator, settings, live_server):
    emulator.reset()
    settings.SITE_URL = live_server.url
    page = signed_in_page
    settings.CHORUS_NETWORK_OPTIONS = {"linkedin": {}}
    page.goto("/social-accounts/")
    assert "CHORUS_LINKEDIN_CLIENT_ID" in page.inner_text("#connect-linkedin")
    page.click("#connect-linkedin >> text=How to set it up")
    assert "Community Management API" in page.inner_text("body")

    settings.CHORUS_NETWORK_OPTIONS = _options(emulator)
    httpx.post(
        f"{emulator.base_url}/_emulator/linkedin/member",
        json={"name": "Grace Hopper", "organizations": [{"name": "Acme Corp"}]},
    ).raise_for_status()
    page.goto("/social-accounts/")
    assert page.locator("#connect-linkedin input[name=server_url]").count() == 0
    page.click("#connect-linkedin button[type=submit]")
    page.wait_for_selector("text=access your LinkedIn account")
    page.fill("input[name=member]", "Grace Hopper")
    page.click("button[value=allow]")
    page.wait_for_selector("text=Choose who posts on LinkedIn")
    member = SocialAccount.objects.get()
    assert member.provider == "linkedin" and member.secrets["access_token"]
    assert member.remote_id.startswith("urn:li:person:")
    assert page.is_checked(f"#linkedin-choose input[value='{member.remote_id}']")
    page.check("#linkedin-choose label:has-text('Acme Corp') input")
    page.click("#linkedin-choose button[type=submit]")
    page.wait_for_selector("#social-accounts tr[data-handle='acme-corp']")
    assert "Working" in page.inner_text("#social-accounts tr[data-handle='Grace Hopper']")
    org = SocialAccount.objects.get(handle="acme-corp")
    assert org.identity["author"] == org.remote_id != member.remote_id


def test_cancelling_on_linkedin_saves_nothing(signed_in_page, emulator, settings, live_server):
    emulator.reset()
    settings.SITE_URL = live_server.url
    settings.CHORUS_NETWORK_OPTIONS = _options(emulator)
    page = signed_in_page
    page.goto("/social-accounts/")
    page.click("#connect-linkedin button[type=submit]")
    page.click("button[value=cancel]")
    page.wait_for_selector("text=did not grant access")
    assert not SocialAccount.objects.exists()
