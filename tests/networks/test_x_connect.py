"""X through Chorus: "needs setup" until the app is configured, the OAuth connect flow with
PKCE, rotated tokens persisted, the dispatcher's exactly-once, a revoked sign-in held."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core import signing
from django.utils import timezone

from chorus.core import crypto
from chorus.core.errors import ServiceError
from chorus.networks import services
from chorus.networks.models import AccountStatus, OAuthClient, SocialAccount
from chorus.networks.providers.base import pkce_challenge
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def running():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def emulator(running, settings):
    running.reset()
    settings.CHORUS_NETWORK_OPTIONS = {
        "x": {"client_id": "chorus-app", "client_secret": "s3cret", "api_url": running.base_url}
    }
    return running


def consent(url: str, username="brand_news", decision="allow") -> dict[str, list[str]]:
    """What the browser does on X's consent page; the query Chorus is sent back with."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = httpx.post(
        url.split("?")[0], data={**query, "username": username, "decision": decision}
    )
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)


def connect(owner, username="brand_news") -> SocialAccount:
    url = services.oauth_begin(actor=owner, provider_key="x")
    back = consent(url, username)
    return services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])


def control(emulator, action, **body):
    return httpx.post(f"{emulator.base_url}/_emulator/x/{action}", json=body).json()


def publish_now(owner, account, text):
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text=text)]
    )
    publishing.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


def test_x_needs_setup_until_the_app_is_configured(client, owner, settings):
    settings.CHORUS_NETWORK_OPTIONS = {"x": {}}
    client.force_login(owner.user)
    page = client.get("/social-accounts/").content.decode()
    card = page.split('id="connect-x"')[1].split('class="card"')[0]
    assert "Needs setup" in card and "CHORUS_X_CLIENT_ID" in card
    assert "<form" not in card and "/social-accounts/guide/x/" in card
    with pytest.raises(ServiceError, match="CHORUS_X_CLIENT_ID"):
        services.oauth_begin(actor=owner, provider_key="x")
    guide = client.get("/social-accounts/guide/x/").content.decode()
    assert "developer" in guide and "callback" in guide.lower()


def test_the_connect_card_asks_no_server(client, owner, emulator):
    client.force_login(owner.user)
    page = client.get("/social-accounts/").content.decode()
    card = page.split('id="connect-x"')[1].split('class="card"')[0]
    assert "<form" in card and "Continue to X" in card and 'name="server_url"' not in card
    mastodon = page.split('id="connect-mastodon"')[1].split('class="card"')[0]
    assert 'name="server_url"' in mastodon
    response = client.post("/social-accounts/connect/x/oauth/")
    assert response.status_code == 302 and "code_challenge=" in response["Location"]


def test_mastodon_still_needs_its_server(owner):
    with pytest.raises(ServiceError, match="server") as refused:
        services.oauth_begin(actor=owner, provider_key="mastodon", server_url=" ")
    assert refused.value.field == "server_url"


def test_connect_with_pkce_saves_the_account(owner, emulator):
    url = services.oauth_begin(actor=owner, provider_key="x")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["tweet.read tweet.write users.read offline.access media.write"]
    state = signing.loads(query["state"][0], salt=services.OAUTH_STATE_SALT)
    assert set(state) == {"client", "provider", "flow", "workspace", "user", "nonce"}
    verifier = json.loads(crypto.decrypt(state["flow"]))["code_verifier"]
    assert verifier not in url, "the verifier travels only encrypted"
    assert pkce_challenge(verifier) == query["code_challenge"][0]
    back = consent(url)
    account = services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])
    assert account.provider == "x" and account.handle == "brand_news"
    assert account.status == AccountStatus.ACTIVE and account.secrets["refresh_token"]
    assert OAuthClient.objects.get(provider="x").client_id == "chorus-app"


def test_a_code_cannot_be_completed_by_a_tampered_state(owner, emulator):
    url = services.oauth_begin(actor=owner, provider_key="x")
    back = consent(url)
    other = services.oauth_begin(actor=owner, provider_key="x")  # another nonce, verifier
    other_state = parse_qs(urlsplit(other).query)["state"][0]
    with pytest.raises(services.ConnectFailed, match="Reconnect"):
        services.oauth_complete(actor=owner, state=other_state, code=back["code"][0])
    assert not SocialAccount.objects.exists()


def test_a_changed_client_id_is_used_at_once(owner, emulator, settings):
    services.oauth_begin(actor=owner, provider_key="x")
    settings.CHORUS_NETWORK_OPTIONS["x"]["client_id"] = "new-app"
    url = services.oauth_begin(actor=owner, provider_key="x")
    assert "client_id=new-app" in url
    assert OAuthClient.objects.filter(provider="x").count() == 1


def test_declining_on_x_saves_nothing(client, owner, emulator):
    client.force_login(owner.user)
    url = services.oauth_begin(actor=owner, provider_key="x")
    back = consent(url, decision="deny")
    page = client.get("/social-accounts/oauth/callback/", {k: v[0] for k, v in back.items()})
    assert page.status_code == 302 and not SocialAccount.objects.exists()


def test_publishes_through_the_dispatcher_exactly_once_after_a_lost_answer(owner, emulator):
    account = connect(owner)
    emulator.configure(faults=[{"route": "x.tweets.create", "status": 503, "after_commit": True}])
    variant = publish_now(owner, account, "Exactly once on X https://example.com/news")
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    events = emulator.events()
    assert len(events) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == events[0]["id"]


def test_rotated_tokens_are_saved(owner, emulator):
    account = connect(owner)
    before = account.secrets["refresh_token"]
    account.secrets = {**account.secrets, "expires_at": "1"}
    account.save()
    with services.provider_for(account) as provider:
        provider.verify()
    account.refresh_from_db()
    assert account.secrets["refresh_token"] != before
    assert account.status == AccountStatus.ACTIVE


def test_rotated_tokens_are_saved_even_when_the_call_then_fails(owner, emulator):
    from chorus.networks.providers.base import Rejected, RemoteRef

    account = connect(owner)
    before = account.secrets["refresh_token"]
    account.secrets = {**account.secrets, "expires_at": "1"}
    account.save()
    theirs = control(emulator, "post", username="someone_else", text="not yours")["id"]
    with pytest.raises(Rejected), services.provider_for(account) as provider:
        provider.delete(RemoteRef(theirs))  # 403: not ours
    account.refresh_from_db()
    assert account.secrets["refresh_token"] != before
    with services.provider_for(account) as provider:
        provider.refresh()  # the saved refresh token is the live one
    assert account.status == AccountStatus.ACTIVE


def test_a_revoked_sign_in_holds_the_post(owner, emulator):
    account = connect(owner)
    emulator.revoke("brand_news")
    variant = publish_now(owner, account, "Held, not lost")
    Dispatcher().run_once()
    variant.refresh_from_db()
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT and "Reconnect" in account.last_error
    assert variant.status != VariantStatus.PUBLISHED and not emulator.events()


def test_the_daily_cap_holds_the_post_for_later(owner, emulator):
    account = connect(owner)
    control(emulator, "daily_cap", cap=0)
    variant = publish_now(owner, account, "Tomorrow, then")
    Dispatcher().run_once()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED and not emulator.events()
    assert "daily limit" in variant.last_error


def test_the_account_page_offers_reconnecting_without_a_server_field(client, owner, emulator):
    account = connect(owner)
    client.force_login(owner.user)
    page = client.get(f"/social-accounts/{account.pk}/").content.decode()
    form = page.split('id="reconnect-form"')[1].split("</form>")[0]
    assert 'name="server_url"' not in form and "/social-accounts/connect/x/oauth/" in page
