"""Threads against the emulated Threads API: connecting through Chorus's OAuth flow,
publishing text, images, carousels and replies through containers, the 24-hour quota,
container errors, expired tokens, reconciliation, reading replies and insights."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.networks import services
from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    RemoteRef,
)
from chorus.networks.providers.meta_graph import ContainerProcessing
from chorus.networks.providers.threads import Threads
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(scope="module")
def running():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def emulator(running, settings):
    running.reset()
    base = f"{running.base_url}/threads"
    settings.CHORUS_NETWORK_OPTIONS = {
        "threads": {
            "app_id": "chorus-threads",
            "app_secret": "s3cret",
            "graph_url": base,
            "auth_url": base,
        }
    }
    return running


def control(emulator, action, **body):
    answer = httpx.post(f"{emulator.base_url}/_emulator/threads/{action}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def allow(url: str, username="brand_threads", decision="allow") -> dict[str, list[str]]:
    """What the browser does on the authorization window; the query Chorus gets back."""
    page = httpx.get(url)
    assert page.status_code == 200 and "Allow access to Threads" in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = httpx.post(
        url.split("?")[0], data={**query, "username": username, "decision": decision}
    )
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)


def signed_in(emulator, username="brand_threads") -> Threads:
    app = Threads.register_app("", redirect_uri="https://chorus.test/cb", http=httpx.Client())
    url = Threads.authorization_url(app, state="s")
    back = allow(url, username)
    credentials = Threads.exchange_code(app, back["code"][0], http=httpx.Client())
    return Threads(credentials, http=httpx.Client())


def draft(text="", key="k1", **more) -> PostDraft:
    return PostDraft(text=text, idempotency_key=key, **more)


def test_connect_through_chorus(emulator, owner):
    url = services.oauth_begin(actor=owner, provider_key="threads")
    assert "threads_content_publish" in parse_qs(urlsplit(url).query)["scope"][0]
    back = allow(url, "news_desk")
    account = services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])
    assert account.provider == "threads" and account.handle == "news_desk"


def test_connect_refused_by_the_person_loses_nothing(emulator, owner):
    url = services.oauth_begin(actor=owner, provider_key="threads")
    back = allow(url, decision="deny")
    assert back["error"] == ["access_denied"] and "code" not in back


def test_needs_setup_without_the_app(owner, settings):
    settings.CHORUS_NETWORK_OPTIONS = {"threads": {}}
    assert Threads.missing_settings({}) == ["CHORUS_THREADS_APP_ID", "CHORUS_THREADS_APP_SECRET"]
    with pytest.raises(ServiceError):
        services.oauth_begin(actor=owner, provider_key="threads")


def test_long_lived_token_and_refresh(emulator):
    threads = signed_in(emulator)
    assert threads.verify().handle == "brand_threads"
    old = threads.credentials.secrets["access_token"]
    threads.credentials.secrets["expires_at"] = "1"  # due for renewal
    threads.refresh()
    assert threads.credentials_changed
    assert threads.credentials.secrets["access_token"] != old
    assert threads.verify().handle == "brand_threads"


def test_publish_text_reply_and_find_it_again(emulator):
    threads = signed_in(emulator)
    since = timezone.now() - timedelta(seconds=5)
    post = threads.publish(draft("Hello from Chorus"))
    assert post.ref.remote_id and "threads.net" in post.ref.url and post.published_at
    reply = threads.publish(draft("And a follow-up", key="k2", reply_to=post.ref))
    state = control(emulator, "state")["posts"]
    assert {p["id"]: p["reply_to"] for p in state}[reply.ref.remote_id] == post.ref.remote_id
    found = threads.find_published(draft("Hello  from Chorus"), since=since)
    assert found is not None and found.ref.remote_id == post.ref.remote_id
    assert (
        threads.find_published(
            draft("Hello from Chorus"), since=since, exclude=frozenset({post.ref.remote_id})
        )
        is None
    )
    found_reply = threads.find_published(draft("And a follow-up", reply_to=post.ref), since=since)
    assert found_reply is not None and found_reply.ref.remote_id == reply.ref.remote_id


def test_publish_image_and_carousel(emulator):
    threads = signed_in(emulator)
    photo = Media(PNG, "image/png", alt_text="a square", filename="square.png")
    single = threads.publish(draft("One photo", media=(photo,)))
    carousel = threads.publish(draft("Three", key="k2", media=(photo, photo, photo)))
    kinds = {p["id"]: p["media_type"] for p in control(emulator, "state")["posts"]}
    assert kinds[single.ref.remote_id] == "IMAGE"
    assert kinds[carousel.ref.remote_id] == "CAROUSEL_ALBUM"


def test_processing_container_is_retried_not_remade(emulator):
    threads = signed_in(emulator)
    control(emulator, "configure", processing_checks=1)
    with pytest.raises(ContainerProcessing) as processing:
        threads.publish(draft("Slow one"))
    post = threads.publish(draft("Slow one"), media_ids=processing.value.media_ids)
    texts = [p["text"] for p in control(emulator, "state")["posts"]]
    assert texts.count("Slow one") == 1 and post.ref.remote_id


def test_quota_spent_is_rate_limited(emulator):
    threads = signed_in(emulator)
    control(emulator, "configure", quota_total=1)
    threads.publish(draft("The one post today"))
    with pytest.raises(RateLimited) as raised:
        threads.publish(draft("One too many", key="k2"))
    assert "250" not in raised.value.message and "1 posts" in raised.value.message
    assert 60 <= raised.value.retry_after <= 86400


def test_container_error_is_rejected(emulator):
    threads = signed_in(emulator)
    control(emulator, "configure", container_error="Media download failed")
    with pytest.raises(Rejected, match="Media download failed"):
        threads.publish(draft("Broken"))


def test_too_long_is_refused_before_any_call(emulator):
    threads = signed_in(emulator)
    with pytest.raises(Rejected, match="501 characters"):
        threads.publish(draft("a" * 501))


def test_expired_token_is_auth_expired(emulator):
    threads = signed_in(emulator)
    control(emulator, "expire")
    with pytest.raises(AuthExpired):
        threads.publish(draft("Too late"))
    with pytest.raises(AuthExpired):
        threads.refresh()


def test_replies_insights_and_delete(emulator):
    threads = signed_in(emulator)
    post = threads.publish(draft("Ask me anything"))
    threads.publish(draft("My own answer", key="k2", reply_to=post.ref))
    control(emulator, "reply", post=post.ref.remote_id, username="reader", text="Why?")
    page = threads.fetch_interactions()
    assert [(i.author_handle, i.text) for i in page.items] == [("reader", "Why?")]
    assert page.items[0].subject.remote_id == post.ref.remote_id
    assert threads.fetch_interactions(page.cursor).items == ()
    [metrics] = threads.fetch_post_metrics([post.ref])
    assert metrics.replies == 2 and metrics.likes == 7 and metrics.extra["views"] == 100
    assert threads.fetch_account_metrics().followers == 42
    assert [p.ref.remote_id for p in threads.fetch_own_posts()] == [post.ref.remote_id]
    threads.delete(post.ref)
    threads.delete(post.ref)  # already gone: not an error
    assert threads.fetch_post_metrics([post.ref]) == []
    with pytest.raises(Rejected):
        threads.publish(draft("late", key="k3", reply_to=RemoteRef("999")))


def connect(owner, username="brand_threads"):
    back = allow(services.oauth_begin(actor=owner, provider_key="threads"), username)
    return services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])


def publish_now(owner, account, text):
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text=text)]
    )
    publishing.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


def test_dispatcher_publishes_exactly_once_after_a_lost_answer(owner, emulator):
    account = connect(owner)
    control(emulator, "configure", lose_answers=1)
    variant = publish_now(owner, account, "Exactly once on Threads")
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    posts = control(emulator, "state")["posts"]
    assert len(posts) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == posts[0]["id"]


def test_the_spent_quota_holds_the_post(owner, emulator):
    account = connect(owner)
    control(emulator, "configure", quota_total=0)
    variant = publish_now(owner, account, "Tomorrow, then")
    Dispatcher().run_once()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED and not control(emulator, "state")["posts"]
    assert "24 hours" in variant.last_error
