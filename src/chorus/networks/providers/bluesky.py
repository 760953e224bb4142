"""Bluesky connector: plain XRPC over httpx against the account's own PDS.

Connecting resolves the handle to a DID (on the entryway or the given service), reads the
DID document (from the PLC directory, or `/.well-known/did.json` for did:web) to find the
account's PDS, and opens a session there with an app password. Every later call goes to
that PDS; it proxies `app.bsky.*` reads to the AppView by default, so no `atproto-proxy`
header is sent. Accounts connected with OAuth (`identity["auth"] == "oauth"`, see
`bluesky_oauth`) send the same calls with a DPoP-bound token and proof instead. When a
call answers `ExpiredToken` the session is renewed once and the
call repeated once (that is session renewal, not a retry policy).

Idempotent publishing. The post's record key is a TID derived from the draft's idempotency
key, so a second `createRecord` for the same draft hits the existing record: the PDS then
refuses it (currently with HTTP 500), we read the record at that key and, if it is there,
return it as the published post. The TID's timestamp part comes from the hash too (within
2023, as the key carries no time), so record keys do not sort by posting time; Bluesky's
feeds sort by `createdAt`, which is the real time of the first attempt.

Content warnings become self-labels, the only kind Bluesky has. Its apps offer four values;
Chorus maps the warning text to `nudity` or `sexual` when it names those, and to
`graphic-media` (the general "may be upsetting" label) otherwise.

Interactions come from `app.bsky.notification.listNotifications` (see `bluesky_inbox` for
its cursor, which has no "newer than" and so keeps the URIs seen near the newest date) and
from the chat service's log for direct messages (`bluesky_chat`), both in one opaque
cursor; thread context from `app.bsky.feed.getPostThread`. Record building (keys, facets,
labels, image sizes) lives in `bluesky_records`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import bluesky_oauth as oauth
from . import bluesky_public as public
from . import bluesky_wire
from .base import (
    AccountGone,
    AccountIdentity,
    AccountMetrics,
    AuthExpired,
    Credentials,
    Interaction,
    InteractionPage,
    Limits,
    Media,
    PasswordSignIn,
    PostDraft,
    PostMetrics,
    Provider,
    ProviderError,
    PublicPost,
    PublicProfile,
    PublishedPost,
    Rejected,
    RemoteRef,
    Transient,
)
from .bluesky_chat import CHAT_SERVICE, Chat, chat_refusal
from .bluesky_inbox import (
    NOT_FOUND_POST,
    decode_cursor,
    encode_cursor,
    gone,
    notification_interaction,
    post_url,
    profile_url,
    split_at_uri,
    thread_items,
)
from .bluesky_inbox import iso as _iso
from .bluesky_inbox import parse_time as _parse_time
from .bluesky_records import build_facets, image_size, record_key_for, self_label_for
from .bluesky_wire import (
    body_of,
    pds_from_did,
    raise_for_status,
    rate_budget,
    resolve_handle,
    xrpc_call,
    xrpc_error,
    xrpc_url,
)
from .wire import send

DEFAULT_SERVICE_URL = "https://bsky.social"
DEFAULT_PLC_URL = "https://plc.directory"
POST_COLLECTION = "app.bsky.feed.post"

_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs
_WRONG_PASSWORD = "wrong handle or app password"


# --------------------------------------------------------------------------- provider


class Bluesky(PasswordSignIn, oauth.BlueskyOAuthSignIn, Provider):
    """One Bluesky account, acting through its PDS with an OAuth (DPoP) or app-password
    session: `identity["auth"] == "oauth"` for the first (see `bluesky_oauth`)."""

    key = "bluesky"
    name = "Bluesky"
    auth_kind = "app_password"
    limits = Limits(
        max_text=300,  # app.bsky.feed.post text: maxGraphemes 300 ...
        max_text_bytes=3000,  # ... and maxLength 3000 (UTF-8 bytes)
        text_counting="graphemes",
        max_media=4,
        media_types=("image/jpeg", "image/png", "image/webp", "image/gif"),
        max_image_bytes=2_000_000,  # app.bsky.embed.images#image maxSize (was 1,000,000)
        max_alt_text=2000,  # the Bluesky app's cap; the lexicon sets none
        supports_polls=False,
        supports_threads=True,
        supports_content_warning=True,
        supports_direct_messages=True,
        rate_limit_note=(
            "Bluesky's PDS allows 5,000 write points an hour and 35,000 a day per account "
            "(a post or like costs 3, an edit 2, a delete 1: about 1,666 posts an hour), "
            "3,000 requests per 5 minutes per IP address, and 30 sign-ins per 5 minutes "
            "(300 a day) per account."
        ),
        server_budget=(2700, 300),  # 90% of the PDS's per-IP 3,000: room for other calls
    )
    page_size = 50
    max_pages = 10
    overlap = timedelta(minutes=5)

    # ------------------------------------------------------------------ connect

    @classmethod
    def sign_in(
        cls,
        identifier: str,
        password: str,
        *,
        service_url: str = "",
        http: httpx.Client,
        plc_url: str = "",
        handle_resolver: str = "",
    ) -> Credentials:
        """Find the account's PDS through its DID document, then open a session there.

        `plc_url` and `handle_resolver` (the service that resolves handles when none is
        typed) are for private networks that run their own PLC directory.
        """
        service = (service_url or handle_resolver or DEFAULT_SERVICE_URL).strip().rstrip("/")
        plc = (plc_url or DEFAULT_PLC_URL).strip().rstrip("/")
        identifier = identifier.strip().removeprefix("@")
        if not identifier or not password:
            raise Rejected("enter the Bluesky handle and an app password")
        if identifier.startswith("did:"):
            did = identifier
        elif "@" in identifier:  # an email address: only the entryway can look it up
            did = ""
        else:
            identifier = identifier.lower()
            did = resolve_handle(http, service, identifier)
        pds = pds_from_did(http, did, plc) if did else service
        response = xrpc_call(
            http,
            pds,
            "com.atproto.server.createSession",
            body={"identifier": did or identifier, "password": password},
        )
        name, message = xrpc_error(response)
        if name == "AuthFactorTokenRequired":
            raise Rejected("this account asks for an email code: sign in with an app password")
        if response.status_code == 401 or name == "AuthenticationRequired":
            raise Rejected(f"Bluesky says: {_WRONG_PASSWORD}")
        if name in ("AccountTakedown", "AccountDeactivated"):
            raise Rejected(f"Bluesky refused the sign-in: {message or name}")
        raise_for_status(response)
        session = body_of(response)
        did = str(session.get("did") or did)
        if not did or not session.get("accessJwt") or not session.get("refreshJwt"):
            raise Transient("Bluesky sent an incomplete session")
        if pds == service and "@" in identifier:
            pds = pds_from_did(http, did, plc)
        identity = {"did": did, "handle": str(session.get("handle") or identifier), "pds_url": pds}
        if plc != DEFAULT_PLC_URL:
            identity["plc_url"] = plc
        return Credentials(
            identity=identity,
            secrets={
                "accessJwt": str(session["accessJwt"]),
                "refreshJwt": str(session["refreshJwt"]),
            },
        )

    # ------------------------------------------------------------------ plumbing

    @classmethod
    def did_of_handle(cls, http: httpx.Client, handle: str, resolver: str) -> str:
        return resolve_handle(http, (resolver or DEFAULT_SERVICE_URL).rstrip("/"), handle)

    @classmethod
    def pds_of_did(cls, http: httpx.Client, did: str, plc_url: str) -> str:
        return pds_from_did(http, did, plc_url or DEFAULT_PLC_URL)

    @property
    def oauth_session(self) -> oauth.OAuthSession | None:
        """The DPoP session of an OAuth-connected account; None for app passwords."""
        if self.credentials.identity.get("auth") != "oauth":
            return None
        if getattr(self, "_oauth_session", None) is None:
            self._oauth_session = oauth.OAuthSession(self.credentials, self.http)
        return self._oauth_session

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(str(identity.get("pds_url", ""))).netloc

    @property
    def did(self) -> str:
        return str(self.credentials.identity["did"])

    @property
    def handle(self) -> str:
        return str(self.credentials.identity.get("handle") or self.did)

    @property
    def pds_url(self) -> str:
        return str(self.credentials.identity["pds_url"])

    def _note_budget(self, response: httpx.Response) -> None:
        budget = rate_budget(response.headers)
        if budget is not None:
            self.rate_budget = budget

    def _xrpc(
        self,
        nsid: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        upload: Media | None = None,
    ) -> dict[str, Any]:
        """An authenticated call; on `ExpiredToken` renew the session and repeat it once."""
        response = self._xrpc_response(nsid, params=params, body=body, upload=upload)
        raise_for_status(response)
        return body_of(response)

    def _xrpc_response(
        self,
        nsid: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        upload: Media | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        call = {"params": params, "body": body, "upload": upload, "headers": headers}
        response = self._authorized(nsid, **call)
        session = self.oauth_session
        expired = (
            session.token_expired(response)
            if session
            else response.status_code in (400, 401) and xrpc_error(response)[0] == "ExpiredToken"
        )
        if expired:
            self.refresh()
            response = self._authorized(nsid, **call)
        return response

    def chat_call(
        self, nsid: str, *, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A `chat.bsky.*` call, proxied by the PDS to the chat service (see bluesky_chat)."""
        service = str(self.credentials.identity.get("chat_service") or CHAT_SERVICE)
        response = self._xrpc_response(
            nsid, params=params, body=body, headers={"atproto-proxy": service}
        )
        chat_refusal(response, xrpc_error(response))
        raise_for_status(response)
        return body_of(response)

    def _authorized(
        self,
        nsid: str,
        *,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        upload: Media | None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url, extra = xrpc_url(self.pds_url, nsid), dict(headers or {})
        if upload is not None:
            method, call = "POST", {"content": upload.data}
            extra["Content-Type"] = upload.mime_type
        elif body is not None:
            method, call = "POST", {"json": body}
        else:
            method, call = "GET", {"params": params}
        session = self.oauth_session
        if session is not None:
            response = session.send(method, url, headers=extra, **call)
        else:
            extra["Authorization"] = f"Bearer {self.credentials.secrets.get('accessJwt', '')}"
            response = send(self.http, method, url, headers=extra, **call)
        self._note_budget(response)
        return response

    def refresh(self) -> None:
        if self.oauth_session is not None:
            self.oauth_session.refresh()
            self.credentials_changed = True
            return
        token = self.credentials.secrets.get("refreshJwt", "")
        if not token:
            raise AuthExpired("this Bluesky connection has no session to renew; reconnect it")
        response = xrpc_call(
            self.http,
            self.pds_url,
            "com.atproto.server.refreshSession",
            procedure=True,
            token=token,
        )
        self._note_budget(response)
        raise_for_status(response)
        session = body_of(response)
        if not session.get("accessJwt") or not session.get("refreshJwt"):
            raise Transient("Bluesky sent an incomplete session")
        self.credentials.secrets.update(
            accessJwt=str(session["accessJwt"]), refreshJwt=str(session["refreshJwt"])
        )
        if isinstance(session.get("handle"), str):
            self.credentials.identity["handle"] = session["handle"]
        self.credentials_changed = True

    # ------------------------------------------------------------------ account

    def verify(self) -> AccountIdentity:
        session = self._xrpc("com.atproto.server.getSession")
        if session.get("did") != self.did:
            raise AuthExpired("this Bluesky session belongs to another account; reconnect it")
        handle = str(session.get("handle") or self.handle)
        if handle != self.credentials.identity.get("handle"):
            self.credentials.identity["handle"] = handle
            self.credentials_changed = True
        try:
            profile = self._xrpc("app.bsky.actor.getProfile", params={"actor": self.did})
        except Rejected:  # a brand-new account the AppView has not indexed yet
            profile = {}
        return AccountIdentity(
            remote_id=self.did,
            handle=handle,
            display_name=str(profile.get("displayName") or ""),
            avatar_url=str(profile.get("avatar") or ""),
            profile_url=profile_url(handle),
        )

    def fetch_account_metrics(self) -> AccountMetrics:
        profile = self._xrpc("app.bsky.actor.getProfile", params={"actor": self.did})
        return AccountMetrics(
            followers=int(profile.get("followersCount") or 0),
            following=int(profile.get("followsCount") or 0),
            posts=int(profile.get("postsCount") or 0),
        )

    # ------------------------------------------------------------------ publishing

    def publish(self, draft: PostDraft) -> PublishedPost:
        self._check_draft(draft)
        rkey = record_key_for(draft.idempotency_key)
        existing = self._get_post(rkey) if draft.media else None
        if existing is not None:  # a retry after the post went through: skip the uploads
            return self._published(existing)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": draft.text,
            "createdAt": _iso(bluesky_wire.now()),
        }
        facets = build_facets(draft.text, self._did_for_handle)
        if facets:
            record["facets"] = facets
        if draft.language:
            record["langs"] = [draft.language]
        if draft.reply_to is not None:
            record["reply"] = self._reply_refs(draft.reply_to)
        if draft.media:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [self._image(media) for media in draft.media],
            }
        elif draft.link:
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": draft.link, "title": draft.link, "description": ""},
            }
        if draft.content_warning.strip():
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": self_label_for(draft.content_warning)}],
            }
        try:
            created = self._xrpc(
                "com.atproto.repo.createRecord",
                body={
                    "repo": self.did,
                    "collection": POST_COLLECTION,
                    "rkey": rkey,
                    "record": record,
                },
            )
        except (Rejected, Transient) as failure:
            # The PDS refuses a second create at the same key: was this a retry?
            try:
                existing = self._get_post(rkey)
            except ProviderError:
                existing = None
            if existing is None:
                raise failure from None
            return self._published(existing)
        return self._published({**created, "value": record})

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        """The record at the draft's deterministic key, if an earlier attempt made it."""
        existing = self._get_post(record_key_for(draft.idempotency_key))
        if existing is None or str(existing["uri"]) in exclude:
            return None
        return self._published(existing)

    def _check_draft(self, draft: PostDraft) -> None:
        if draft.poll is not None:
            raise Rejected("Bluesky has no polls: remove the poll to post there")
        if draft.visibility != "public":
            raise Rejected("Bluesky posts are always public")
        if len(draft.media) > self.limits.max_media:
            raise Rejected(f"Bluesky takes at most {self.limits.max_media} images per post")
        for media in draft.media:
            if media.mime_type not in self.limits.media_types:
                raise Rejected(f"Bluesky does not take {media.mime_type} images here")
            if len(media.alt_text) > self.limits.max_alt_text:
                raise Rejected(
                    f"the alt text of {media.filename} is longer than Bluesky's "
                    f"{self.limits.max_alt_text} characters"
                )
            if len(media.data) > self.limits.max_image_bytes:
                raise Rejected(
                    f"{media.filename} is {len(media.data):,} bytes; Bluesky takes images up to "
                    f"{self.limits.max_image_bytes:,} bytes"
                )

    def _get_post(self, rkey: str) -> dict[str, Any] | None:
        """Our post at `rkey` ({uri, cid, value}), or None when there is none."""
        response = xrpc_call(
            self.http,
            self.pds_url,
            "com.atproto.repo.getRecord",
            params={"repo": self.did, "collection": POST_COLLECTION, "rkey": rkey},
        )
        self._note_budget(response)
        if response.status_code == 400 and xrpc_error(response)[0] == "RecordNotFound":
            return None
        raise_for_status(response)
        record = body_of(response)
        return record if record.get("uri") and record.get("cid") else None

    def _published(self, created: dict[str, Any]) -> PublishedPost:
        uri, cid = str(created["uri"]), str(created["cid"])
        value = created.get("value") if isinstance(created.get("value"), dict) else {}
        root = (value.get("reply") or {}).get("root") or {}
        root_uri, root_cid = str(root.get("uri") or uri), str(root.get("cid") or cid)
        return PublishedPost(
            ref=RemoteRef(
                remote_id=uri,
                url=post_url(self.handle, uri),
                extra={"cid": cid, "root_uri": root_uri, "root_cid": root_cid},
            ),
            published_at=_parse_time(value.get("createdAt")),
        )

    def _did_for_handle(self, handle: str) -> str | None:
        try:
            return resolve_handle(self.http, self.pds_url, handle.lower())
        except Rejected:
            return None

    def _reply_refs(self, parent: RemoteRef) -> dict[str, Any]:
        """reply.root and reply.parent; asks the AppView when the caller lacks the CIDs."""
        cid = parent.extra.get("cid", "")
        root_uri, root_cid = parent.extra.get("root_uri", ""), parent.extra.get("root_cid", "")
        if not cid or not (root_uri and root_cid):
            posts = self._posts([parent.remote_id])
            if not posts:
                raise Rejected("the post to reply to no longer exists on Bluesky")
            post = posts[0]
            cid = str(post.get("cid") or "")
            root = ((post.get("record") or {}).get("reply") or {}).get("root") or {}
            root_uri = str(root.get("uri") or parent.remote_id)
            root_cid = str(root.get("cid") or cid)
        return {
            "root": {"uri": root_uri, "cid": root_cid},
            "parent": {"uri": parent.remote_id, "cid": cid},
        }

    def _image(self, media: Media) -> dict[str, Any]:
        blob = self._xrpc("com.atproto.repo.uploadBlob", upload=media).get("blob")
        if not isinstance(blob, dict):
            raise Transient("Bluesky accepted the image but sent no blob reference")
        image: dict[str, Any] = {"image": blob, "alt": media.alt_text}
        size = image_size(media.data)
        if size and all(size):
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        return image

    def delete(self, ref: RemoteRef) -> None:
        repo, collection, rkey = split_at_uri(ref.remote_id)
        if repo != self.did:
            raise Rejected("this post belongs to another Bluesky account")
        self._xrpc(
            "com.atproto.repo.deleteRecord",
            body={"repo": repo, "collection": collection, "rkey": rkey},
        )

    # ------------------------------------------------------------------ reading

    def _posts(self, uris: list[str]) -> list[dict[str, Any]]:
        posts = self._xrpc("app.bsky.feed.getPosts", params={"uris": uris}).get("posts")
        return [post for post in posts or [] if isinstance(post, dict)]

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """Counts for the posts that still exist (deleted ones are left out)."""
        metrics = []
        for start in range(0, len(refs), _POSTS_BATCH):
            batch = refs[start : start + _POSTS_BATCH]
            found = {str(p.get("uri")): p for p in self._posts([r.remote_id for r in batch])}
            for ref in batch:
                post = found.get(ref.remote_id)
                if post is None:
                    continue
                metrics.append(
                    PostMetrics(
                        ref=ref,
                        likes=int(post.get("likeCount") or 0),
                        reposts=int(post.get("repostCount") or 0),
                        replies=int(post.get("replyCount") or 0),
                        quotes=int(post.get("quoteCount") or 0),
                        extra={"bookmarks": int(post.get("bookmarkCount") or 0)},
                    )
                )
        return metrics

    def fetch_own_posts(self, *, limit: int = 100) -> tuple[PublishedPost, ...]:
        """The account's own posts from its author feed (see bluesky_public), through its PDS."""
        posts = public.author_feed(
            lambda params: self._xrpc("app.bsky.feed.getAuthorFeed", params=params),
            self.did,
            limit,
        )
        return tuple(
            PublishedPost(replace(p.ref, extra={**p.ref.extra, "text": p.text}), p.published_at)
            for p in posts
        )

    reads_public_accounts = True

    @classmethod
    def _public(
        cls, http: httpx.Client, base: str, nsid: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """An unauthenticated read from an AppView; AccountGone for a missing actor."""
        response = xrpc_call(http, base, nsid, params=params)
        name, message = xrpc_error(response)
        if public.is_gone(response.status_code, name, message):
            raise AccountGone(f"Bluesky has no account {params['actor']} ({message or name})")
        raise_for_status(response)
        return body_of(response)

    @classmethod
    def fetch_public_profile(cls, address: str, *, http: httpx.Client) -> PublicProfile:
        actor = public.actor_of(address)
        appview = public.public_appview()
        profile = cls._public(http, appview, "app.bsky.actor.getProfile", {"actor": actor})
        did, handle = str(profile.get("did") or ""), str(profile.get("handle") or actor)
        if not did:
            raise Transient("Bluesky sent a profile without a DID")
        return PublicProfile(
            remote_id=did,
            handle=handle,
            reader_url=appview,
            address=did,
            display_name=str(profile.get("displayName") or ""),
            avatar_url=str(profile.get("avatar") or ""),
            profile_url=profile_url(handle),
            followers=int(profile.get("followersCount") or 0),
            following=int(profile.get("followsCount") or 0),
            posts=int(profile.get("postsCount") or 0),
        )

    @classmethod
    def fetch_public_posts(
        cls, profile: PublicProfile, *, http: httpx.Client, limit: int = 40
    ) -> tuple[PublicPost, ...]:
        def read(params: dict[str, Any]) -> dict[str, Any]:
            return cls._public(http, profile.reader_url, "app.bsky.feed.getAuthorFeed", params)

        return tuple(public.author_feed(read, profile.remote_id, limit))

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Notifications newer than the cursor, then direct messages from the chat log.

        A chat failure never holds the notifications back: the chat part of the cursor is
        kept as it was (so no message is lost) and the failure becomes a page warning.
        """
        floor, seen, chat_cursor = decode_cursor(cursor, self.overlap)
        fresh = []
        for notification in self._notifications(floor):
            at = _parse_time(notification.get("indexedAt"))
            uri = notification.get("uri")
            if at is None or not isinstance(uri, str) or uri in seen or (floor and at < floor):
                continue
            seen[uri] = at
            fresh.append(notification)
        items = [
            item
            for n in fresh
            if (item := notification_interaction(n, self.did, self.handle)) is not None
        ]
        warnings: tuple[str, ...] = ()
        try:
            messages, chat_cursor = Chat(self).read(chat_cursor, max_pages=self.max_pages)
        except ProviderError as failure:
            warnings = (f"Direct messages were not read: {failure.message}",)
        else:
            items += messages
        items.sort(key=lambda item: item.created_at)
        return InteractionPage(
            items=tuple(items),
            cursor=encode_cursor(seen, self.overlap, chat_cursor),
            warnings=warnings,
        )

    def fetch_thread(self, ref: RemoteRef) -> tuple[Interaction, ...]:
        """The thread around a post from `app.bsky.feed.getPostThread`, oldest first; a post
        that no longer resolves comes back as one `deleted` item."""
        response = self._xrpc_response(
            "app.bsky.feed.getPostThread",
            params={"uri": ref.remote_id, "depth": 10, "parentHeight": 80},
        )
        if response.status_code == 400 and xrpc_error(response)[0] == "NotFound":
            return (gone(ref.remote_id),)
        raise_for_status(response)
        thread = body_of(response).get("thread")
        if not isinstance(thread, dict) or thread.get("$type") == NOT_FOUND_POST:
            return (gone(ref.remote_id),)
        return tuple(thread_items(thread, self.did, self.handle))

    def send_direct_message(
        self, conversation_id: str, text: str, *, idempotency_key: str
    ) -> RemoteRef:
        """Send `text` to the chat conversation `conversation_id` (see bluesky_chat on
        retries: sendMessage takes no idempotency key)."""
        return Chat(self).send(conversation_id, text)

    def _notifications(self, floor: datetime | None) -> list[dict[str, Any]]:
        """The newest page, or every page back to `floor` (at most `max_pages`)."""
        notifications: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": self.page_size}
        for _ in range(self.max_pages):
            page = self._xrpc("app.bsky.notification.listNotifications", params=params)
            batch = [n for n in page.get("notifications") or [] if isinstance(n, dict)]
            notifications.extend(batch)
            oldest = _parse_time(batch[-1].get("indexedAt")) if batch else None
            if floor is None or oldest is None or oldest < floor or not page.get("cursor"):
                break
            params["cursor"] = page["cursor"]
        return notifications
