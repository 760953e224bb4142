"""A post is known by its main text, not by the first account's adapted version."""

import pytest
from tests.publishing.test_views import account, client_for  # noqa: F401

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing.models import Post

pytestmark = pytest.mark.django_db


def test_title_and_page_show_the_main_text(owner, account):  # noqa: F811
    second = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="second",
        handle="second@mastodon.example",
        identity={"server_url": "https://mastodon.example"},
        status=AccountStatus.ACTIVE,
    )
    client = client_for(owner)
    response = client.post(
        "/posts/new/",
        {
            "accounts": [account.pk, second.pk],
            "text": "Our spring menu is here",
            f"v{account.pk}-text": "Short version for the first account",
            "action": "save",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get()
    assert str(post).startswith("Our spring menu")
    page = client.get(f"/posts/{post.pk}/").content.decode()
    excerpt = page.split('id="post-excerpt">', 1)[1].split("</p>", 1)[0]
    assert excerpt == "Our spring menu is here"
    editor = client.get(f"/posts/{post.pk}/edit/").content.decode()
    main = editor.split('name="text"', 1)[1].split("</textarea>", 1)[0]
    assert "Our spring menu is here" in main

    # rewritten through the API (no main text): the title follows the new variants
    from chorus.publishing import services

    services.post_save(
        actor=owner,
        post=post,
        variants=[
            services.VariantInput(account_id=account.pk, text="Autumn menu"),
            services.VariantInput(account_id=second.pk, text="Autumn menu"),
        ],
    )
    post.refresh_from_db()
    assert str(post) == "Autumn menu"
