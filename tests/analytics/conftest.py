import pytest

from tests.publishing.conftest import mastodon_account, statuses_of  # noqa: F401, F811


@pytest.fixture
def fan(mastodon_server):
    """Another user of the Mastodon test server, to like, boost and follow our account."""
    _username, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as client:
        yield client


@pytest.fixture
def published(owner, mastodon_account):  # noqa: F811
    """Publish a post to the test server through the dispatcher; returns its variant."""
    from chorus.publishing import services
    from chorus.publishing.dispatcher import Dispatcher
    from chorus.publishing.models import Variant

    def publish(text="Hello from Chorus", account=None, **extra):
        account = account or mastodon_account
        post = services.post_save(
            actor=owner,
            variants=[services.VariantInput(account_id=account.pk, text=text, **extra)],
        )
        services.post_publish_now(actor=owner, post=post)
        Dispatcher().run_once()
        return Variant.objects.get(post=post)

    return publish
