"""The registry of networks Chorus speaks; adding a network adds one line here."""

from __future__ import annotations

from chorus.networks.providers.base import OAuthSignIn, PasswordSignIn, Provider
from chorus.networks.providers.bluesky import Bluesky
from chorus.networks.providers.facebook import Facebook
from chorus.networks.providers.instagram import Instagram
from chorus.networks.providers.linkedin import LinkedIn
from chorus.networks.providers.mastodon import Mastodon
from chorus.networks.providers.telegram import Telegram
from chorus.networks.providers.threads import Threads
from chorus.networks.providers.tiktok import TikTok
from chorus.networks.providers.x import X

PROVIDERS: dict[str, type[Provider]] = {
    provider.key: provider
    for provider in (Bluesky, Mastodon, Telegram, Facebook, Instagram, X, Threads, TikTok, LinkedIn)
}


def get_provider(key: str) -> type[Provider]:
    try:
        return PROVIDERS[key]
    except KeyError:
        raise KeyError(f"Unknown network {key!r}; known: {', '.join(PROVIDERS)}") from None


__all__ = ["PROVIDERS", "OAuthSignIn", "PasswordSignIn", "Provider", "get_provider"]
