"""Every registered network honours the provider contract; runs over the whole registry."""

import inspect

import pytest

from chorus.networks.providers import PROVIDERS, OAuthSignIn, PasswordSignIn
from chorus.networks.providers.base import Credentials, Limits, Provider
from chorus.text import COUNTINGS

REQUIRED = [
    "verify",
    "refresh",
    "publish",
    "delete",
    "fetch_interactions",
    "fetch_post_metrics",
    "fetch_account_metrics",
]


@pytest.fixture(params=sorted(PROVIDERS), ids=str)
def provider(request):
    return PROVIDERS[request.param]


def test_registry_is_keyed_by_provider_key():
    assert PROVIDERS
    for key, provider in PROVIDERS.items():
        assert provider.key == key


def test_implements_every_operation(provider):
    assert issubclass(provider, Provider)
    assert not inspect.isabstract(provider), inspect.getmembers(provider)
    for name in REQUIRED:
        assert getattr(provider, name) is not getattr(Provider, name), name


def test_declares_a_way_to_connect(provider):
    """One or both (Bluesky: OAuth, and app passwords for servers without it); `auth_kind`
    names the password form when there is one."""
    password, oauth = issubclass(provider, PasswordSignIn), issubclass(provider, OAuthSignIn)
    assert password or oauth
    assert provider.auth_kind == ("app_password" if password else "oauth2")


def test_declares_usable_limits(provider):
    limits = provider.limits
    assert isinstance(limits, Limits)
    assert limits.max_text > 0 and limits.text_counting in COUNTINGS
    assert limits.max_media >= 0 and limits.max_image_bytes > 0
    assert all("/" in mime for mime in limits.media_types)
    assert limits.rate_limit_note
    if limits.supports_polls:
        assert limits.max_poll_options >= 2


def test_credentials_never_show_secrets_in_repr(provider):
    credentials = Credentials(identity={"handle": "x"}, secrets={"token": "s3cr3t"})
    instance = provider(credentials)
    assert "s3cr3t" not in repr(credentials) and "s3cr3t" not in repr(vars(instance))
    instance.http.close()
