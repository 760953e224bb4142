import pytest
from tests.publishing.website import Site

from chorus.networks import services as network_services


@pytest.fixture
def mastodon_account(owner, mastodon_server):
    """A Mastodon account of `owner`'s workspace, connected through the real OAuth flow."""
    username, _ = mastodon_server.new_user("brand")
    url = network_services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    return network_services.oauth_complete(actor=owner, state=state, code=code)


@pytest.fixture
def statuses_of(mastodon_server):
    """The statuses an account has on the server, newest first."""

    def read(account):
        token = account.secrets["access_token"]
        with mastodon_server.client(token) as client:
            me = client.get("/api/v1/accounts/verify_credentials").json()
            return client.get(f"/api/v1/accounts/{me['id']}/statuses?limit=40").json()

    return read


@pytest.fixture
def site():
    """A web server on 127.0.0.1 serving what a test adds (`site.add(path, body, kind)`)."""
    server = Site()
    yield server
    server.close()
