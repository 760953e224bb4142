"""Collection against the local Bluesky network: a like from another account shows in the
figures once the AppView has counted it; the network reports no impressions."""

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chorus.analytics import collection
from chorus.analytics.models import AccountDaily, TrackedPost
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant
from tests.publishing.test_dispatcher_bluesky import bluesky_account  # noqa: F401

pytestmark = pytest.mark.django_db
WAIT_SECONDS = 60


def served_by_appview(server, uri: str) -> None:
    """Wait until the AppView serves the new post: before that it answers as if the post
    did not exist, which collection would read as a first absence."""
    deadline = time.monotonic() + WAIT_SECONDS
    with httpx.Client(base_url=server.appview_url, timeout=10) as appview:
        while time.monotonic() < deadline:
            found = appview.get("/xrpc/app.bsky.feed.getPosts", params={"uris": uri})
            if found.status_code == 200 and found.json().get("posts"):
                return
            time.sleep(0.3)
    pytest.fail(f"the AppView did not serve {uri} within {WAIT_SECONDS} s")


def test_a_like_on_bluesky_moves_the_figures(owner, bluesky_account, bluesky_server):  # noqa: F811
    post = services.post_save(
        actor=owner,
        variants=[services.VariantInput(account_id=bluesky_account.pk, text="ทดสอบ ស្ទង់ 📈")],
    )
    services.post_publish_now(actor=owner, post=post)
    Dispatcher().run_once()
    variant = Variant.objects.get(post=post)
    served_by_appview(bluesky_server, variant.remote_id)
    assert collection.track_published() == 1
    tracked = TrackedPost.objects.get(variant=variant)

    fan = bluesky_server.accounts[1]
    session = bluesky_server.session(fan)
    cid = variant.parts_published[0]["extra"]["cid"]
    with bluesky_server.client() as http:
        http.post(
            "/xrpc/com.atproto.repo.createRecord",
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            json={
                "repo": session["did"],
                "collection": "app.bsky.feed.like",
                "record": {
                    "$type": "app.bsky.feed.like",
                    "subject": {"uri": variant.remote_id, "cid": cid},
                    "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                },
            },
        ).raise_for_status()

    # The AppView counts the like asynchronously: read again (as the schedule would) until
    # it is there. Each reading is stored; none overwrites an earlier one.
    deadline = time.monotonic() + WAIT_SECONDS
    at = variant.published_at + timedelta(hours=1)
    while True:
        TrackedPost.objects.filter(pk=tracked.pk).update(next_collect_at=at)
        outcome = collection.collect_posts(now=at)
        assert outcome.failed == 0 and outcome.deleted == 0, outcome.errors
        tracked.refresh_from_db()
        if tracked.likes == 1 or time.monotonic() > deadline:
            break
        at += timedelta(minutes=1)
        time.sleep(0.5)
    assert tracked.likes == 1 and tracked.impressions is None
    assert tracked.snapshots.count() == tracked.collections >= 1

    assert collection.collect_accounts().read == 1
    assert AccountDaily.objects.get(account=bluesky_account).posts >= 1


def test_the_backfill_lists_posts_made_outside_chorus(owner, bluesky_account, bluesky_server):  # noqa: F811
    brand = bluesky_server.session(bluesky_server.accounts[0])
    with bluesky_server.client() as http:
        made = http.post(
            "/xrpc/com.atproto.repo.createRecord",
            headers={"Authorization": f"Bearer {brand['accessJwt']}"},
            json={
                "repo": brand["did"],
                "collection": "app.bsky.feed.post",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": "ทำนอก Chorus",
                    "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                },
            },
        )
    made.raise_for_status()
    uri = made.json()["uri"]
    served_by_appview(bluesky_server, uri)

    assert collection.backfill(account=bluesky_account) >= 1
    tracked = TrackedPost.objects.get(account=bluesky_account, remote_id=uri)
    assert tracked.variant is None and tracked.text == "ทำนอก Chorus"
    assert tracked.url.endswith(uri.rsplit("/", 1)[1])
    assert bluesky_account.analytics_collection.backfilled_at is not None
    assert collection.backfill(account=bluesky_account) == 0  # nothing twice


def test_a_bluesky_competitor_is_read_from_the_public_appview(
    owner,
    bluesky_account,  # noqa: F811
    bluesky_server,
    settings,
):
    from chorus.analytics import competitors
    from chorus.analytics.models import CompetitorDaily, CompetitorPost

    settings.CHORUS_NETWORK_OPTIONS = {
        "bluesky": {"plc_url": bluesky_server.plc_url, "public_appview": bluesky_server.appview_url}
    }
    rival = bluesky_server.accounts[1]
    session = bluesky_server.session(rival)
    with bluesky_server.client() as http:
        made = http.post(
            "/xrpc/com.atproto.repo.createRecord",
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            json={
                "repo": session["did"],
                "collection": "app.bsky.feed.post",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": "คู่แข่ง competitor post",
                    "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                },
            },
        )
    made.raise_for_status()
    served_by_appview(bluesky_server, made.json()["uri"])

    competitor = competitors.competitor_add(
        actor=owner, provider_key="bluesky", address=f"@{rival.handle}"
    )
    assert competitor.remote_id == rival.did and competitor.address == rival.did
    daily = CompetitorDaily.objects.get(competitor=competitor)
    assert daily.posts >= 1
    post = CompetitorPost.objects.get(competitor=competitor, remote_id=made.json()["uri"])
    assert post.text == "คู่แข่ง competitor post" and post.likes == 0

    with pytest.raises(competitors.ServiceError, match="has no account"):
        competitors.competitor_add(actor=owner, provider_key="bluesky", address="nobody-here.test")
