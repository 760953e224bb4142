"""Connecting and using social accounts, against the real Mastodon API test server."""

import pytest

from chorus.accounts.roles import Role
from chorus.core.errors import NotAllowed
from chorus.networks import selectors, services
from chorus.networks.models import AccountStatus, OAuthClient, SocialAccount
from chorus.networks.providers.base import AuthExpired

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(owner, mastodon_server):
    """A Mastodon account connected through the whole OAuth flow."""
    username, _token = mastodon_server.new_user("brand")
    url = services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    account = services.oauth_complete(actor=owner, state=state, code=code)
    return account, username


def test_oauth_flow_saves_a_verified_account_with_encrypted_token(connected, mastodon_server):
    account, username = connected
    account.refresh_from_db()
    assert account.provider == "mastodon"
    assert account.handle.split("@")[0] == username
    assert account.status == AccountStatus.ACTIVE and account.is_healthy
    token = account.secrets["access_token"]
    assert token and token not in account.secrets_encrypted
    assert account.identity["server_url"] == mastodon_server.base_url.rstrip("/")
    assert account.rate_limit and account.rate_remaining is not None


def test_second_connect_reuses_the_app_registration_and_the_account_row(
    owner, connected, mastodon_server
):
    account, username = connected
    url = services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url + "/"
    )
    code, state = mastodon_server.approve(url, username)
    again = services.oauth_complete(actor=owner, state=state, code=code)
    assert again.pk == account.pk
    assert OAuthClient.objects.count() == 1


def test_state_from_another_member_is_refused(owner, make_member, mastodon_server):
    username, _ = mastodon_server.new_user("brand")
    url = services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    admin = make_member(Role.ADMIN, workspace=owner.workspace)
    with pytest.raises(services.ConnectFailed):
        services.oauth_complete(actor=admin, state=state, code=code)
    with pytest.raises(services.ConnectFailed):
        services.oauth_complete(actor=owner, state=state + "x", code=code)
    assert not SocialAccount.objects.exists()


def test_a_url_that_is_not_mastodon_leaves_nothing_behind(owner, live_server):
    with pytest.raises(services.ConnectFailed) as error:
        services.oauth_begin(actor=owner, provider_key="mastodon", server_url=live_server.url)
    assert "Mastodon" in error.value.message
    assert not OAuthClient.objects.exists()


def test_unreachable_server_is_a_clear_error(owner):
    with pytest.raises(services.ConnectFailed) as error:
        services.oauth_begin(actor=owner, provider_key="mastodon", server_url="http://127.0.0.1:9")
    assert error.value.message


def test_editor_cannot_connect_or_disconnect(owner, make_member, connected, mastodon_server):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.oauth_begin(
            actor=editor, provider_key="mastodon", server_url=mastodon_server.base_url
        )
    with pytest.raises(NotAllowed):
        services.account_disconnect(actor=editor, account=connected[0])


def test_revoked_token_marks_account_needs_reconnect_and_holds_use(connected, mastodon_server):
    account, _ = connected
    mastodon_server.revoke(account.secrets["access_token"])
    services.account_check(account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert account.last_error and not account.is_healthy
    with pytest.raises(AuthExpired), services.provider_for(account):
        pass


def test_transient_failure_is_recorded_but_account_stays_active(connected, mastodon_server):
    account, _ = connected
    with mastodon_server.fault(
        match={"path": "/api/v1/accounts/verify_credentials"},
        action={"type": "status", "status": 503},
    ):
        services.account_check(account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert not account.is_healthy and account.last_error
    services.account_check(account=account)
    account.refresh_from_db()
    assert account.is_healthy


def test_disconnect_forgets_secrets_and_hides_the_account(owner, connected):
    account, _ = connected
    services.account_disconnect(actor=owner, account=account)
    account.refresh_from_db()
    assert account.secrets_encrypted == "" and account.status == AccountStatus.DISCONNECTED
    assert not selectors.accounts_of(owner).exists()


def test_members_use_only_accounts_granted_to_them(owner, make_member, connected):
    account, _ = connected
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    assert list(selectors.accounts_usable_by(owner)) == [account]
    assert not selectors.accounts_usable_by(editor).exists()
    services.account_set_members(actor=owner, account=account, memberships=[editor])
    assert list(selectors.accounts_usable_by(editor)) == [account]
