"""Wire-level behaviour of the Bluesky connector: XRPC error shapes, headers, pure helpers."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from chorus.networks.providers import bluesky_wire
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    Poll,
    PostDraft,
    RateBudget,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from chorus.networks.providers.bluesky import (
    Bluesky,
    build_facets,
    image_size,
    record_key_for,
    self_label_for,
)

PDS = "https://pds.example"
DID = "did:plc:abcdefghijklmnopqrstuvwx"
ACCESS = "access-token-secret"
REFRESH = "refresh-token-secret"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
XRPC = f"{PDS}/xrpc"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """The PDS; its chat proxy has no conversations unless a test mocks `getLog` etc."""
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{XRPC}/chat.bsky.convo.getLog", name="getLog").respond(
            200, json={"cursor": "log-0", "logs": []}
        )
        router.get(f"{XRPC}/chat.bsky.convo.listConvos", name="listConvos").respond(
            200, json={"convos": []}
        )
        yield router


@pytest.fixture
def provider() -> Iterator[Bluesky]:
    credentials = Credentials(
        identity={"did": DID, "handle": "brand.example", "pds_url": PDS},
        secrets={"accessJwt": ACCESS, "refreshJwt": REFRESH},
    )
    with httpx.Client() as http:
        yield Bluesky(credentials, http=http)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bluesky_wire, "now", lambda: NOW)


def error(status: int, name: str, message: str = "", **headers: str) -> httpx.Response:
    body = {"error": name, "message": message} if message else {"error": name}
    return httpx.Response(status, json=body, headers=headers)


def session_json(access: str = "new-access", refresh: str = "new-refresh") -> dict:
    return {"did": DID, "handle": "brand.example", "accessJwt": access, "refreshJwt": refresh}


def no_secrets_in(exc: BaseException) -> bool:
    return ACCESS not in str(exc) and REFRESH not in str(exc)


# --------------------------------------------------------------------------- error shapes


def test_401_is_auth_expired(api: respx.MockRouter, provider: Bluesky) -> None:
    api.get(f"{XRPC}/com.atproto.server.getSession").mock(
        return_value=error(401, "AuthenticationRequired", "Authentication Required")
    )
    with pytest.raises(AuthExpired) as caught:
        provider.verify()
    assert no_secrets_in(caught.value)
    assert "reconnect" in caught.value.message


def test_invalid_token_is_auth_expired_without_renewal(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    api.get(f"{XRPC}/com.atproto.server.getSession").mock(
        return_value=error(400, "InvalidToken", "Token could not be verified")
    )
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession")
    with pytest.raises(AuthExpired):
        provider.verify()
    assert not refresh.called


def test_expired_token_renews_once_and_repeats_the_call(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    getter = api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        side_effect=[
            error(400, "ExpiredToken", "Token has expired"),
            httpx.Response(200, json={"followersCount": 5, "followsCount": 6, "postsCount": 7}),
        ]
    )
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession").mock(
        return_value=httpx.Response(200, json=session_json())
    )
    metrics = provider.fetch_account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (5, 6, 7)
    assert refresh.call_count == 1
    assert refresh.calls[0].request.headers["Authorization"] == f"Bearer {REFRESH}"
    assert refresh.calls[0].request.content == b""
    assert getter.calls[1].request.headers["Authorization"] == "Bearer new-access"
    assert provider.credentials.secrets == {"accessJwt": "new-access", "refreshJwt": "new-refresh"}
    assert provider.credentials_changed


def test_still_expired_after_renewal_is_auth_expired_not_a_loop(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    getter = api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=error(400, "ExpiredToken", "Token has expired")
    )
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession").mock(
        return_value=httpx.Response(200, json=session_json())
    )
    with pytest.raises(AuthExpired):
        provider.fetch_account_metrics()
    assert (getter.call_count, refresh.call_count) == (2, 1)


def test_revoked_refresh_token_is_auth_expired(api: respx.MockRouter, provider: Bluesky) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=error(400, "ExpiredToken", "Token has expired")
    )
    api.post(f"{XRPC}/com.atproto.server.refreshSession").mock(
        return_value=error(400, "ExpiredToken", "Token has been revoked")
    )
    with pytest.raises(AuthExpired) as caught:
        provider.fetch_account_metrics()
    assert "revoked" in caught.value.message
    assert no_secrets_in(caught.value)
    assert not provider.credentials_changed


def test_429_uses_ratelimit_reset_and_records_the_budget(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    reset = NOW + timedelta(seconds=120)
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            **{
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(int(reset.timestamp())),
                "ratelimit-policy": "3000;w=300",
            },
        )
    )
    with pytest.raises(RateLimited) as caught:
        provider.fetch_account_metrics()
    assert caught.value.retry_after == 120
    assert provider.rate_budget == RateBudget(3000, 0, reset)


def test_429_falls_back_to_retry_after(api: respx.MockRouter, provider: Bluesky) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=error(429, "RateLimitExceeded", **{"retry-after": "42"})
    )
    with pytest.raises(RateLimited) as caught:
        provider.fetch_account_metrics()
    assert caught.value.retry_after == 42


def test_every_response_updates_the_rate_budget(api: respx.MockRouter, provider: Bluesky) -> None:
    reset = int((NOW + timedelta(minutes=5)).timestamp())
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=httpx.Response(
            200,
            json={"followersCount": 1},
            headers={
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "2999",
                "ratelimit-reset": str(reset),
            },
        )
    )
    provider.fetch_account_metrics()
    assert provider.rate_budget == RateBudget(3000, 2999, datetime.fromtimestamp(reset, UTC))


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, text="Invalid Bearer token"),
        httpx.Response(400, json={"message": "Invalid Bearer token"}),
        httpx.Response(422, json={"error": "BadToken", "message": "the access token was revoked"}),
        httpx.Response(403, text="token revoked"),
    ],
    ids=["400-plain", "400-message-only", "422-json", "403-plain"],
)
def test_token_failures_in_other_dialects_are_auth_expired(
    api: respx.MockRouter, provider: Bluesky, answer: httpx.Response
) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(return_value=answer)
    with pytest.raises(AuthExpired) as caught:
        provider.fetch_account_metrics()
    assert "oken" in caught.value.message and "reconnect" in caught.value.message
    assert no_secrets_in(caught.value)


def test_a_plain_text_refusal_keeps_the_servers_words(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=httpx.Response(400, text="actor must be a handle or a DID")
    )
    with pytest.raises(Rejected, match="actor must be a handle or a DID"):
        provider.fetch_account_metrics()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(api: respx.MockRouter, provider: Bluesky, status: int) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=error(status, "InternalServerError", "Internal Server Error")
    )
    with pytest.raises(Transient, match=f"HTTP {status}"):
        provider.fetch_account_metrics()


def test_html_error_page_is_transient(api: respx.MockRouter, provider: Bluesky) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=httpx.Response(503, text="<html>Service Unavailable</html>")
    )
    with pytest.raises(Transient, match="HTTP 503"):
        provider.fetch_account_metrics()


@pytest.mark.parametrize(
    "fault", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")], ids=["timeout", "refused"]
)
def test_network_faults_are_transient(
    api: respx.MockRouter, provider: Bluesky, fault: Exception
) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(side_effect=fault)
    with pytest.raises(Transient, match="pds.example"):
        provider.fetch_account_metrics()


def test_malformed_json_is_transient(api: respx.MockRouter, provider: Bluesky) -> None:
    api.get(f"{XRPC}/app.bsky.actor.getProfile").mock(
        return_value=httpx.Response(
            200, text='{"followersCount": 1', headers={"content-type": "application/json"}
        )
    )
    with pytest.raises(Transient, match="malformed"):
        provider.fetch_account_metrics()


def test_invalid_request_is_rejected_in_the_networks_words(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    api.post(f"{XRPC}/com.atproto.repo.createRecord").mock(
        return_value=error(
            400, "InvalidRequest", "Invalid app.bsky.feed.post record: text too long"
        )
    )
    api.get(f"{XRPC}/com.atproto.repo.getRecord").mock(
        return_value=error(400, "RecordNotFound", "Could not locate record")
    )
    with pytest.raises(Rejected, match="text too long"):
        provider.publish(PostDraft(text="x", idempotency_key="k1"))


# --------------------------------------------------------------------------- sign-in


def test_sign_in_resolves_handle_did_document_and_pds(api: respx.MockRouter) -> None:
    entryway, home = "https://entryway.example", "https://home-pds.example"
    api.get(
        f"{entryway}/xrpc/com.atproto.identity.resolveHandle", params={"handle": "me.example"}
    ).mock(return_value=httpx.Response(200, json={"did": DID}))
    api.get(f"https://plc.directory/{DID}").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": DID,
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": home,
                    }
                ],
            },
        )
    )
    create = api.post(f"{home}/xrpc/com.atproto.server.createSession").mock(
        return_value=httpx.Response(
            200, json={**session_json(ACCESS, REFRESH), "handle": "me.example"}
        )
    )
    with httpx.Client() as http:
        credentials = Bluesky.sign_in("@Me.Example", "app-pass", service_url=entryway, http=http)
    assert json.loads(create.calls[0].request.content) == {
        "identifier": DID,
        "password": "app-pass",
    }
    assert credentials.identity == {"did": DID, "handle": "me.example", "pds_url": home}
    assert credentials.secrets == {"accessJwt": ACCESS, "refreshJwt": REFRESH}


def _direct_sign_in(api: respx.MockRouter, answer: httpx.Response) -> None:
    api.post(f"{PDS}/xrpc/com.atproto.server.createSession").mock(return_value=answer)
    api.get(f"https://plc.directory/{DID}").mock(
        return_value=httpx.Response(
            200, json={"service": [{"id": "#atproto_pds", "serviceEndpoint": PDS}]}
        )
    )
    with httpx.Client() as http:
        Bluesky.sign_in(DID, "pw", service_url=PDS, http=http)


def test_wrong_password_is_rejected_not_auth_expired(api: respx.MockRouter) -> None:
    answer = error(401, "AuthenticationRequired", "Invalid identifier or password")
    with pytest.raises(Rejected, match="wrong handle or app password"):
        _direct_sign_in(api, answer)


def test_email_code_accounts_are_told_to_use_an_app_password(api: respx.MockRouter) -> None:
    answer = error(401, "AuthFactorTokenRequired", "A sign in code has been sent")
    with pytest.raises(Rejected, match="app password"):
        _direct_sign_in(api, answer)


# --------------------------------------------------------------------------- publishing


def test_poll_is_rejected_before_any_request(api: respx.MockRouter, provider: Bluesky) -> None:
    with pytest.raises(Rejected, match="no polls"):
        provider.publish(PostDraft(text="?", idempotency_key="k", poll=Poll(("a", "b"))))
    assert not api.calls


def test_duplicate_create_returns_the_existing_post(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    rkey = record_key_for("same-key")
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    create = api.post(f"{XRPC}/com.atproto.repo.createRecord").mock(
        return_value=error(500, "InternalServerError", "Internal Server Error")
    )
    api.get(f"{XRPC}/com.atproto.repo.getRecord").mock(
        return_value=httpx.Response(
            200,
            json={
                "uri": uri,
                "cid": "bafy-existing",
                "value": {"text": "hi", "createdAt": "2026-01-01T00:00:00.000Z"},
            },
        )
    )
    published = provider.publish(PostDraft(text="hi", idempotency_key="same-key"))
    assert json.loads(create.calls[0].request.content)["rkey"] == rkey
    assert published.ref == RemoteRef(
        remote_id=uri,
        url=f"https://bsky.app/profile/brand.example/post/{rkey}",
        extra={"cid": "bafy-existing", "root_uri": uri, "root_cid": "bafy-existing"},
    )
    assert published.published_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_find_published_reads_the_drafts_record_key(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    rkey = record_key_for("k")
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    get = api.get(f"{XRPC}/com.atproto.repo.getRecord").mock(
        side_effect=[
            httpx.Response(200, json={"uri": uri, "cid": "bafy1", "value": {"text": "hi"}}),
            error(400, "RecordNotFound", "Could not locate record"),
        ]
    )
    draft = PostDraft(text="hi", idempotency_key="k")
    found = provider.find_published(draft, since=NOW)
    assert found is not None and found.ref.remote_id == uri
    assert get.calls[0].request.url.params["rkey"] == rkey
    assert provider.find_published(draft, since=NOW) is None


def test_failed_create_without_a_record_stays_transient(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    api.post(f"{XRPC}/com.atproto.repo.createRecord").mock(
        return_value=error(503, "NotEnoughResources")
    )
    api.get(f"{XRPC}/com.atproto.repo.getRecord").mock(
        return_value=error(400, "RecordNotFound", "Could not locate record")
    )
    with pytest.raises(Transient, match="HTTP 503"):
        provider.publish(PostDraft(text="hi", idempotency_key="k2"))


# --------------------------------------------------------------------------- interactions


def notification(uri: str, reason: str, at: str, **extra: object) -> dict:
    return {
        "uri": uri,
        "cid": "bafy",
        "author": {"did": "did:plc:other", "handle": "fan.example", "displayName": "Fan"},
        "reason": reason,
        "reasonSubject": f"at://{DID}/app.bsky.feed.post/3kpost",
        "record": {"text": "nice", "createdAt": at},
        "isRead": False,
        "indexedAt": at,
        **extra,
    }


def test_cursor_returns_only_new_items_even_when_indexed_late(
    api: respx.MockRouter, provider: Bluesky
) -> None:
    like = notification("at://did:plc:other/app.bsky.feed.like/1", "like", "2026-01-02T03:00:00Z")
    reply = notification("at://did:plc:other/app.bsky.feed.post/2", "reply", "2026-01-02T03:01:00Z")
    late = notification(
        "at://did:plc:other/app.bsky.feed.post/3", "mention", "2026-01-02T03:00:30Z"
    )
    route = api.get(f"{XRPC}/app.bsky.notification.listNotifications").mock(
        side_effect=[
            httpx.Response(200, json={"notifications": [reply, like]}),
            httpx.Response(200, json={"notifications": [reply, late, like]}),
            httpx.Response(200, json={"notifications": [reply, late, like]}),
        ]
    )
    first = provider.fetch_interactions()
    assert [(i.kind, i.author_handle) for i in first.items] == [
        ("like", "fan.example"),
        ("reply", "fan.example"),
    ]
    second = provider.fetch_interactions(first.cursor)
    assert [i.remote_id for i in second.items] == [late["uri"]]
    assert second.items[0].subject is None  # a mention answers none of our posts
    third = provider.fetch_interactions(second.cursor)
    assert third.items == ()
    assert "cursor" not in route.calls[0].request.url.params


def test_reply_interaction_fields(api: respx.MockRouter, provider: Bluesky) -> None:
    root = f"at://{DID}/app.bsky.feed.post/3kroot"
    item = notification(
        "at://did:plc:other/app.bsky.feed.post/3kreply",
        "reply",
        "2026-01-02T03:00:00.123Z",
        record={"text": "ขอบคุณ", "reply": {"root": {"uri": root}, "parent": {"uri": root}}},
    )
    item["author"]["avatar"] = "https://cdn.example/a.jpg"
    skipped = notification(
        "at://x/app.bsky.feed.like/9", "starterpack-joined", "2026-01-02T03:00:00Z"
    )
    api.get(f"{XRPC}/app.bsky.notification.listNotifications").mock(
        return_value=httpx.Response(200, json={"notifications": [item, skipped]})
    )
    (reply,) = provider.fetch_interactions().items
    assert reply.kind == "reply"
    assert reply.text == "ขอบคุณ"
    assert reply.author_name == "Fan"
    assert reply.author_avatar_url == "https://cdn.example/a.jpg"
    assert reply.url == "https://bsky.app/profile/fan.example/post/3kreply"
    assert reply.conversation_id == root
    assert reply.created_at == datetime(2026, 1, 2, 3, 0, 0, 123000, tzinfo=UTC)
    assert reply.subject == RemoteRef(
        f"at://{DID}/app.bsky.feed.post/3kpost",
        url="https://bsky.app/profile/brand.example/post/3kpost",
    )


# --------------------------------------------------------------------------- pure helpers


def test_facet_byte_offsets_are_utf8() -> None:
    text = "ภาษาไทย 🇹🇭 @bob.test សួស្តី https://example.com/ខ្មែរ #แท็ก 👩🏽‍💻 #chorus!"
    facets = build_facets(text, lambda handle: "did:plc:bob" if handle == "bob.test" else None)
    encoded = text.encode("utf-8")
    covered = [
        (
            encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"),
            f["features"][0],
        )
        for f in facets
    ]
    assert covered == [
        ("@bob.test", {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}),
        (
            "https://example.com/ខ្មែរ",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/ខ្មែរ"},
        ),
        ("#แท็ก", {"$type": "app.bsky.richtext.facet#tag", "tag": "แท็ก"}),
        ("#chorus", {"$type": "app.bsky.richtext.facet#tag", "tag": "chorus"}),
    ]
    # "ภาษาไทย 🇹🇭 " is 7 Thai letters (3 bytes each), 2 spaces and a flag (8 bytes).
    assert facets[0]["index"] == {"byteStart": 31, "byteEnd": 40}


def test_unresolvable_mentions_stay_plain_text() -> None:
    assert build_facets("hi @ghost.test", lambda handle: None) == []


def test_record_key_is_a_stable_tid_per_idempotency_key() -> None:
    tid = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
    keys = {record_key_for(f"draft-{n}") for n in range(500)}
    assert len(keys) == 500
    assert all(tid.match(k) for k in keys)
    assert record_key_for("draft-1") == record_key_for("draft-1")


@pytest.mark.parametrize(
    ("warning", "label"),
    [
        ("Spoilers", "graphic-media"),
        ("Blood and gore", "graphic-media"),
        ("NSFW", "sexual"),
        ("Artistic nudity", "nudity"),
    ],
)
def test_content_warnings_map_to_valid_self_labels(warning: str, label: str) -> None:
    assert self_label_for(warning) == label


def test_image_sizes_from_headers() -> None:
    png_header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 640, 480)
    gif_header = b"GIF89a" + struct.pack("<HH", 32, 16)
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00" * 2
        + b"\x00\x00\x00\x00"
        + b"\xff\xc0"
        + struct.pack(">HBHH", 17, 8, 300, 400)
        + b"\x03"
    )
    webp = (
        b"RIFF\x00\x00\x00\x00WEBPVP8X"
        + b"\x00" * 8
        + (99).to_bytes(3, "little")
        + (49).to_bytes(3, "little")
    )
    assert image_size(png_header) == (640, 480)
    assert image_size(gif_header) == (32, 16)
    assert image_size(jpeg) == (400, 300)
    assert image_size(webp) == (100, 50)
    assert image_size(b"not an image") is None
