"""The composer's preview draws each network's own post card: its name line, the avatar from
Chorus's origin (never the network's CDN), its link card, media layout and first comment."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone
from tests.publishing import samples

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import previews
from chorus.publishing.models import LinkPreview, MediaAsset, RemoteImage

pytestmark = pytest.mark.django_db

LINK = "https://kampot-kitchen.com/menu"
CDN = "https://cdn.network.example/avatars/"

ACCOUNTS = {  # provider: (handle, display name, identity)
    "x": ("kampotkitchen", "Kampot Kitchen", {}),
    "bluesky": ("kampot.bsky.social", "Kampot Kitchen", {"did": "did:plc:abc"}),
    "mastodon": ("kampot@social.example", "Kampot Kitchen", {"server_url": "https://s.example"}),
    "instagram": ("kampot.kitchen", "Kampot Kitchen", {}),
    "threads": ("kampot.kitchen", "Kampot Kitchen", {}),
    "facebook": ("Kampot Kitchen Page", "Kampot Kitchen Page", {}),
    "linkedin": ("kampot-kitchen", "Kampot Kitchen Ltd", {"author": "urn:li:organization:1"}),
    "telegram": ("kampotnews", "Kampot News", {}),
    "tiktok": ("kampot.eats", "Kampot Eats", {}),
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def accounts(owner):
    return {
        provider: SocialAccount.objects.create(
            workspace=owner.workspace,
            provider=provider,
            remote_id=f"id-{provider}",
            handle=handle,
            display_name=name,
            avatar_url=f"{CDN}{provider}.jpg",
            identity=identity,
            status=AccountStatus.ACTIVE,
        )
        for provider, (handle, name, identity) in ACCOUNTS.items()
    }


def preview(owner, accounts, **fields) -> str:
    client = Client()
    client.force_login(owner.user)
    data = {"accounts": [a.pk for a in accounts], "text": "Our spring menu", **fields}
    response = client.post("/posts/preview/", data)
    assert response.status_code == 200
    return response.content.decode()


def card_of(body: str, account) -> str:
    """The HTML of one account's preview section."""
    start = body.index(f'id="preview-{account.pk}"')
    end = body.find('<section class="preview-card"', start)
    return body[start : end if end > 0 else len(body)]


def author_line(section: str) -> str:
    line = section[section.index('class="pv-names"') : section.index("</span>\n</div>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line.split(">", 1)[1])).strip()


def test_each_network_prints_its_own_name_line(owner, accounts):
    body = preview(owner, accounts.values())
    expected = {
        "x": "Kampot Kitchen @kampotkitchen · now",
        "bluesky": "Kampot Kitchen @kampot.bsky.social",
        "mastodon": "Kampot Kitchen @kampot@social.example",
        "instagram": "kampot.kitchen",
        "threads": "kampot.kitchen · now",
        "facebook": "Kampot Kitchen PageJust now · 🌐",
        "linkedin": "Kampot Kitchen LtdJust now · 🌐",
        "telegram": "Kampot News",
        "tiktok": "kampot.eats",
    }
    for provider, account in accounts.items():
        section = card_of(body, account)
        assert author_line(section) == expected[provider], provider
        assert f'class="pv-post pv-net-{provider}"' in section


def test_avatars_come_from_chorus_never_from_the_networks_cdn(owner, accounts):
    body = preview(owner, accounts.values())
    assert CDN not in body
    for account in accounts.values():
        section = card_of(body, account)
        token = previews.image_token(account.avatar_url)
        assert f'<img src="/posts/preview/image/{token}/" alt=""' in section
    assert 'class="pv-avatar av-square' in card_of(body, accounts["mastodon"])
    assert 'class="pv-avatar av-square' in card_of(body, accounts["linkedin"])  # a company
    assert 'class="pv-avatar av-round' in card_of(body, accounts["x"])


def test_initials_stand_in_when_there_is_no_avatar_or_it_could_not_be_had(owner, accounts):
    x, bluesky = accounts["x"], accounts["bluesky"]
    x.avatar_url = ""
    x.save()
    RemoteImage.objects.create(url=bluesky.avatar_url, fetched_at=timezone.now(), error="HTTP 404")
    body = preview(owner, [x, bluesky])
    for account in (x, bluesky):
        section = card_of(body, account)
        assert '<span class="pv-initials">KK</span>' in section
        assert "/posts/preview/image/" not in section


def test_a_kept_link_card_is_drawn_where_the_network_draws_one(owner, accounts):
    LinkPreview.objects.create(
        url=LINK,
        title="Spring menu",
        description="Twelve new dishes",
        site_name="Kampot Kitchen",
        image_url="https://kampot-kitchen.com/card.jpg",
        fetched_at=timezone.now(),
    )
    body = preview(owner, accounts.values(), text=f"Our spring menu {LINK}")
    image = f"/posts/preview/image/{previews.image_token('https://kampot-kitchen.com/card.jpg')}/"
    for provider in ("x", "mastodon", "threads", "facebook"):  # a link in the text: a card
        section = card_of(body, accounts[provider])
        assert 'class="pv-linkcard pv-linkcard-full"' in section, provider
        assert "Spring menu</strong>" in section and "Twelve new dishes" in section
        assert f'src="{image}"' in section
    for provider in ("instagram", "tiktok", "bluesky", "linkedin", "telegram"):
        assert "pv-linkcard" not in card_of(body, accounts[provider]), provider
    assert "https://kampot-kitchen.com/card.jpg" not in body  # never hot-linked
    RemoteImage.objects.create(
        url="https://kampot-kitchen.com/card.jpg", fetched_at=timezone.now(), error="HTTP 404"
    )
    body = preview(owner, [accounts["x"]], text=f"Our spring menu {LINK}")
    assert "Spring menu</strong>" in body and "pv-linkcard-image" not in body  # no picture


def test_the_variants_own_link_makes_the_card_and_media_leave_none(owner, accounts):
    chosen = [accounts[p] for p in ("x", "bluesky", "linkedin", "telegram", "instagram")]
    fields = {f"v{a.pk}-link": LINK for a in chosen}
    body = preview(owner, chosen, **fields)
    assert 'class="pv-linkcard-pending" hx-get="/posts/preview/link/' in card_of(body, chosen[0])
    for account in chosen[1:3]:  # sent with the link as the card's title: drawn so
        section = card_of(body, account)
        assert 'class="pv-linkcard pv-linkcard-bare"' in section
        assert f'pv-linkcard-title">{LINK}</strong>' in section
    assert "pv-linkcard-pending" in card_of(body, chosen[3])  # Telegram: the link's preview
    assert "pv-linkcard" not in card_of(body, chosen[4])
    asset = MediaAsset.objects.create(
        workspace=accounts["x"].workspace, file="a.png", mime_type="image/png", size=10
    )
    body = preview(owner, chosen, media=[asset.pk], **fields)
    assert "pv-linkcard" not in body  # beside a picture no network draws the link's card


def test_a_pending_card_loads_itself_from_the_page(owner, accounts, monkeypatch):
    asked = []

    def fetch(url, accept, limit, *, stop=b""):
        asked.append(url)
        return b'<head><meta property="og:title" content="Loaded"></head>'

    monkeypatch.setattr(previews, "_fetch", fetch)
    x = accounts["x"]
    body = preview(owner, [x], text=f"Menu {LINK}")
    path = re.search(r'hx-get="(/posts/preview/link/[^"]+)"', body).group(1)
    client = Client()
    client.force_login(owner.user)
    card = client.get(path).content.decode()
    assert "Loaded</strong>" in card and asked == [LINK]
    body = preview(owner, [x], text=f"Menu {LINK}")
    assert "Loaded</strong>" in body and "hx-get" not in card_of(body, x)  # kept
    assert client.get(path[:-3] + "xx/").status_code == 404
    assert Client().get(path).status_code == 302  # members only


def test_media_are_laid_out_as_each_network_does(owner, accounts):
    workspace = accounts["x"].workspace
    assets = [
        MediaAsset.objects.create(
            workspace=workspace, file=f"{n}.png", mime_type="image/png", size=10
        )
        for n in range(3)
    ]
    chosen = [accounts[p] for p in ("x", "instagram", "threads", "tiktok")]
    body = preview(owner, chosen, media=[a.pk for a in assets])
    assert 'class="pv-media pv-media-grid pv-count-3"' in card_of(body, chosen[0])
    instagram = card_of(body, chosen[1])
    assert 'class="pv-media pv-media-carousel pv-count-3"' in instagram
    # Instagram: the pictures first, then "username caption"
    assert instagram.index("pv-media-carousel") < instagram.index("Our spring menu")
    assert '<strong class="pv-caption-name">kampot.kitchen</strong> Our spring menu' in instagram
    threads = card_of(body, chosen[2])
    assert threads.index("Our spring menu") < threads.index("pv-media-carousel")  # text first
    assert 'class="pv-media pv-media-vertical pv-count-3"' in card_of(body, chosen[3])


def test_the_first_comment_shows_beneath_the_post_as_that_network_has_it(owner, accounts):
    chosen = [accounts[p] for p in ("x", "facebook", "tiktok")]
    fields = {f"v{a.pk}-first_comment": "Book at kampot.example" for a in chosen}
    body = preview(owner, chosen, **fields)
    x = card_of(body, chosen[0])
    comment = x[x.index(f'id="first-comment-{chosen[0].pk}"') :]
    assert 'class="pv-comment pv-comment-reply' in x and "First comment · " in comment
    assert "Book at kampot.example" in comment and "Kampot Kitchen" in comment
    assert x.index("Our spring menu") < x.index("First comment")
    assert 'class="pv-comment pv-comment-comment' in card_of(body, chosen[1])
    tiktok = card_of(body, chosen[2])
    assert "pv-comment" not in tiktok and "would not be posted" in tiktok


def test_the_image_route_keeps_a_thumbnail_of_a_real_image(owner, monkeypatch):
    monkeypatch.setattr(previews, "_fetch", lambda *a, **k: samples.png(40, 40))
    token = previews.image_token("https://cdn.example/a.png")
    response = Client().get(f"/posts/preview/image/{token}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
