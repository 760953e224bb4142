import pytest

from tests.publishing.conftest import mastodon_account, statuses_of  # noqa: F401


@pytest.fixture(autouse=True)
def _links_in_step(settings):
    """Clicks are written when a test flushes them (no writer thread racing the test's
    transaction); each test starts with fresh caches and rate-limit counts."""
    from chorus.links import clicks, shortening

    settings.LINKS_BACKGROUND_FLUSH = False
    clicks.buffer._pending.clear()
    clicks.links._entries.clear()
    clicks.limiter._counts.clear()
    shortening._cache.clear()
    yield
    clicks.buffer._pending.clear()


@pytest.fixture
def tracking(owner):
    """Link tracking on in owner's workspace."""
    from chorus.links import services

    return services.settings_update(
        actor=owner,
        track_links=True,
        utm_medium="social",
        attribution_days=7,
        store_ip=False,
        short_domain="",
    )


@pytest.fixture
def make_link(db):
    """A short link as the dispatcher makes them, for a post of `owner`'s workspace."""
    from chorus.links.models import ShortLink
    from chorus.links.shortening import new_code

    def make(workspace, *, target="https://shop.example/item", post=None, **extra):
        return ShortLink.objects.create(
            workspace=workspace,
            code=new_code(),
            target=target,
            original_url=target,
            post=post,
            campaign=post.campaign if post else None,
            network=extra.pop("network", "mastodon"),
            **extra,
        )

    return make
