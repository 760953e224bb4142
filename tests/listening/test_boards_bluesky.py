"""A listened Bluesky post, opened in our account's inbox and answered there, against the
local Bluesky network (Bluesky's own dev-env): the answer is threaded under the post, with
the thread's root and the post as parent."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from chorus.inbox import replies
from chorus.inbox.models import Message
from chorus.listening import boards
from chorus.listening.models import Mention
from chorus.networks import services as network_services
from chorus.networks.providers.base import PostDraft, RemoteRef
from tests.networks.test_bluesky_live import act, get_record, http, key, now_iso, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_served(provider, uri: str) -> None:
    """The AppView indexes a new post a moment after it is made; a reply needs it there."""
    deadline = time.monotonic() + 60
    while any(item.deleted for item in provider.fetch_thread(RemoteRef(uri))):
        if time.monotonic() > deadline:
            pytest.fail("the AppView never served the post")
        time.sleep(0.5)


def test_a_listened_post_is_answered_in_its_thread(owner, settings, bluesky_server, http):  # noqa: F811
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
    root = bob.publish(PostDraft(text="Where do you get coffee?", idempotency_key=key()))
    strong = {"uri": root.ref.remote_id, "cid": root.ref.extra["cid"]}
    theirs = act(  # the listened post: Bob's answer in his own thread, not to us
        bob,
        "com.atproto.repo.createRecord",
        {
            "repo": bob.did,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "Chorus café, though the queue is long",
                "reply": {"root": strong, "parent": strong},
                "createdAt": now_iso(),
            },
        },
    )
    mention = Mention.objects.create(  # as the firehose source stores it
        workspace=owner.workspace,
        network="bluesky",
        uri=theirs["uri"],
        author=bob_account.handle,
        text="Chorus café, though the queue is long",
        posted_at=timezone.now(),
    )
    conversation = boards.mention_open_in_inbox(actor=owner, mention=mention, account=account)
    assert Message.objects.get(conversation=conversation).remote_id == theirs["uri"]
    assert boards.mention_open_in_inbox(actor=owner, mention=mention, account=account) == (
        conversation
    )

    _wait_served(alice, theirs["uri"])
    reply = replies.reply_create(
        actor=owner, conversation=conversation, text="Skip the queue: order ahead!"
    )
    reply.refresh_from_db()
    assert reply.state == "sent", reply.error
    record = get_record(alice, reply.remote_id)
    assert record["reply"]["parent"] == {"uri": theirs["uri"], "cid": theirs["cid"]}
    assert record["reply"]["root"] == strong
