"""LinkedIn through Chorus: "needs setup" until the app is configured, the OAuth connect
flow, choosing to post as the member and the pages they administer, the dispatcher's
exactly-once after a lost answer, and a revoked sign-in holding the post."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.networks import linkedin_connect, services
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers import linkedin_oauth
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db
ALL_SCOPES = f"{linkedin_oauth.MEMBER_SCOPES} {linkedin_oauth.ORGANIZATION_SCOPES}"


@pytest.fixture(scope="module")
def running():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def emulator(running, settings):
    running.reset()
    base = f"{running.base_url}/linkedin"
    settings.CHORUS_NETWORK_OPTIONS = {
        "linkedin": {
            "client_id": "chorus-linkedin",
            "client_secret": "s3cret",
            "scopes": ALL_SCOPES,
            "api_url": base,
            "auth_url": base,
        }
    }
    control(running, "member", name="Ada Lovelace", organizations=[{"name": "Acme Corp"}])
    return running


def control(emulator, action, **body):
    answer = httpx.post(f"{emulator.base_url}/_emulator/linkedin/{action}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def consent(url: str, member="Ada Lovelace", decision="allow") -> dict[str, list[str]]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = httpx.post(url.split("?")[0], data={**query, "member": member, "decision": decision})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)


def connect(owner) -> SocialAccount:
    url = services.oauth_begin(actor=owner, provider_key="linkedin")
    back = consent(url)
    return services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])


def publish_now(owner, account, text):
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text=text)]
    )
    publishing.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


def test_linkedin_needs_setup_until_the_app_is_configured(client, owner, settings):
    settings.CHORUS_NETWORK_OPTIONS = {"linkedin": {}}
    client.force_login(owner.user)
    page = client.get("/social-accounts/").content.decode()
    card = page.split('id="connect-linkedin"')[1].split('class="card"')[0]
    assert "Needs setup" in card and "CHORUS_LINKEDIN_CLIENT_SECRET" in card
    with pytest.raises(ServiceError, match="CHORUS_LINKEDIN_CLIENT_ID"):
        services.oauth_begin(actor=owner, provider_key="linkedin")
    guide = client.get("/social-accounts/guide/linkedin/").content.decode()
    assert "Community Management API" in guide and "w_member_social" in guide


def test_the_callback_connects_the_member_then_offers_their_pages(client, owner, emulator):
    client.force_login(owner.user)
    url = services.oauth_begin(actor=owner, provider_key="linkedin")
    assert url.startswith(f"{emulator.base_url}/linkedin/oauth/v2/authorization?")
    back = consent(url)
    answer = client.get("/social-accounts/oauth/callback/", {k: v[0] for k, v in back.items()})
    member = SocialAccount.objects.get()
    assert member.remote_id.startswith("urn:li:person:") and member.handle == "Ada Lovelace"
    assert answer.status_code == 302 and answer["Location"] == (
        f"/social-accounts/{member.pk}/linkedin/"
    )
    page = client.get(answer["Location"]).content.decode()
    assert "LinkedIn page: Acme Corp" in page and "Ada Lovelace" in page


def test_choosing_pages_connects_each_and_unchoosing_disconnects(owner, emulator):
    member = connect(owner)
    rows = linkedin_connect.linkedin_authors(actor=owner, account_id=member.pk)
    assert [(r.author.name, r.connected) for r in rows] == [
        ("Ada Lovelace", True),
        ("Acme Corp", False),
    ]
    org_urn = rows[1].author.urn
    saved = linkedin_connect.linkedin_choose(actor=owner, account_id=member.pk, chosen=[org_urn])
    assert [a.remote_id for a in saved] == [org_urn]
    page = SocialAccount.objects.get(remote_id=org_urn)
    assert page.display_name == "Acme Corp" and page.identity["author"] == org_urn
    member.refresh_from_db()
    assert member.status == AccountStatus.DISCONNECTED
    with pytest.raises(ServiceError, match="at least one"):
        linkedin_connect.linkedin_choose(actor=owner, account_id=page.pk, chosen=[])
    with pytest.raises(ServiceError, match="no longer"):
        linkedin_connect.linkedin_choose(
            actor=owner, account_id=page.pk, chosen=["urn:li:organization:1"]
        )


def test_publishes_as_the_page_exactly_once_after_a_lost_answer(owner, emulator):
    member = connect(owner)
    org_urn = linkedin_connect.linkedin_authors(actor=owner, account_id=member.pk)[1].author.urn
    [page] = linkedin_connect.linkedin_choose(actor=owner, account_id=member.pk, chosen=[org_urn])
    control(emulator, "configure", lose_answers=1)
    variant = publish_now(owner, page, "Exactly once (on LinkedIn)")
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    posts = control(emulator, "state")["posts"]
    assert len(posts) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == posts[0]["id"]
    assert posts[0]["author"] == org_urn


def test_a_revoked_sign_in_holds_the_post(owner, emulator):
    member = connect(owner)
    control(emulator, "expire")
    variant = publish_now(owner, member, "Held")
    Dispatcher().run_once()
    member.refresh_from_db()
    assert member.status == AccountStatus.NEEDS_RECONNECT
    assert Variant.objects.get(pk=variant.pk).status != VariantStatus.PUBLISHED
    assert control(emulator, "state")["posts"] == []
