"""The network emulator speaks well enough for the real providers to publish against it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from chorus.networks.providers.base import (
    AuthExpired,
    PostDraft,
    RateLimited,
    Rejected,
    Transient,
)
from chorus.networks.providers.bluesky import Bluesky, record_key_for
from chorus.networks.providers.mastodon import Mastodon
from chorus.testing.emulator import EmulatorServer, did_for_handle

DEFAULT_LIMIT = {"limit": 300, "window_s": 300}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    """A fresh emulator for each test: no latency, default limits, no accounts, no faults."""
    server.configure(latency=0, rate_limit=DEFAULT_LIMIT, access_ttl_s=7200)
    server.reset()
    return server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def mastodon(emulator: EmulatorServer, http: httpx.Client, token: str = "alice") -> Mastodon:
    return Mastodon(emulator.mastodon_credentials(token), http=http)


def bluesky(emulator: EmulatorServer, http: httpx.Client, handle: str = "bob.test") -> Bluesky:
    return Bluesky(emulator.bluesky_credentials(handle), http=http)


# --------------------------------------------------------------------------- Mastodon


def test_mastodon_publishes_verifies_and_deletes(emulator, http):
    provider = mastodon(emulator, http)
    assert provider.verify().handle.startswith("alice@127.0.0.1:")
    before = time.time()
    published = provider.publish(PostDraft(text="Hello", idempotency_key="k1"))

    [event] = emulator.events()
    assert event["network"] == "mastodon"
    assert event["account"] == "alice"
    assert event["key"] == "k1"
    assert event["id"] == published.ref.remote_id
    assert before <= event["received_at"] <= time.time()
    assert provider.rate_budget is not None
    assert provider.rate_budget.limit == 300

    provider.delete(published.ref)
    provider.delete(published.ref)  # a missing post is not an error
    assert emulator.stats()["posts_deleted"] == 1


def test_mastodon_idempotency_key_never_duplicates(emulator, http):
    provider = mastodon(emulator, http)
    draft = PostDraft(text="Once", idempotency_key="same")
    first = provider.publish(draft)
    second = provider.publish(draft)
    other_account = mastodon(emulator, http, token="carol").publish(draft)

    assert first.ref == second.ref
    assert other_account.ref != first.ref  # keys are per token
    stats = emulator.stats()
    assert stats["posts_created"] == 2
    assert stats["idempotent_replays"] == 1


def test_mastodon_scripted_429_then_503_then_success(emulator, http):
    emulator.configure(
        faults=[
            {"route": "publish", "status": 429, "times": 2, "retry_after": 2},
            {"route": "publish", "status": 503, "times": 1},
        ]
    )
    provider = mastodon(emulator, http)
    draft = PostDraft(text="Eventually", idempotency_key="k")
    for _ in range(2):
        with pytest.raises(RateLimited) as limited:
            provider.publish(draft)
        assert 1.5 <= limited.value.retry_after <= 2.5
    with pytest.raises(Transient):
        provider.publish(draft)
    provider.publish(draft)
    assert provider.verify()  # other routes were never affected
    assert emulator.stats()["faults_injected"] == 3
    assert len(emulator.events()) == 1


def test_mastodon_rate_limit_per_account(emulator, http):
    emulator.configure(rate_limit={"limit": 2, "window_s": 60})
    provider = mastodon(emulator, http)
    provider.publish(PostDraft(text="1", idempotency_key="1"))
    provider.publish(PostDraft(text="2", idempotency_key="2"))
    assert provider.rate_budget is not None
    assert provider.rate_budget.remaining == 0
    with pytest.raises(RateLimited) as limited:
        provider.publish(PostDraft(text="3", idempotency_key="3"))
    assert 55 <= limited.value.retry_after <= 60
    mastodon(emulator, http, token="other").publish(PostDraft(text="3", idempotency_key="3"))
    assert emulator.stats()["rate_limited"] == 1


def test_mastodon_revoked_token_is_auth_expired(emulator, http):
    provider = mastodon(emulator, http)
    provider.verify()
    emulator.revoke("alice")
    with pytest.raises(AuthExpired):
        provider.publish(PostDraft(text="Gone", idempotency_key="k"))
    with pytest.raises(AuthExpired):
        provider.refresh()


def test_lost_response_then_retry_publishes_exactly_once(emulator, http):
    emulator.configure(faults=[{"route": "publish", "status": 502, "after_commit": True}])
    provider = mastodon(emulator, http)
    draft = PostDraft(text="Lost answer", idempotency_key="k")
    with pytest.raises(Transient):
        provider.publish(draft)
    assert len(emulator.events()) == 1  # it went through although the client saw an error
    provider.publish(draft)
    assert len(emulator.events()) == 1


def test_kill_switch_fails_everything(emulator, http):
    emulator.configure(down=True)
    with pytest.raises(Transient):
        mastodon(emulator, http).publish(PostDraft(text="Down", idempotency_key="k"))
    with pytest.raises(Transient):
        bluesky(emulator, http).publish(PostDraft(text="Down", idempotency_key="k"))
    emulator.configure(down=False)
    mastodon(emulator, http).publish(PostDraft(text="Up", idempotency_key="k"))


def test_mastodon_media_processing(emulator, http):
    from chorus.networks.providers.base import Media
    from chorus.networks.providers.mastodon import MediaProcessing

    emulator.configure(media_processing_checks=1)
    provider = mastodon(emulator, http)
    draft = PostDraft(
        text="Video", idempotency_key="k", media=(Media(b"data", "video/mp4", filename="a.mp4"),)
    )
    with pytest.raises(MediaProcessing) as processing:
        provider.publish(draft)
    with pytest.raises(MediaProcessing):
        provider.publish(draft, media_ids=processing.value.media_ids)
    provider.publish(draft, media_ids=processing.value.media_ids)
    assert len(emulator.events()) == 1


# --------------------------------------------------------------------------- Bluesky


def test_bluesky_signs_in_through_did_document_and_publishes(emulator, http):
    credentials = Bluesky.sign_in(
        "Dana.Test", "app-pass", service_url=emulator.base_url, http=http, plc_url=emulator.base_url
    )
    assert credentials.identity["did"] == did_for_handle("dana.test")
    assert credentials.identity["pds_url"] == emulator.base_url
    provider = Bluesky(credentials, http=http)
    assert provider.verify().handle == "dana.test"
    published = provider.publish(PostDraft(text="Hello sky", idempotency_key="k1"))

    [event] = emulator.events()
    assert event["network"] == "bluesky"
    assert event["account"] == credentials.identity["did"]
    assert event["key"] == record_key_for("k1")
    assert event["id"] == published.ref.remote_id
    assert provider.rate_budget is not None

    provider.delete(published.ref)
    provider.delete(published.ref)
    assert emulator.stats()["posts_deleted"] == 1


def test_bluesky_duplicate_rkey_fails_like_a_pds_and_provider_recovers(emulator, http):
    provider = bluesky(emulator, http)
    draft = PostDraft(text="Once", idempotency_key="same")
    first = provider.publish(draft)
    second = provider.publish(draft)

    assert first.ref.remote_id == second.ref.remote_id
    stats = emulator.stats()
    assert stats["posts_created"] == 1
    assert stats["duplicate_rkeys"] == 1
    assert stats["statuses"]["500"] == 1

    raw = http.post(
        f"{emulator.base_url}/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {provider.credentials.secrets['accessJwt']}"},
        json={
            "repo": provider.did,
            "collection": "app.bsky.feed.post",
            "rkey": record_key_for("same"),
            "record": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2025"},
        },
    )
    assert raw.status_code == 500
    assert raw.json() == {"error": "InternalServerError", "message": "Internal Server Error"}


def test_bluesky_429_carries_retry_after(emulator, http):
    emulator.configure(faults=[{"route": "publish", "status": 429, "retry_after": 3}])
    provider = bluesky(emulator, http)
    with pytest.raises(RateLimited) as limited:
        provider.publish(PostDraft(text="Later", idempotency_key="k"))
    assert 2 <= limited.value.retry_after <= 4
    assert emulator.events() == []


def test_bluesky_revoked_is_auth_expired(emulator, http):
    provider = bluesky(emulator, http)
    provider.verify()
    emulator.revoke("bob.test")
    with pytest.raises(AuthExpired):
        provider.publish(PostDraft(text="Gone", idempotency_key="k"))
    with pytest.raises(Rejected):
        Bluesky.sign_in(
            "bob.test", "pw", service_url=emulator.base_url, http=http, plc_url=emulator.base_url
        )


def test_bluesky_expired_access_token_is_renewed(emulator, http):
    provider = Bluesky(emulator.bluesky_credentials("erin.test", ttl_s=0.01), http=http)
    old = provider.credentials.secrets["accessJwt"]
    time.sleep(0.05)
    provider.publish(PostDraft(text="After renewal", idempotency_key="k"))
    assert provider.credentials_changed
    assert provider.credentials.secrets["accessJwt"] != old
    assert emulator.stats()["routes"]["com.atproto.server.refreshSession"] == 1

    emulator.configure(access_ttl_s=0)  # renewed sessions are born expired as well
    provider = Bluesky(emulator.bluesky_credentials("finn.test", ttl_s=0.01), http=http)
    time.sleep(0.05)
    with pytest.raises(AuthExpired):
        provider.publish(PostDraft(text="Never", idempotency_key="k"))


def test_bluesky_lost_response_then_retry_publishes_exactly_once(emulator, http):
    emulator.configure(faults=[{"route": "publish", "status": 503, "after_commit": True}])
    provider = bluesky(emulator, http)
    draft = PostDraft(text="Lost answer", idempotency_key="k")
    published = provider.publish(draft)  # the provider reads the record back at its key
    assert published.ref.remote_id.endswith(record_key_for("k"))
    provider.publish(draft)
    assert len(emulator.events()) == 1


# --------------------------------------------------------------------------- concurrency


def test_latency_never_blocks_other_requests(emulator):
    """200 requests waiting 200 ms each overlap: one after another they would take 40 s."""
    emulator.configure(latency=200, rate_limit=None)

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=emulator.base_url, limits=limits) as client:
            responses = await asyncio.gather(
                *(
                    client.get(
                        "/api/v1/accounts/verify_credentials",
                        headers={"Authorization": f"Bearer t{i}"},
                    )
                    for i in range(200)
                )
            )
        return [r.status_code for r in responses]

    # its own thread: the browser tests keep an event loop running in this one
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(asyncio.run, burst()).result() == [200] * 200
    assert emulator.stats()["max_in_flight"] > 50, "waiting requests must overlap"


def test_separate_process_with_control_endpoints(http):
    with EmulatorServer(process=True, latency=10) as emulator:
        provider = mastodon(emulator, http)
        provider.publish(PostDraft(text="From afar", idempotency_key="k"))
        assert emulator.stats()["posts_created"] == 1
        assert [e["key"] for e in emulator.events()] == ["k"]
        with pytest.raises(ValueError, match="unknown settings"):
            emulator.configure(latenzy=1)
