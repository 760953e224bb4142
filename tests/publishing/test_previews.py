"""Link cards and remote images for the composer's preview (`publishing.previews`), read
from a local HTTP server on 127.0.0.1 (the one address the tests' outbound guard allows)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image
from tests.publishing import samples

from chorus.publishing import previews
from chorus.publishing.models import LinkPreview, RemoteImage

pytestmark = pytest.mark.django_db

PAGE = b"""<!doctype html><html><head><meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Spring menu &amp; prices">
<meta property="og:description" content="  Twelve   new dishes,
 from Phnom Penh  ">
<meta property="og:site_name" content="Kampot Kitchen">
<meta property="og:image" content="/images/card.png">
</head><body><p>Hello</p></body></html>"""


def test_a_card_is_read_from_the_pages_opengraph_meta_and_kept(site):
    site.add("/menu", PAGE)
    card = previews.link_preview_get(f"{site.url}/menu")
    assert card.has_card and card.error == ""
    assert card.title == "Spring menu & prices"
    assert card.description == "Twelve new dishes, from Phnom Penh"
    assert card.site_name == "Kampot Kitchen"
    assert card.image_url == f"{site.url}/images/card.png"  # made absolute
    again = previews.link_preview_get(f"{site.url}/menu")
    assert again.pk == card.pk and site.hits == ["/menu"]  # kept: asked once


def test_twitter_card_and_plain_title_are_used_when_there_is_no_opengraph(site):
    site.add(
        "/t",
        b'<html><head><title> Plain\n title </title><meta name="twitter:title" content="Tw">'
        b'<meta name="description" content="Described"></head></html>',
    )
    site.add("/p", b"<html><head><title>Only a title</title></head><body>x</body></html>")
    card = previews.link_preview_get(f"{site.url}/t")
    assert (card.title, card.description, card.site_name) == ("Tw", "Described", "127.0.0.1")
    assert previews.link_preview_get(f"{site.url}/p").title == "Only a title"


def test_redirects_are_followed_each_through_the_guard(site):
    site.add("/short", b"", status=301, Location="/menu")
    site.add("/menu", PAGE)
    assert previews.link_preview_get(f"{site.url}/short").title == "Spring menu & prices"
    assert site.hits == ["/short", "/menu"]


def test_a_redirect_to_a_private_address_is_refused(site, settings):
    settings.CHORUS_OUTBOUND_ALLOW = [site.url]  # this server only, not the rest of loopback
    site.add("/away", b"", status=302, Location="http://127.0.0.2:9/secret")
    site.add("/meta", b"", status=302, Location="http://169.254.169.254/latest/meta-data/")
    for path in ("/away", "/meta"):
        card = previews.link_preview_get(f"{site.url}{path}")
        assert not card.has_card and card.error


def test_a_private_address_is_refused_before_any_request(site, settings):
    settings.CHORUS_OUTBOUND_ALLOW = []  # the guard as in production: loopback is private
    site.add("/menu", PAGE)
    card = previews.link_preview_get(f"{site.url}/menu")
    assert not card.has_card and card.error == "ConnectError"
    assert site.hits == []
    image = previews.image_get(f"{site.url}/a.png")
    assert image.error and not image.data and site.hits == []


def test_an_oversized_page_gives_no_card_and_no_error(site):
    filler = b"<!--" + b"x" * (previews.PAGE_BYTES + 10) + b"-->"
    site.add("/huge", b"<html><head>" + filler + b'<meta property="og:title" content="Late">')
    card = previews.link_preview_get(f"{site.url}/huge")
    assert not card.has_card and card.error == "too large"


def test_a_big_page_whose_head_ends_early_still_gives_its_card(site):
    body = b"<p>" + b"y" * (previews.PAGE_BYTES * 2) + b"</p></body></html>"
    site.add("/long", PAGE.replace(b"<body><p>Hello</p></body></html>", body))
    assert previews.link_preview_get(f"{site.url}/long").title == "Spring menu & prices"


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\xff\xfe<<<meta property=og:title content=",
        b"<html><head><meta property='og:title' content='Unclosed",
        bytes(range(256)) * 40,
        b"",
    ],
)
def test_malformed_html_gives_no_card_and_no_error(site, body):
    site.add("/bad", body)
    card = previews.link_preview_get(f"{site.url}/bad")
    assert not card.has_card


def test_a_page_that_is_not_html_gives_no_card(site):
    site.add("/data", b'{"og:title": "x"}', kind="application/json")
    site.add("/gone", b"", status=410)
    for path in ("/data", "/gone"):
        assert not previews.link_preview_get(f"{site.url}{path}").has_card


def test_unsafe_image_urls_in_the_meta_are_dropped(site):
    site.add(
        "/js",
        b'<head><meta property="og:title" content="T">'
        b'<meta property="og:image" content="javascript:alert(1)"></head>',
    )
    assert previews.link_preview_get(f"{site.url}/js").image_url == ""


# --------------------------------------------------------------------------- images


def test_an_avatar_is_written_again_small_and_served_with_safe_headers(site, client):
    site.add("/avatar.png", samples.png(1600, 900), kind="image/png")
    url = f"{site.url}/avatar.png"
    response = client.get(f"/posts/preview/image/{previews.image_token(url)}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    with Image.open(io.BytesIO(response.content)) as served:
        assert served.format == "JPEG" and max(served.size) == previews.IMAGE_SIDE
    client.get(f"/posts/preview/image/{previews.image_token(url)}/")
    assert site.hits == ["/avatar.png"]  # kept after the first look
    assert RemoteImage.objects.get(url=url).content_type == "image/jpeg"


def test_a_transparent_image_stays_a_png(site):
    out = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(out, "PNG")
    site.add("/clear.png", out.getvalue(), kind="image/png")
    assert previews.image_get(f"{site.url}/clear.png").content_type == "image/png"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/svg+xml"),
        (b"<html><script>alert(1)</script></html>", "image/png"),  # lies about its type
        (b"<html><script>alert(1)</script></html>", "text/html"),
        (samples.png_bomb(), "image/png"),
    ],
)
def test_anything_but_a_real_image_is_refused_and_never_served(site, client, body, kind):
    site.add("/x", body, kind=kind)
    url = f"{site.url}/x"
    response = client.get(f"/posts/preview/image/{previews.image_token(url)}/")
    assert response.status_code == 404
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"script" not in response.content and b"svg" not in response.content
    assert RemoteImage.objects.get(url=url).error


def test_an_image_over_the_size_cap_is_not_read(site, settings, monkeypatch):
    monkeypatch.setattr(previews, "IMAGE_BYTES", 1000)
    site.add("/big.png", samples.png(200, 200, colour=(1, 2, 3)) + b"\0" * 2000, kind="image/png")
    assert previews.image_get(f"{site.url}/big.png").error == "too large"


def test_only_signed_image_names_are_served(site):
    site.add("/a.png", samples.png(), kind="image/png")
    token = previews.image_token(f"{site.url}/a.png")
    assert Client().get(f"/posts/preview/image/{token[:-2]}xx/").status_code == 404
    assert Client().get(f"/posts/preview/image/{site.url}/a.png/").status_code == 404
    assert site.hits == []


def test_a_failure_is_kept_for_a_while_then_tried_again(site):
    url = f"{site.url}/later"
    assert previews.link_preview_get(url).error == "HTTP 404"
    site.add("/later", PAGE)
    assert previews.link_preview_get(url).error == "HTTP 404"  # not asked again at once
    LinkPreview.objects.filter(url=url).update(
        fetched_at=LinkPreview.objects.get(url=url).fetched_at - previews.RETRY_AFTER * 2
    )
    assert previews.link_preview_get(url).title == "Spring menu & prices"
    assert site.hits == ["/later", "/later"]
