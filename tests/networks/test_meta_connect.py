"""Connecting Facebook Pages and Instagram accounts: needs-setup, the login through the
emulator's dialog, choosing among the Pages, and every way it can go wrong."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from chorus.governance.models import AuditAction, AuditEntry
from chorus.networks.models import SocialAccount
from chorus.networks.providers.facebook import Facebook
from chorus.networks.providers.instagram import Instagram
from chorus.testing.emulator import EmulatorServer
from chorus.testing.emulator_meta import meta_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0, rate_limit=None) as running:
        yield running


@pytest.fixture
def graph(server, settings) -> Iterator[EmulatorServer]:
    server.reset()
    for name, value in meta_settings(server.base_url).items():
        setattr(settings, name, value)
    yield server


def login(client, owner):
    client.force_login(owner.user)
    return client


def through_the_dialog(client, *, cancel: bool = False) -> str:
    """Start, follow Facebook's dialog (the emulator's), return the callback path."""
    begin = client.post("/social-accounts/meta/begin/")
    assert begin.status_code == 302
    dialog = httpx.get(begin["Location"])
    links = [p.split('"', 1)[0].replace("&amp;", "&") for p in dialog.text.split('href="')[1:]]
    link = links[-1] if cancel else links[0]
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_needs_setup_until_the_app_is_configured(client, owner, settings):
    settings.CHORUS_META_APP_ID = ""
    settings.CHORUS_META_APP_SECRET = ""
    login(client, owner)
    page = client.get("/social-accounts/meta/")
    assert b"Needs setup" in page.content and b"docs/networks/facebook.md" in page.content
    assert b"Continue to Facebook" not in page.content
    refused = client.post("/social-accounts/meta/begin/", follow=True)
    assert b"need setup" in refused.content
    accounts = client.get("/social-accounts/").content.decode()
    facebook_card = accounts.split('id="connect-facebook"')[1].split('id="connect-')[0]
    assert "Needs setup" in facebook_card and "CHORUS_META_APP_ID" in facebook_card
    assert 'href="/social-accounts/guide/facebook/"' in facebook_card
    assert 'href="/social-accounts/meta/"' not in facebook_card, "no button that cannot work"


def test_connect_chosen_pages_and_instagram(client, owner, graph):
    login(client, owner)
    assert b"Continue to Facebook" in client.get("/social-accounts/meta/").content
    choose = client.get(through_the_dialog(client), follow=True)
    assert b"Chorus Caf" in choose.content and b"@chorus.cafe" in choose.content
    keys = [k.split('"')[0] for k in choose.content.decode().split('value="')[1:]]
    chosen = [k for k in keys if k.startswith(("instagram:", "facebook:"))]
    facebook_keys = [k for k in chosen if k.startswith("facebook:")]
    done = client.post(
        "/social-accounts/meta/choose/",
        {"chosen": [facebook_keys[0], *[k for k in chosen if k.startswith("instagram:")]]},
        follow=True,
    )
    assert b"Connected" in done.content
    accounts = SocialAccount.objects.order_by("provider")
    assert [a.provider for a in accounts] == ["facebook", "instagram"]
    assert accounts[1].handle == "chorus.cafe" and accounts[1].secrets["access_token"]
    assert AuditEntry.objects.filter(action=AuditAction.ACCOUNT_CONNECTED).count() == 2
    # the session no longer holds the user token
    assert client.get("/social-accounts/meta/choose/", follow=True).redirect_chain[-1][0] == (
        "/social-accounts/meta/"
    )


def test_choosing_nothing_or_a_page_not_managed_is_refused(client, owner, graph):
    login(client, owner)
    client.get(through_the_dialog(client))
    empty = client.post("/social-accounts/meta/choose/", {})
    assert empty.status_code == 400 and b"at least one" in empty.content
    other = client.post("/social-accounts/meta/choose/", {"chosen": ["facebook:999"]})
    assert other.status_code == 400 and b"no longer manages" in other.content
    assert not SocialAccount.objects.exists()


def test_cancel_and_forged_state_connect_nothing(client, owner, graph):
    login(client, owner)
    cancelled = client.get(through_the_dialog(client, cancel=True), follow=True)
    assert b"did not grant access" in cancelled.content
    forged = client.get("/social-accounts/meta/callback/?code=x&state=forged", follow=True)
    assert b"expired" in forged.content
    assert not SocialAccount.objects.exists()


def test_others_cannot_connect(client, make_member, graph):
    member = make_member("editor")
    client.force_login(member.user)
    assert client.get("/social-accounts/meta/").status_code == 403
    assert client.post("/social-accounts/meta/begin/").status_code == 403


def test_providers_expose_is_configured_and_their_guide():
    assert callable(Facebook.is_configured) and callable(Instagram.is_configured)
    assert Facebook.setup_guide == "docs/networks/facebook.md"
    assert Instagram.setup_guide == "docs/networks/instagram.md"
