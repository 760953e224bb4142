"""Every page has an icon (no 404 for /favicon.ico), and on a phone the menu folds away."""

import pytest
from playwright.sync_api import expect


@pytest.mark.django_db
def test_favicon_is_served(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login/").content.decode()
    assert 'rel="icon"' in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_phone_menu_is_folded_until_asked_for(signed_in_page):
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/")
    sidebar = page.locator("aside.sidebar").bounding_box()
    assert sidebar["height"] < 844 * 0.15  # not half the screen
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.click("#menu-button")
    expect(nav).to_be_visible()
    opened = page.locator("#sidebar-menu").bounding_box()
    assert opened["x"] < 30 and opened["width"] > 300  # unfolds below, across the screen
    page.click("#menu-button")
    expect(nav).to_be_hidden()
    page.set_viewport_size({"width": 1280, "height": 800})  # a wide screen: always open
    expect(nav).to_be_visible()
    expect(page.locator("#menu-button")).to_be_hidden()
    assert missing == []
