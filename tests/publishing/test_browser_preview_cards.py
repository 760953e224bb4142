"""The composer's preview in a real Chromium: an X account and an Instagram account chosen,
each drawn as its network draws a post, the avatar and the link card served by Chorus from
what a local web server gave (the page's Content-Security-Policy stays as it is)."""

import re

import pytest
from playwright.sync_api import expect
from tests.publishing import samples
from tests.publishing.test_browser_composer import shot

from chorus.networks.models import AccountStatus, SocialAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = b"""<html><head><meta property="og:title" content="Spring menu">
<meta property="og:description" content="Twelve new dishes">
<meta property="og:image" content="/card.png"></head><body></body></html>"""


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def account(owner, provider, handle, name, avatar=""):
    return SocialAccount.objects.create(
        workspace=owner.workspace,
        provider=provider,
        remote_id=handle,
        handle=handle,
        display_name=name,
        avatar_url=avatar,
        status=AccountStatus.ACTIVE,
    )


def test_x_and_instagram_cards_are_laid_out_each_their_own_way(
    signed_in_page, owner, site, tmp_path
):
    site.add("/avatar.png", samples.png(64, 64, colour=(20, 120, 200)), kind="image/png")
    site.add("/card.png", samples.png(120, 63), kind="image/png")
    site.add("/menu", PAGE)
    x = account(owner, "x", "kampotkitchen", "Kampot Kitchen", f"{site.url}/avatar.png")
    instagram = account(owner, "instagram", "kampot.kitchen", "Kampot Kitchen")
    page = signed_in_page
    page.goto("/posts/new/")
    for chosen in (x, instagram):
        page.check(f"input[name=accounts][value='{chosen.pk}']")
    page.fill("#id_text", "Our spring menu is here")
    x_card, ig_card = page.locator(f"#post-card-{x.pk}"), page.locator(f"#post-card-{instagram.pk}")
    expect(x_card.locator(".pv-names")).to_have_text(
        re.compile(r"Kampot Kitchen\s+@kampotkitchen\s+· now")
    )
    expect(ig_card.locator(".pv-names")).to_have_text("kampot.kitchen")
    expect(ig_card.locator(".pv-caption-name")).to_have_text("kampot.kitchen")

    avatar = x_card.locator(".pv-avatar img")  # fetched by Chorus, served from its origin
    expect(avatar).to_have_attribute("src", re.compile(r"^/posts/preview/image/"))
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 64", arg=avatar.element_handle()
    )
    expect(ig_card.locator(".pv-initials")).to_have_text("KK")  # no avatar: initials
    expect(ig_card.locator(".pv-avatar img")).to_have_count(0)

    page.click(f"#variant-{x.pk} summary")
    page.fill(f"#v{x.pk}-link", f"{site.url}/menu")
    card = x_card.locator(".pv-linkcard-full")  # loaded after the preview, from the page
    expect(card.locator(".pv-linkcard-title")).to_have_text("Spring menu")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 120",
        arg=card.locator(".pv-linkcard-image").element_handle(),
    )
    expect(ig_card.locator(".pv-linkcard")).to_have_count(0)  # no link cards on Instagram
    shot(page, "composer-preview-link-card")

    image = tmp_path / "dish.png"
    image.write_bytes(samples.png(30, 30))
    page.set_input_files("#id_upload", str(image))
    expect(x_card.locator(".pv-media-grid img")).to_have_count(1)
    expect(ig_card.locator(".pv-media-carousel img")).to_have_count(1)
    expect(x_card.locator(".pv-linkcard")).to_have_count(0)  # beside a picture: no card
    # X: the text, then the picture; Instagram: the picture, then "username caption"
    x_text, x_media = (x_card.locator(s).bounding_box() for s in (".pv-text", ".pv-media"))
    ig_text, ig_media = (ig_card.locator(s).bounding_box() for s in (".pv-text", ".pv-media"))
    assert x_text["y"] < x_media["y"] and ig_media["y"] < ig_text["y"]
    square = ig_card.locator(".pv-media img").bounding_box()
    assert abs(square["width"] - square["height"]) < 2  # Instagram crops to a square
    shot(page, "composer-preview-cards")
    # the draft kept as typed: nothing is still being written when the test ends
    expect(page.locator("#autosave-status")).to_contain_text("Kept as a draft")
    assert site.hits.count("/avatar.png") == 1 and site.hits.count("/menu") == 1
