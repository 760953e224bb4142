"""LinkedIn against the emulated LinkedIn API: signing in through Chorus's OAuth flow, posting
as the member and as an organization (text, link, images, a PDF document), deleting,
comments read and answered, reconciliation after a lost answer, counts and followers."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chorus.networks.providers import linkedin_oauth
from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.linkedin import LinkedIn
from chorus.testing.emulator import EmulatorServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.7\n" + b"\0" * 64
ANALYTICS = "r_member_profileAnalytics"


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
            "scopes": " ".join(
                (linkedin_oauth.MEMBER_SCOPES, linkedin_oauth.ORGANIZATION_SCOPES, ANALYTICS)
            ),
            "api_url": base,
            "auth_url": base,
        }
    }
    return running


def control(emulator, action, **body):
    answer = httpx.post(f"{emulator.base_url}/_emulator/linkedin/{action}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def allow(url: str, member="Ada Lovelace", decision="allow") -> dict[str, list[str]]:
    """What the browser does on LinkedIn's consent page; the query Chorus gets back."""
    page = httpx.get(url)
    assert page.status_code == 200 and "access your LinkedIn account" in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = httpx.post(url.split("?")[0], data={**query, "member": member, "decision": decision})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)


def signed_in(emulator, member="Ada Lovelace", as_org="") -> LinkedIn:
    control(emulator, "member", name=member, organizations=[{"name": "Acme Corp"}])
    app = LinkedIn.register_app("", redirect_uri="https://chorus.test/cb", http=httpx.Client())
    back = allow(LinkedIn.authorization_url(app, state="s"), member)
    assert back["state"] == ["s"]
    credentials = LinkedIn.exchange_code(app, back["code"][0], http=httpx.Client())
    if as_org:
        authors = linkedin_oauth.authors(httpx.Client(), credentials)
        org = next(a for a in authors if a.name == as_org)
        credentials = linkedin_oauth.choose(httpx.Client(), credentials, org.urn)
    return LinkedIn(credentials, http=httpx.Client())


def draft(text="", key="k1", **more) -> PostDraft:
    return PostDraft(text=text, idempotency_key=key, **more)


def state(emulator):
    return control(emulator, "state")


def test_signs_in_and_lists_who_the_member_may_post_as(emulator):
    provider = signed_in(emulator)
    identity = provider.verify()
    assert identity.remote_id.startswith("urn:li:person:") and identity.handle == "Ada Lovelace"
    assert provider.credentials.secrets["refresh_token"]
    assert "w_member_social" in provider.credentials.secrets["scope"].split()
    authors = linkedin_oauth.authors(provider.http, provider.credentials)
    assert [a.name for a in authors] == ["Ada Lovelace", "Acme Corp"]
    assert authors[1].is_organization and not authors[0].is_organization


def test_member_only_app_offers_the_member_alone(emulator, settings):
    settings.CHORUS_NETWORK_OPTIONS["linkedin"]["scopes"] = linkedin_oauth.MEMBER_SCOPES
    provider = signed_in(emulator)
    assert [a.name for a in linkedin_oauth.authors(provider.http, provider.credentials)] == [
        "Ada Lovelace"
    ]


def test_consent_refused_for_scopes_the_app_lacks(emulator):
    control(emulator, "configure", scopes=linkedin_oauth.MEMBER_SCOPES)
    app = LinkedIn.register_app("", redirect_uri="https://chorus.test/cb", http=httpx.Client())
    url = LinkedIn.authorization_url(app, state="s")
    answer = httpx.get(url)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["error"] == ["unauthorized_scope_error"]


def test_member_publishes_text_with_reserved_characters(emulator):
    provider = signed_in(emulator)
    text = "Launch (beta) today: see https://example.com/a_b #news @team"
    made = provider.publish(draft(text))
    assert made.ref.remote_id.startswith("urn:li:share:")
    assert made.ref.url == f"https://www.linkedin.com/feed/update/{made.ref.remote_id}/"
    [post] = state(emulator)["posts"]
    assert post["author"] == provider.credentials.identity["member"]
    assert post["commentary"] == (
        "Launch \\(beta\\) today: see https://example.com/a_b #news \\@team"
    )


def test_member_publishes_a_link_as_an_article(emulator):
    provider = signed_in(emulator)
    provider.publish(draft("Read this", link="https://example.com/post"))
    [post] = state(emulator)["posts"]
    assert post["content"] == {
        "article": {"source": "https://example.com/post", "title": "https://example.com/post"}
    }


def test_publishes_images_and_a_document(emulator):
    provider = signed_in(emulator)
    one = Media(PNG, "image/png", alt_text="A chart")
    provider.publish(draft("One image", media=(one,)))
    provider.publish(draft("Three images", media=(one, one, one)))
    provider.publish(draft("Our report", media=(Media(PDF, "application/pdf", filename="r.pdf"),)))
    posts = state(emulator)["posts"]
    single, multi, document = (p["content"] for p in posts)
    assert single["media"]["id"].startswith("urn:li:image:")
    assert single["media"]["altText"] == "A chart"
    assert len(multi["multiImage"]["images"]) == 3
    assert document["media"]["id"].startswith("urn:li:document:")
    assert document["media"]["title"] == "r.pdf"
    uploads = state(emulator)["uploads"]
    assert all(upload["size"] for upload in uploads.values()) and len(uploads) == 5


def test_checks_before_sending(emulator):
    provider = signed_in(emulator)
    with pytest.raises(Rejected, match="3000"):
        provider.publish(draft("a" * 3001))
    pdf = Media(PDF, "application/pdf")
    with pytest.raises(Rejected, match="one PDF"):
        provider.publish(draft("x", media=(pdf, Media(PNG, "image/png"))))
    with pytest.raises(Rejected, match="video/mp4"):
        provider.publish(draft("x", media=(Media(b"v", "video/mp4"),)))
    assert state(emulator)["posts"] == []


def test_organization_publishes_deletes_and_reads_counts(emulator):
    provider = signed_in(emulator, as_org="Acme Corp")
    identity = provider.verify()
    assert identity.display_name == "Acme Corp"
    assert identity.profile_url == "https://www.linkedin.com/company/acme-corp/"
    made = provider.publish(draft("From the page"))
    [post] = state(emulator)["posts"]
    assert post["author"].startswith("urn:li:organization:")
    control(emulator, "reactions", post=made.ref.remote_id, reactions={"LIKE": 4, "PRAISE": 2})
    control(
        emulator,
        "statistics",
        post=made.ref.remote_id,
        statistics={"impressionCount": 90, "clickCount": 7, "shareCount": 3},
    )
    [metrics] = provider.fetch_post_metrics([made.ref])
    assert (metrics.likes, metrics.reposts, metrics.replies) == (6, 3, 0)
    assert metrics.extra["impressions"] == 90 and metrics.extra["clicks"] == 7
    assert provider.fetch_account_metrics().followers == 0
    provider.delete(made.ref)
    provider.delete(made.ref)  # gone is fine
    assert state(emulator)["posts"][0]["deleted"] is True
    assert provider.fetch_post_metrics([made.ref]) == []


def test_member_metrics_and_followers(emulator):
    provider = signed_in(emulator)
    made = provider.publish(draft("Counting"))
    control(emulator, "reactions", post=made.ref.remote_id, reactions={"LIKE": 5})
    [metrics] = provider.fetch_post_metrics([made.ref])
    assert metrics.likes == 5 and "impressions" not in metrics.extra
    assert provider.fetch_account_metrics().followers == 120


def test_comments_are_read_and_answered(emulator):
    provider = signed_in(emulator, as_org="Acme Corp")
    made = provider.publish(draft("Tell us"))
    comment = control(
        emulator,
        "comment",
        post=made.ref.remote_id,
        actor="urn:li:person:bob",
        text="Nice \\(really\\)",
    )
    page = provider.fetch_interactions()
    [item] = page.items
    assert item.kind == "reply" and item.text == "Nice (really)"
    assert item.remote_id == comment["commentUrn"] and item.subject.remote_id == made.ref.remote_id
    assert provider.fetch_interactions(page.cursor).items == ()
    answer = provider.publish(draft("Thanks (truly)!", reply_to=RemoteRef(item.remote_id)))
    assert answer.ref.remote_id.startswith("urn:li:comment:(urn:li:share:")
    again = provider.fetch_interactions(page.cursor)
    assert again.items == ()  # our own answer is not an interaction
    provider.delete(answer.ref)
    provider.delete(answer.ref)


def test_a_lost_answer_is_reconciled_never_posted_twice(emulator):
    provider = signed_in(emulator, as_org="Acme Corp")
    control(emulator, "configure", lose_answers=1)
    since = datetime.now(UTC)
    the_draft = draft("Exactly (once)", media=(Media(PNG, "image/png"),))
    with pytest.raises(Transient):
        provider.publish(the_draft)
    found = provider.find_published(the_draft, since=since)
    assert found is not None and found.ref.remote_id == state(emulator)["posts"][0]["id"]
    assert provider.find_published(the_draft, since=since, exclude={found.ref.remote_id}) is None
    assert provider.find_published(draft("Other"), since=since) is None
    later = since + timedelta(minutes=5)
    assert provider.find_published(the_draft, since=later) is None


def test_reconciling_without_read_access_refuses_to_guess(emulator, settings):
    settings.CHORUS_NETWORK_OPTIONS["linkedin"]["scopes"] = linkedin_oauth.MEMBER_SCOPES
    provider = signed_in(emulator)
    with pytest.raises(Rejected, match="cannot tell"):
        provider.find_published(draft("Hello"), since=datetime.now(UTC))
    page = provider.fetch_interactions()
    assert page.items == () and "r_member_social" in page.warnings[0]
    with pytest.raises(Rejected, match=ANALYTICS):
        provider.fetch_account_metrics()


def test_duplicate_is_refused_in_linkedins_words(emulator):
    provider = signed_in(emulator)
    provider.publish(draft("Same words"))
    with pytest.raises(Rejected, match="duplicate"):
        provider.publish(draft("Same words"))


def test_daily_limit_is_rate_limited_until_midnight(emulator):
    provider = signed_in(emulator)
    control(emulator, "configure", daily_posts=1)
    provider.publish(draft("First"))
    with pytest.raises(RateLimited) as caught:
        provider.publish(draft("Second"))
    assert 0 < caught.value.retry_after <= 86400


def test_expired_token_is_refreshed_then_revoked_needs_reconnect(emulator):
    provider = signed_in(emulator)
    provider.credentials.secrets["expires_at"] = "1"
    provider.publish(draft("After refresh"))
    assert provider.credentials_changed
    control(emulator, "expire")
    provider.credentials.secrets["refresh_token"] = "gone"
    provider.credentials.secrets["expires_at"] = "1"
    with pytest.raises(AuthExpired):
        provider.publish(draft("Never"))


def test_organization_lookup_needs_the_admin_permission(emulator, settings):
    provider = signed_in(emulator, as_org="Acme Corp")
    provider.credentials.secrets["scope"] = "openid profile w_organization_social"
    control(emulator, "expire")
    with pytest.raises(AuthExpired):
        provider.verify()
