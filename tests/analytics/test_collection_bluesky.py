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
