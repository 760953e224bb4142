"""Tracked links in posts: the dispatcher publishes short, tagged links; counting agrees."""

import pytest
from django.conf import settings

from chorus.links import services, shortening
from chorus.links.models import ShortLink
from chorus.publishing import campaigns
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant
from chorus.publishing.validation import check_variant, part_lengths

pytestmark = pytest.mark.django_db

LONG = "https://mekong-coffee.com/collections/rainy-season/arabica-single-origin?ref=feed"


def compose(owner, account, text, **extra):
    return publishing.post_save(
        actor=owner,
        variants=[publishing.VariantInput(account_id=account.pk, text=text, **extra)],
        **{k: v for k, v in extra.items() if k == "campaign_id"},
    )


def test_published_text_carries_short_links_tagged_for_the_post(
    owner, mastodon_account, statuses_of, tracking
):
    campaign = campaigns.campaign_save(actor=owner, name="Rainy Season 2026")
    post = publishing.post_save(
        actor=owner,
        variants=[
            publishing.VariantInput(
                account_id=mastodon_account.pk,
                text=f"New beans! {LONG} and https://mekong-coffee.com/",
            )
        ],
        campaign_id=campaign.pk,
    )
    publishing.post_publish_now(actor=owner, post=post)
    assert Dispatcher(concurrency=1).run_once() == 1
    links = {link.original_url: link for link in ShortLink.objects.filter(post=post)}
    assert set(links) == {LONG, "https://mekong-coffee.com/"}
    link = links[LONG]
    assert link.target == (
        LONG + "&utm_source=mastodon&utm_medium=social&utm_campaign=rainy-season-2026"
        f"&utm_content=post-{post.pk}"
    )
    assert (link.network, link.account, link.campaign) == ("mastodon", mastodon_account, campaign)
    variant = Variant.objects.get(post=post)
    short = f"{settings.SITE_URL}/l/{link.code}"
    assert short in variant.text and LONG not in variant.text
    content = statuses_of(mastodon_account)[0]["content"]
    assert f"/l/{link.code}" in content and "rainy-season" not in content


def test_the_composers_utm_choices_win_over_the_defaults(owner, mastodon_account, tracking):
    post = compose(owner, mastodon_account, f"See {LONG}")
    services.post_links_set(
        actor=owner,
        post=post,
        track=True,
        utm_campaign="launch",
        utm_medium="",
        utm_content="hero-image",
    )
    publishing.post_publish_now(actor=owner, post=post)
    Dispatcher(concurrency=1).run_once()
    link = ShortLink.objects.get(post=post)
    assert link.utm == {
        "utm_source": "mastodon",
        "utm_medium": "social",
        "utm_campaign": "launch",
        "utm_content": "hero-image",
    }


def test_a_post_can_opt_out_and_untracked_workspaces_publish_as_written(
    owner, mastodon_account, tracking
):
    post = compose(owner, mastodon_account, f"See {LONG}")
    services.post_links_set(actor=owner, post=post, track=False)
    publishing.post_publish_now(actor=owner, post=post)
    Dispatcher(concurrency=1).run_once()
    assert not ShortLink.objects.exists()
    assert LONG in Variant.objects.get(post=post).text


def test_links_the_author_tagged_keep_their_own_utm(owner, mastodon_account, tracking):
    own = "https://mekong-coffee.com/?utm_campaign=mine"
    post = compose(owner, mastodon_account, f"See {own}")
    publishing.post_publish_now(actor=owner, post=post)
    Dispatcher(concurrency=1).run_once()
    assert "utm_campaign=mine" in ShortLink.objects.get(post=post).target
    assert ShortLink.objects.get(post=post).target.count("utm_campaign") == 1


def test_hostile_utm_values_are_refused(owner, mastodon_account):
    from chorus.core.errors import ServiceError

    post = compose(owner, mastodon_account, "Hi")
    with pytest.raises(ServiceError) as refused:
        services.post_links_set(
            actor=owner, post=post, track=True, utm_campaign='"><script>alert(1)</script>'
        )
    assert refused.value.field == "utm_campaign"


def test_counting_uses_the_short_urls_length_where_links_are_tracked(owner, mastodon_account):
    from chorus.networks.models import SocialAccount

    bluesky = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="bluesky",
        remote_id="did:plc:x",
        handle="brand.bsky.social",
        identity={},
    )
    text = "x" * 10 + " " + LONG
    before = part_lengths("bluesky", [text], account=bluesky)[0].count
    services.settings_update(
        actor=owner,
        track_links=True,
        utm_medium="social",
        attribution_days=7,
        store_ip=False,
        short_domain="go.mekongcoffee.com",
    )
    after = part_lengths("bluesky", [text], account=bluesky)[0].count
    assert before == len(text)  # Bluesky counts a URL as written
    assert after == 11 + len("https://go.mekongcoffee.com/l/") + shortening.CODE_LENGTH
    # Mastodon counts every URL as 23 characters, short or long.
    assert part_lengths("mastodon", [text], account=mastodon_account)[0].count == 11 + 23
    assert check_variant(provider_key="bluesky", text=text + " " + "y" * 200, account=bluesky) == []


def test_a_retried_variant_keeps_its_short_links(owner, mastodon_account, tracking):
    post = compose(owner, mastodon_account, f"See {LONG}")
    publishing.post_publish_now(actor=owner, post=post)
    variant = Variant.objects.select_related("post", "account").get(post=post)
    shortening.shorten_claimed([variant])
    first = variant.text
    shortening.shorten_claimed([variant])
    assert variant.text == first and ShortLink.objects.count() == 1
