"""The Bluesky connector against a real AT Protocol network (Bluesky's own dev-env).

The AppView indexes the PDS's firehose asynchronously, so reads that go through it
(notifications, counts, feeds) are polled with a bounded wait before asserting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from tests.servers.bluesky_server import BlueskyAccount, BlueskyTestServer

from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    Poll,
    PostDraft,
    Rejected,
    RemoteRef,
)
from chorus.networks.providers.bluesky import Bluesky, split_at_uri

T = TypeVar("T")
WAIT_SECONDS = 60.0


def png(width: int, height: int) -> bytes:
    """A real RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def eventually(probe: Callable[[], T | None], what: str) -> T:
    """Poll `probe` until it returns something truthy; fail after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.25)


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as client:
        yield client


def sign_in(server: BlueskyTestServer, account: BlueskyAccount, http: httpx.Client) -> Bluesky:
    credentials = Bluesky.sign_in(
        account.handle,
        account.password,
        service_url=server.pds_url,
        http=http,
        plc_url=server.plc_url,
    )
    return Bluesky(credentials, http=http)


@pytest.fixture
def alice(bluesky_server: BlueskyTestServer, http: httpx.Client) -> Bluesky:
    return sign_in(bluesky_server, bluesky_server.accounts[0], http)


@pytest.fixture
def bob(bluesky_server: BlueskyTestServer, http: httpx.Client) -> Bluesky:
    return sign_in(bluesky_server, bluesky_server.accounts[1], http)


def get_record(provider: Bluesky, uri: str) -> dict[str, Any] | None:
    """The stored record as the PDS holds it (not through our provider's mapping)."""
    repo, collection, rkey = split_at_uri(uri)
    response = provider.http.get(
        f"{provider.pds_url}/xrpc/com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
    )
    if response.status_code == 400 and response.json().get("error") == "RecordNotFound":
        return None
    response.raise_for_status()
    return response.json()["value"]


def act(provider: Bluesky, nsid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A raw write as `provider`'s account (what another Bluesky app would do)."""
    response = provider.http.post(
        f"{provider.pds_url}/xrpc/{nsid}",
        json=body,
        headers={"Authorization": f"Bearer {provider.credentials.secrets['accessJwt']}"},
    )
    response.raise_for_status()
    return response.json()


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def forge_expired(token: str, secret: str) -> str:
    """The same access token, expired an hour ago, signed as the dev PDS signs sessions."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


# --------------------------------------------------------------------------- connect


def test_sign_in_finds_the_pds_through_the_plc_and_verifies(
    bluesky_server: BlueskyTestServer, alice: Bluesky
) -> None:
    account = bluesky_server.accounts[0]
    assert alice.credentials.identity == {
        "did": account.did,
        "handle": account.handle,
        "pds_url": bluesky_server.pds_url,
        "plc_url": bluesky_server.plc_url,
    }
    assert set(alice.credentials.secrets) == {"accessJwt", "refreshJwt"}
    identity = alice.verify()
    assert identity.remote_id == account.did
    assert identity.handle == account.handle
    assert identity.profile_url == f"https://bsky.app/profile/{account.handle}"


def test_wrong_password_is_rejected(bluesky_server: BlueskyTestServer, http: httpx.Client) -> None:
    account = bluesky_server.accounts[0]
    with pytest.raises(Rejected, match="wrong handle or app password"):
        Bluesky.sign_in(
            account.handle,
            "not-the-password",
            service_url=bluesky_server.pds_url,
            http=http,
            plc_url=bluesky_server.plc_url,
        )


def test_unknown_handle_is_rejected(bluesky_server: BlueskyTestServer, http: httpx.Client) -> None:
    with pytest.raises(Rejected, match="nobody-here.test"):
        Bluesky.sign_in(
            "nobody-here.test",
            "whatever",
            service_url=bluesky_server.pds_url,
            http=http,
            plc_url=bluesky_server.plc_url,
        )


def test_garbage_token_is_auth_expired(alice: Bluesky) -> None:
    alice.credentials.secrets["accessJwt"] = "not-a-token"
    with pytest.raises(AuthExpired):
        alice.verify()
    assert not alice.credentials_changed


def test_expired_token_renews_the_session_once(
    bluesky_server: BlueskyTestServer, alice: Bluesky
) -> None:
    old_refresh = alice.credentials.secrets["refreshJwt"]
    expired = forge_expired(alice.credentials.secrets["accessJwt"], bluesky_server.jwt_secret)
    alice.credentials.secrets["accessJwt"] = expired
    assert alice.verify().remote_id == bluesky_server.accounts[0].did
    assert alice.credentials_changed
    assert alice.credentials.secrets["accessJwt"] != expired
    assert alice.credentials.secrets["refreshJwt"] != old_refresh


def test_revoked_session_is_auth_expired(bluesky_server: BlueskyTestServer, alice: Bluesky) -> None:
    secrets = alice.credentials.secrets
    response = alice.http.post(
        f"{alice.pds_url}/xrpc/com.atproto.server.deleteSession",
        headers={"Authorization": f"Bearer {secrets['refreshJwt']}"},
    )
    response.raise_for_status()
    secrets["accessJwt"] = forge_expired(secrets["accessJwt"], bluesky_server.jwt_secret)
    with pytest.raises(AuthExpired):
        alice.verify()
    with pytest.raises(AuthExpired):
        alice.refresh()


# --------------------------------------------------------------------------- publishing


def test_publish_rich_text_and_image(bluesky_server: BlueskyTestServer, alice: Bluesky) -> None:
    bob = bluesky_server.accounts[1]
    text = (
        f"สวัสดีครับ 🇹🇭 @{bob.handle} ดู https://example.com/ทดสอบ?q=1 แล้ว #ภาษาไทย "
        "សួស្តី #ខ្មែរ 👩🏽‍💻 #chorus"
    )
    image = png(30, 20)
    draft = PostDraft(
        text=text,
        idempotency_key=key(),
        media=(Media(image, "image/png", alt_text="ช้างสีส้ม an orange elephant"),),
        language="th",
    )
    published = alice.publish(draft)

    uri = published.ref.remote_id
    _, collection, rkey = split_at_uri(uri)
    assert collection == "app.bsky.feed.post"
    assert published.ref.url == f"https://bsky.app/profile/{alice.handle}/post/{rkey}"
    assert published.ref.extra["root_uri"] == uri
    assert published.ref.extra["root_cid"] == published.ref.extra["cid"]

    record = get_record(alice, uri)
    assert record is not None
    assert record["text"] == text
    assert record["langs"] == ["th"]
    encoded = text.encode("utf-8")
    spans = {}
    for facet in record["facets"]:
        feature = facet["features"][0]
        covered = encoded[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode("utf-8")
        spans[covered] = feature
    assert spans == {
        f"@{bob.handle}": {"$type": "app.bsky.richtext.facet#mention", "did": bob.did},
        "https://example.com/ทดสอบ?q=1": {
            "$type": "app.bsky.richtext.facet#link",
            "uri": "https://example.com/ทดสอบ?q=1",
        },
        "#ภาษาไทย": {"$type": "app.bsky.richtext.facet#tag", "tag": "ภาษาไทย"},
        "#ខ្មែរ": {"$type": "app.bsky.richtext.facet#tag", "tag": "ខ្មែរ"},
        "#chorus": {"$type": "app.bsky.richtext.facet#tag", "tag": "chorus"},
    }
    (stored,) = record["embed"]["images"]
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert stored["alt"] == "ช้างสีส้ม an orange elephant"
    assert stored["aspectRatio"] == {"width": 30, "height": 20}
    assert stored["image"]["mimeType"] == "image/png"
    assert stored["image"]["size"] == len(image)


def test_link_without_images_gets_a_card_and_warning_gets_a_label(alice: Bluesky) -> None:
    published = alice.publish(
        PostDraft(
            text="Read the release notes",
            idempotency_key=key(),
            link="https://example.org/notes",
            content_warning="Spoilers for the finale",
        )
    )
    record = get_record(alice, published.ref.remote_id)
    assert record is not None
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://example.org/notes",
            "title": "https://example.org/notes",
            "description": "",
        },
    }
    assert record["labels"] == {
        "$type": "com.atproto.label.defs#selfLabels",
        "values": [{"val": "graphic-media"}],
    }


def test_polls_are_rejected(alice: Bluesky) -> None:
    draft = PostDraft(text="Tea or coffee?", idempotency_key=key(), poll=Poll(("Tea", "Coffee")))
    with pytest.raises(Rejected, match="no polls"):
        alice.publish(draft)


def test_too_long_text_is_rejected_with_the_networks_words(alice: Bluesky) -> None:
    with pytest.raises(Rejected, match="maximum 300"):
        alice.publish(PostDraft(text="ก" * 301, idempotency_key=key()))


def test_thread_of_three(alice: Bluesky) -> None:
    first = alice.publish(PostDraft(text="1/3 a thread", idempotency_key=key()))
    second = alice.publish(PostDraft(text="2/3 goes on", idempotency_key=key(), reply_to=first.ref))
    # A bare reference (no CIDs, as an inbox item gives) is completed through the AppView.
    eventually(lambda: alice.fetch_post_metrics([second.ref]), "the AppView to index part 2")
    third = alice.publish(
        PostDraft(
            text="3/3 the end", idempotency_key=key(), reply_to=RemoteRef(second.ref.remote_id)
        )
    )

    root = {"uri": first.ref.remote_id, "cid": first.ref.extra["cid"]}
    assert get_record(alice, second.ref.remote_id)["reply"] == {"root": root, "parent": root}
    assert get_record(alice, third.ref.remote_id)["reply"] == {
        "root": root,
        "parent": {"uri": second.ref.remote_id, "cid": second.ref.extra["cid"]},
    }
    assert third.ref.extra["root_uri"] == first.ref.remote_id
    assert third.ref.extra["root_cid"] == first.ref.extra["cid"]


@pytest.mark.parametrize("with_image", [False, True], ids=["text", "image"])
def test_retrying_a_publish_never_duplicates(alice: Bluesky, with_image: bool) -> None:
    text = f"only once {uuid.uuid4().hex[:8]}"
    media = (Media(png(4, 4), "image/png", alt_text="a square"),) if with_image else ()
    draft = PostDraft(text=text, idempotency_key=key(), media=media)
    first = alice.publish(draft)
    again = alice.publish(draft)
    assert again.ref == first.ref
    assert again.published_at == first.published_at

    def feed_has_it() -> list[dict[str, Any]]:
        response = alice.http.get(
            f"{alice.pds_url}/xrpc/app.bsky.feed.getAuthorFeed",
            params={"actor": alice.did, "limit": 100},
            headers={"Authorization": f"Bearer {alice.credentials.secrets['accessJwt']}"},
        )
        response.raise_for_status()
        items = [i for i in response.json()["feed"] if i["post"]["record"]["text"] == text]
        return items

    assert len(eventually(feed_has_it, "the post in the author feed")) == 1


def test_delete_and_delete_again(alice: Bluesky) -> None:
    published = alice.publish(PostDraft(text="short-lived", idempotency_key=key()))
    assert get_record(alice, published.ref.remote_id) is not None
    alice.delete(published.ref)
    assert get_record(alice, published.ref.remote_id) is None
    alice.delete(published.ref)  # already gone: not an error


# --------------------------------------------------------------------------- reading


def test_replies_and_likes_reach_the_inbox_and_the_counts(
    bluesky_server: BlueskyTestServer, alice: Bluesky, bob: Bluesky
) -> None:
    post = alice.publish(PostDraft(text="What do you think?", idempotency_key=key()))
    baseline = alice.fetch_interactions()
    # Bob answers a post he has seen: the AppView indexes repos in parallel, and a reply
    # indexed in the same instant as its parent gets no notification.
    eventually(lambda: alice.fetch_post_metrics([post.ref]), "the AppView to index the post")
    strong = {"uri": post.ref.remote_id, "cid": post.ref.extra["cid"]}
    reply = act(
        bob,
        "com.atproto.repo.createRecord",
        {
            "repo": bob.did,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "Looks great 👍",
                "reply": {"root": strong, "parent": strong},
                "createdAt": now_iso(),
            },
        },
    )
    like = act(
        bob,
        "com.atproto.repo.createRecord",
        {
            "repo": bob.did,
            "collection": "app.bsky.feed.like",
            "record": {"$type": "app.bsky.feed.like", "subject": strong, "createdAt": now_iso()},
        },
    )
    wanted = {reply["uri"], like["uri"]}

    def both_arrived():
        page = alice.fetch_interactions(baseline.cursor)
        return page if wanted <= {i.remote_id for i in page.items} else None

    page = eventually(both_arrived, "the reply and the like in the notifications")
    by_id = {item.remote_id: item for item in page.items}
    got_reply, got_like = by_id[reply["uri"]], by_id[like["uri"]]
    assert (got_reply.kind, got_like.kind) == ("reply", "like")
    assert got_reply.author_handle == got_like.author_handle == bob.handle
    assert got_reply.text == "Looks great 👍"
    assert got_reply.subject is not None and got_reply.subject.remote_id == post.ref.remote_id
    assert got_like.subject is not None and got_like.subject.remote_id == post.ref.remote_id
    assert got_reply.conversation_id == post.ref.remote_id
    assert got_reply.url.startswith(f"https://bsky.app/profile/{bob.handle}/post/")

    assert alice.fetch_interactions(page.cursor).items == ()

    act(
        bob,
        "com.atproto.repo.createRecord",
        {
            "repo": bob.did,
            "collection": "app.bsky.graph.follow",
            "record": {
                "$type": "app.bsky.graph.follow",
                "subject": alice.did,
                "createdAt": now_iso(),
            },
        },
    )
    later = eventually(
        lambda: alice.fetch_interactions(page.cursor).items, "the follow in the notifications"
    )
    assert [(i.kind, i.author_handle) for i in later] == [("follow", bob.handle)]

    def counted():
        (metrics,) = alice.fetch_post_metrics([post.ref])
        return metrics if (metrics.likes, metrics.replies) == (1, 1) else None

    metrics = eventually(counted, "likeCount 1 and replyCount 1")
    assert (metrics.reposts, metrics.quotes) == (0, 0)
    assert metrics.ref == post.ref

    account = alice.fetch_account_metrics()
    assert account.followers >= 1
    assert account.posts >= 1
