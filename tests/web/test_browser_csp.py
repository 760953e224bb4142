"""Issue 10.1: a Content-Security-Policy on every page, and the app works under it.

Every browser test runs with the policy on and fails on any violation Chromium reports
(tests/conftest.py `page`); this file checks that the policy really blocks what a stored
XSS would inject.
"""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_injected_inline_script_and_handlers_do_not_run(signed_in_page):
    page = signed_in_page
    page.goto("/posts/new/")
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML('beforeend',
                '<img src="/nowhere.png" onerror="window.pwned = 1">');
            const script = document.createElement('script');
            script.textContent = 'window.pwned = 2';
            document.body.appendChild(script);
        }"""
    )
    page.wait_for_timeout(300)  # let the broken image fire its (blocked) error handler
    assert page.evaluate("() => window.pwned") is None
    assert any("inline" in v for v in page.csp_violations)
    page.csp_violations.clear()


def test_the_workspace_switcher_works_without_an_inline_handler(signed_in_page, owner):
    from chorus.accounts import services

    page = signed_in_page
    services.workspace_create(owner=owner.user, name="Second brand")
    page.goto("/")
    page.select_option("#workspace-select", label="Second brand")
    expect(page.locator("#workspace-select option:checked")).to_have_text("Second brand")


def test_a_confirmation_asked_by_a_static_script_can_be_declined(signed_in_page, owner):
    from chorus.networks.models import AccountStatus, SocialAccount
    from chorus.publishing import services
    from chorus.publishing.models import Post

    account = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="brand",
        handle="brand@mastodon.example",
        identity={"server_url": "https://mastodon.example"},
        status=AccountStatus.ACTIVE,
    )
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="Keep me")]
    )
    page = signed_in_page
    page.goto(f"/posts/{post.pk}/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#delete-post")
    page.wait_for_timeout(300)
    assert asked == ["Delete this post for good?"]
    assert Post.objects.filter(pk=post.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-post")
    page.wait_for_url("**/calendar/**")


def test_the_api_docs_render_from_our_own_origin(signed_in_page):
    page = signed_in_page
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
