"""A held post's "Reconnect" link leads to a page that can reconnect the account."""

import pytest
from playwright.sync_api import expect

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import services as publishing
from chorus.publishing.models import VariantStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(settings, live_server):
    settings.SITE_URL = live_server.url  # the OAuth callback comes back to this server


def test_reconnect_from_the_held_posts_link(site, signed_in_page, owner, mastodon_account):
    account = mastodon_account
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text="Held one")]
    )
    SocialAccount.objects.filter(pk=account.pk).update(status=AccountStatus.NEEDS_RECONNECT)
    post.variants.update(status=VariantStatus.NEEDS_RECONNECT, last_error="The token was revoked.")

    page = signed_in_page
    page.goto(f"/posts/{post.pk}/")
    page.click(f"text=Reconnect {account.handle}")
    expect(page.locator("#reconnect")).to_be_visible()
    server = account.identity["server_url"]
    expect(page.locator("#reconnect #id_server_url")).to_have_value(server)
    page.click("#reconnect-button")
    username = account.handle.split("@")[0]
    page.click(f"button:has-text('{username}'), input[value='{username}']")
    expect(page.locator(".messages")).to_contain_text(f"Connected {account.handle}")
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert SocialAccount.objects.count() == 1  # the same account, renewed
