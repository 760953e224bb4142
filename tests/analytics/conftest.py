from datetime import UTC, date, datetime

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


NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def account(workspace, handle="brand@example.social"):
    from chorus.networks.models import SocialAccount

    return SocialAccount.objects.create(
        workspace=workspace,
        provider="mastodon",
        remote_id=handle,
        handle=handle,
        identity={"server_url": "https://example.social"},
    )


def post(acct, published, **counts):
    """A tracked post, counted in the hourly rollup as collection would."""
    from chorus.analytics import rollups
    from chorus.analytics.models import TrackedPost

    made = TrackedPost.objects.create(
        account=acct,
        remote_id=f"r{published.isoformat()}",
        published_at=published,
        collections=1,
        **counts,
    )
    rollups.add_posts([made])
    return made


@pytest.fixture
def history(owner):
    """One account with two posts and followers read on three days (numbers in the tests)."""
    from chorus.analytics import rollups
    from chorus.analytics.models import AccountDaily, PostDaily

    acct = account(owner.workspace)
    old = post(acct, datetime(2026, 10, 1, 9, tzinfo=UTC), likes=10, reposts=2)
    new = post(acct, datetime(2026, 11, 20, 9, tzinfo=UTC), likes=4, replies=1)
    # The old post keeps getting likes during the period: period figures count them.
    PostDaily.objects.create(post=old, account=acct, day=date(2026, 10, 1), likes=8, reposts=2)
    PostDaily.objects.create(post=old, account=acct, day=date(2026, 11, 21), likes=2)
    PostDaily.objects.create(post=new, account=acct, day=date(2026, 11, 20), likes=5, replies=1)
    PostDaily.objects.create(post=new, account=acct, day=date(2026, 11, 22), likes=-1)  # unlike
    rollups.rebuild([acct.pk])
    for day, followers in (
        (date(2026, 10, 31), 100),
        (date(2026, 11, 15), 110),
        (date(2026, 11, 30), 125),
    ):
        AccountDaily.objects.create(
            account=acct, day=day, followers=followers, following=1, posts=2, collected_at=NOW
        )
    return acct
