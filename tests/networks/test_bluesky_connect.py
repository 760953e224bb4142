"""Connecting a Bluesky account through Chorus, against the real local Bluesky network."""

import pytest

from chorus.networks import services
from chorus.networks.models import AccountStatus, SocialAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_network(settings, bluesky_server):
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": bluesky_server.plc_url}}
    return bluesky_server


def connect(owner, server, account):
    return services.account_connect_with_password(
        actor=owner,
        provider_key="bluesky",
        identifier=f"@{account.handle}",
        password=account.password,
        service_url=server.pds_url,
    )


def test_connect_with_app_password_saves_a_healthy_account(owner, local_network):
    first = local_network.accounts[0]
    account = connect(owner, local_network, first)
    assert account.provider == "bluesky" and account.remote_id == first.did
    assert account.handle == first.handle and account.is_healthy
    assert account.identity["pds_url"].rstrip("/") == local_network.pds_url.rstrip("/")
    assert first.password not in account.secrets_encrypted
    assert set(account.secrets) == {"accessJwt", "refreshJwt"}
    services.account_check(account=account)
    account.refresh_from_db()
    assert account.is_healthy


def test_wrong_password_is_a_clear_error_and_saves_nothing(owner, local_network):
    first = local_network.accounts[0]
    with pytest.raises(services.ConnectFailed) as error:
        services.account_connect_with_password(
            actor=owner,
            provider_key="bluesky",
            identifier=first.handle,
            password="wrong-wrong-wrong",
            service_url=local_network.pds_url,
        )
    assert "password" in error.value.message.lower()
    assert not SocialAccount.objects.exists()


def test_unknown_handle_is_a_clear_error(owner, local_network):
    with pytest.raises(services.ConnectFailed) as error:
        services.account_connect_with_password(
            actor=owner,
            provider_key="bluesky",
            identifier="nobody-here.test",
            password="x",
            service_url=local_network.pds_url,
        )
    assert error.value.message
    assert not SocialAccount.objects.exists()


def test_revoked_session_marks_needs_reconnect_then_reconnect_restores(owner, local_network):
    first = local_network.accounts[0]
    account = connect(owner, local_network, first)
    account.secrets = {"accessJwt": "garbage", "refreshJwt": "garbage"}
    account.save()
    services.account_check(account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    again = connect(owner, local_network, first)
    assert again.pk == account.pk and again.status == AccountStatus.ACTIVE
