"""After "Publish now" the post page follows the post out without a reload."""

import re

import pytest
from playwright.sync_api import expect

from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_post_page_updates_live_until_published(signed_in_page, owner, mastodon_account):
    page = signed_in_page
    page.goto("/posts/new/")
    page.fill("#id_text", "Live from the browser")
    page.click("#publish-now")
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    assert Variant.objects.get().status == VariantStatus.SCHEDULED
    expect(page.locator("#post-live")).to_have_attribute("data-live", "true")
    assert Dispatcher().run_once() == 1
    expect(page.locator("#post-status")).to_have_text("Published")  # no reload
    variant = Variant.objects.get()
    expect(page.locator(f"#remote-link-{variant.pk}")).to_have_attribute("href", variant.remote_url)
    expect(page.locator("#post-live")).not_to_have_attribute("data-live", "true")  # stopped


def test_a_post_due_later_does_not_poll(signed_in_page, owner, mastodon_account):
    page = signed_in_page
    page.goto("/posts/new/")
    page.fill("#id_text", "Later")
    page.click("#save-draft")
    page.wait_for_url(re.compile(r"/posts/\d+/edit/$"))
    page.goto(page.url.replace("/edit/", "/"))
    expect(page.locator("#post-status")).to_have_text("Draft")
    expect(page.locator("#post-live")).not_to_have_attribute("data-live", "true")


def test_typing_keeps_a_visible_draft_that_can_be_discarded(
    signed_in_page, owner, mastodon_account
):
    from chorus.publishing.models import Post

    page = signed_in_page
    page.goto("/posts/new/")
    page.fill("#id_text", "Just trying the composer")
    expect(page.locator("#autosave-status")).to_contain_text("Kept as a draft")
    assert Post.objects.count() == 1
    page.click("#discard-draft")
    expect(page.locator(".messages")).to_contain_text("Draft deleted.")
    assert Post.objects.count() == 0
