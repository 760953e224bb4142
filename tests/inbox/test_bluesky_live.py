"""The inbox against the local Bluesky network (Bluesky's own dev-env): a reply and a like to
our post are polled, the like is counted, and the answer from Chorus lands in the thread."""

from __future__ import annotations

import time

import pytest

from chorus.inbox import ingest, replies
from chorus.inbox.models import Activity, Conversation, PollState, Reply
from chorus.networks import services as network_services
from chorus.networks.providers.base import PostDraft
from tests.networks.test_bluesky_live import act, get_record, http, key, now_iso, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _poll_until(account, found, what: str):
    deadline = time.monotonic() + 60
    while True:
        PollState.objects.filter(account=account).update(next_poll_at="2000-01-01T00:00:00Z")
        ingest.poll_account(account_id=account.pk)
        if found():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


def test_a_reply_is_polled_and_answered_in_its_thread(owner, settings, bluesky_server, http):  # noqa: F811
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": bluesky_server.plc_url}}
    alice_account, bob_account = bluesky_server.accounts[:2]
    account = network_services.account_connect_with_password(
        actor=owner,
        provider_key="bluesky",
        identifier=alice_account.handle,
        password=alice_account.password,
        service_url=bluesky_server.pds_url,
    )
    alice = sign_in(bluesky_server, alice_account, http)
    bob = sign_in(bluesky_server, bob_account, http)
    post = alice.publish(PostDraft(text="Which roast do you like?", idempotency_key=key()))
    ingest.poll_account(account_id=account.pk)  # the first poll: nothing yet
    time.sleep(1)  # a reply indexed in the same instant as its parent gets no notification
    strong = {"uri": post.ref.remote_id, "cid": post.ref.extra["cid"]}
    theirs = act(
        bob,
        "com.atproto.repo.createRecord",
        {
            "repo": bob.did,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "The dark one, but it was out of stock",
                "reply": {"root": strong, "parent": strong},
                "createdAt": now_iso(),
            },
        },
    )
    act(
        bob,
        "com.atproto.repo.createRecord",
        {
            "repo": bob.did,
            "collection": "app.bsky.feed.like",
            "record": {"$type": "app.bsky.feed.like", "subject": strong, "createdAt": now_iso()},
        },
    )
    _poll_until(
        account,
        lambda: (
            Conversation.objects.filter(account=account, messages__remote_id=theirs["uri"]).exists()
            and Activity.objects.filter(
                account=account, kind="like", subject_remote_id=post.ref.remote_id
            ).exists()
        ),
        "the reply and the like in the inbox",
    )
    conversation = Conversation.objects.get(account=account, messages__remote_id=theirs["uri"])
    assert "out of stock" in conversation.preview
    # The network is shared by the session's tests: earlier ones may have liked or followed
    # too, and the first poll's backfill brings those in as well.
    likes = Activity.objects.filter(account=account, kind="like")
    assert likes.filter(subject_remote_id=post.ref.remote_id).count() == 1
    contact = conversation.contact
    assert contact.activity_count == Activity.objects.filter(contact=contact).count() >= 1

    reply = replies.reply_create(
        actor=owner, conversation=conversation, text="Back in stock on Monday!"
    )
    reply.refresh_from_db()
    assert reply.state == "sent", reply.error
    record = get_record(alice, reply.remote_id)
    assert record["reply"]["parent"]["uri"] == theirs["uri"]
    assert record["reply"]["root"]["uri"] == post.ref.remote_id
    assert Reply.objects.filter(state="sent").count() == 1
