"""A revoked token is recognised whatever the server's dialect, end to end.

Some servers of the Mastodon API answer a revoked token with HTTP 400 and a plain-text
body `Invalid Bearer token` instead of Mastodon's 401 JSON. The dispatcher must hold the
post as needs-reconnect with the server's words, and the account must ask to reconnect.
"""

import pytest
from django.urls import reverse

from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import AttemptOutcome, Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def account(owner, emulator):
    account = SocialAccount(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="1",
        handle="brand",
        identity={"server_url": emulator.base_url, "account_id": "1", "acct": "brand"},
        connected_by=owner.user,
    )
    account.secrets = {"access_token": "brand-token"}
    account.save()
    return account


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 400, "text": "Invalid Bearer token"},
        {"status": 422, "error": "The access token is invalid"},
        {"status": 403, "text": "Token revoked"},
    ],
    ids=["400-plain-text", "422-json", "403-plain-text"],
)
def test_a_revoked_token_in_any_dialect_holds_the_post_and_asks_to_reconnect(
    owner, account, emulator, client, answer
):
    emulator.configure(faults=[{"route": "mastodon.statuses.create", **answer}])
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="Hello")]
    )
    services.post_publish_now(actor=owner, post=post)
    Dispatcher().run_once()

    variant = Variant.objects.get(post=post)
    said = answer.get("text") or answer.get("error")
    assert variant.status == VariantStatus.NEEDS_RECONNECT
    assert said in variant.last_error and "reconnect" in variant.last_error
    assert variant.attempts_log.get().outcome == AttemptOutcome.AUTH_EXPIRED
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT and said in account.last_error
    assert emulator.events() == []

    client.force_login(owner.user)
    page = client.get(reverse("account_detail", args=[account.pk])).content.decode()
    assert "Needs reconnecting" in page and said in page
