"""Reading other people's public accounts: what a user may type, and the outbound guard."""

import pytest

from chorus.networks.http import client
from chorus.networks.providers.base import Rejected, Transient
from chorus.networks.providers.bluesky import Bluesky
from chorus.networks.providers.bluesky_public import actor_of
from chorus.networks.providers.mastodon import Mastodon
from chorus.networks.providers.mastodon_public import split_address


@pytest.mark.parametrize(
    ("typed", "actor"),
    [
        ("@Brand.bsky.social", "brand.bsky.social"),
        ("https://bsky.app/profile/brand.example.com", "brand.example.com"),
        ("did:plc:abc123", "did:plc:abc123"),
    ],
)
def test_bluesky_addresses(typed, actor):
    assert actor_of(typed) == actor


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("@brand@mastodon.social", ("mastodon.social", "brand")),
        ("brand@example.social", ("example.social", "brand")),
        ("https://mastodon.social/@brand", ("https://mastodon.social", "brand")),
    ],
)
def test_mastodon_addresses(typed, parts):
    assert split_address(typed) == parts


@pytest.mark.parametrize("typed", ["not a handle", "https://bsky.app/", "@", ""])
def test_bluesky_nonsense_is_refused_by_name(typed):
    with pytest.raises(Rejected, match="not a Bluesky handle"):
        actor_of(typed)


@pytest.mark.parametrize("typed", ["brand", "@brand", "https://mastodon.social/"])
def test_mastodon_nonsense_is_refused_by_name(typed):
    with pytest.raises(Rejected, match="not a Mastodon address"):
        split_address(typed)


def test_a_competitor_address_on_a_private_network_is_never_contacted(settings):
    settings.CHORUS_OUTBOUND_ALLOW = []
    with client() as http, pytest.raises(Transient, match="could not reach"):
        Mastodon.fetch_public_profile("https://10.1.2.3/@brand", http=http)
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"public_appview": "https://127.0.0.1:9"}}
    with client() as http, pytest.raises(Transient, match="could not reach"):
        Bluesky.fetch_public_profile("brand.bsky.social", http=http)
