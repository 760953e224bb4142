"""The composer's UTM builder: shown where links are tracked, saved with the post, and
hostile values refused before anything is saved."""

import pytest

from chorus.links.models import PostLinks
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(owner):
    return SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="c",
        handle="c@m.example",
        identity={"server_url": "https://m.example"},
        status=AccountStatus.ACTIVE,
    )


def test_the_builder_appears_only_where_links_are_tracked(client, owner, account):
    client.force_login(owner.user)
    assert b"utm-builder" not in client.get("/posts/new/").content
    from chorus.links import services

    services.settings_update(
        actor=owner,
        track_links=True,
        utm_medium="social",
        attribution_days=7,
        store_ip=False,
        short_domain="",
    )
    assert b'id="utm-builder"' in client.get("/posts/new/").content


def test_the_posts_utm_choices_are_saved_and_shown_again(client, owner, account, tracking):
    client.force_login(owner.user)
    response = client.post(
        "/posts/new/",
        {
            "accounts": [account.pk],
            "text": "New beans https://mekong-coffee.com/",
            "action": "save",
            "utm_present": "1",
            "utm_track": "1",
            "utm_campaign": "rainy",
            "utm_content": "hero",
        },
    )
    assert response.status_code == 302, response.content[:500]
    post = Post.objects.get()
    options = PostLinks.objects.get(post=post)
    assert (options.track, options.utm_campaign, options.utm_content) == (True, "rainy", "hero")
    page = client.get(f"/posts/{post.pk}/edit/").content.decode()
    assert 'value="rainy"' in page and 'value="hero"' in page


def test_hostile_utm_values_are_refused_and_nothing_is_saved(client, owner, account, tracking):
    client.force_login(owner.user)
    response = client.post(
        "/posts/new/",
        {
            "accounts": [account.pk],
            "text": "Hi",
            "action": "save",
            "utm_present": "1",
            "utm_track": "1",
            "utm_campaign": '"><script>alert(1)</script>',
        },
    )
    assert response.status_code == 400
    assert b"<script>alert(1)" not in response.content
    assert b"&lt;script&gt;alert(1)" in response.content  # shown back, escaped
    assert not Post.objects.exists() and not PostLinks.objects.exists()
