"""Mastodon connector: any server that speaks the Mastodon REST API.

Connecting registers Chorus once per server (`register_app`), sends the user to the
server's consent page (`authorization_url`) and trades the returned code for a token
(`exchange_code`). Mastodon tokens do not expire unless revoked, so `refresh` only
checks that the token still works.

Media processing. `POST /api/v2/media` answers 202 while a video or large file is
still being transcoded, and Mastodon refuses to attach unfinished media. Providers
never sleep, so `publish` does not wait: it raises `MediaProcessing` (a `Transient`)
carrying the ids of the media it already uploaded. The caller retries later with
`publish(draft, media_ids=error.media_ids)`, which checks each id once with
`GET /api/v1/media/:id` (206 = still processing) and posts when all are ready, so a
retry never uploads the files again. A caller that only knows the generic interface
and retries `publish(draft)` still gets a correct post; it just uploads again.

Exactly once on every server. `Idempotency-Key` is a promise some servers of this API do
not keep. After an uncertain outcome the caller asks `find_published(draft, since=...)`,
which reads the account's own statuses (`GET /api/v1/accounts/:id/statuses`, newest first,
back to `since`) and returns the one this draft made: same text (HTML rendering and remote
mentions' domains aside), reply target, content warning, number of attachments and poll,
created at or after `since` (minus two minutes for clock drift), and not among the ids
the caller already recorded for other posts.

Interactions come from `/api/v1/notifications` (mentions, replies, DMs, quotes,
favourites, boosts, follows, and `update`: an edit of a status we interacted with, which
carries `edited_at`). The cursor is the highest notification id seen: with a cursor we walk
forward through the `Link: rel="prev"` pages, at most `max_pages` per call, so nothing is
skipped when more arrived than one call reads; without one we read only the newest page.
Notifications the user's server-side policy filtered (e.g. DMs from strangers) are
included, so a team inbox does not silently miss them. Conversation ids are thread roots,
read from `/api/v1/statuses/:id/context` (see `mastodon_inbox`); DMs are direct statuses,
answered by `send_direct_message` with another direct status in the same thread. Push
comes from the streaming API (`stream_interactions`, see `mastodon_streaming`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from . import mastodon_public as public
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
    MediaProcessing,
    OAuthApp,
    OAuthSignIn,
    PostDraft,
    PostMetrics,
    Provider,
    PublicPost,
    PublicProfile,
    PublishedPost,
    Rejected,
    RemoteRef,
    Transient,
)
from .mastodon_inbox import (
    NOTIFICATION_TYPES,
    InboxMapper,
    deleted,
    direct_reply,
    handle_of,
    parse_time,
)
from .mastodon_instance import server_values as _server_values
from .mastodon_wire import (
    error_text,
    is_copy,
    is_loopback,
    json_object,
    json_of,
    max_id,
    now,
    numeric,
    probe_instance,
    published_post,
    raise_for_status,
    rate_budget,
    status_text,
)
from .wire import is_auth_failure, send

SCOPES = "read write"
_STATUS_BATCH = 20  # ids per batch read: Mastodon caps id[]; its default page size is safe
_NO_BATCH = (400, 404, 405)  # how servers without batch reads answer GET /api/v1/statuses
_RECONCILE_PAGE = 40  # statuses per page (the API's maximum)
_RECONCILE_PAGES = 5  # how far back a reconciliation reads: 200 statuses
_ROOTS_KEPT = 10_000  # thread roots one mapper remembers
_CLOCK_DRIFT = timedelta(minutes=2)  # our clock against the server's


# --------------------------------------------------------------------------- provider


class Mastodon(OAuthSignIn, Provider):
    """One account on one Mastodon-API server."""

    key = "mastodon"
    name = "Mastodon"
    auth_kind = "oauth2"
    # Mastodon's documented defaults (docs.joinmastodon.org, 4.2+). Servers may differ
    # (many allow 1,000 to 5,000 characters): `fetch_limits` reads a server's own values,
    # which the composer uses. Before 4.2 media was 10 MB / 40 MB.
    limits = Limits(
        max_text=500,
        text_counting="mastodon",  # URLs count 23, mentions count only the username
        max_media=4,
        media_types=(
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "image/heic",
            "image/heif",
            "image/avif",
            "video/mp4",
            "video/webm",
            "video/quicktime",
            "audio/mpeg",
            "audio/mp4",
            "audio/ogg",
            "audio/wav",
            "audio/flac",
        ),
        max_image_bytes=16 * 1024 * 1024,
        max_video_bytes=99 * 1024 * 1024,
        max_alt_text=1500,
        supports_polls=True,
        max_poll_options=4,
        max_poll_option_length=50,
        supports_threads=True,
        supports_content_warning=True,
        supports_direct_messages=True,
        url_length=23,
        rate_limit_note=(
            "300 requests per 5 minutes per access token (1,500 per account); media "
            "uploads 30 per 30 minutes; deleting posts and undoing boosts 30 per 30 "
            "minutes. Only unauthenticated calls are limited per IP address (300 per 5 "
            "minutes). Server admins can change these."
        ),
    )
    limits_per_server = True
    page_size = 40  # notifications per request (Mastodon's maximum)
    max_pages = 5  # pages per fetch_interactions call, so one poll stays bounded

    # ----------------------------------------------------------------------- connect

    @classmethod
    def normalize_server_url(cls, url: str) -> str:
        """`mastodon.social/`, `HTTPS://Mastodon.Social/about` -> `https://mastodon.social`.

        Plain http is kept only for loopback test servers; anything else is upgraded to
        https so a typo never sends a token in the clear.
        """
        raw = url.strip()
        if "://" not in raw:
            raw = f"https://{raw}"
        parts = urlsplit(raw)
        host = parts.hostname or ""
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise Rejected(
                f"{url!r} is not a server address (expected e.g. https://mastodon.social)"
            )
        netloc = parts.netloc.rsplit("@", 1)[-1].lower()
        scheme = "http" if parts.scheme.lower() == "http" and is_loopback(host) else "https"
        return f"{scheme}://{netloc}"

    @classmethod
    def register_app(
        cls, server_url: str, *, redirect_uri: str, http: httpx.Client, website: str = ""
    ) -> OAuthApp:
        server = cls.normalize_server_url(server_url)
        probe_instance(server, http)
        form = {"client_name": "Chorus", "redirect_uris": redirect_uri, "scopes": SCOPES}
        if website:
            form["website"] = website
        response = send(http, "POST", f"{server}/api/v1/apps", data=form)
        raise_for_status(response)
        data = json_object(response)
        try:
            return OAuthApp(
                server_url=server,
                client_id=str(data["client_id"]),
                client_secret=str(data["client_secret"]),
                redirect_uri=redirect_uri,
                scopes=SCOPES,
            )
        except KeyError as exc:
            raise Transient(f"{server} registered the app but sent no {exc.args[0]}") from exc

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "scope": app.scopes,
                "state": state,
            }
        )
        return f"{app.server_url}/oauth/authorize?{query}"

    @classmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": app.redirect_uri,
            "scope": app.scopes,
        }
        response = send(http, "POST", f"{app.server_url}/oauth/token", data=form)
        try:
            raise_for_status(response)
        except AuthExpired as exc:  # a 401 here means a bad client or code, not a token
            raise Rejected(f"Mastodon did not accept the sign-in: {error_text(response)}") from exc
        token = json_object(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise Transient(f"{app.server_url} sent no access token")
        credentials = Credentials(
            identity={"server_url": app.server_url, "client_id": app.client_id},
            secrets={"access_token": token, "client_secret": app.client_secret},
        )
        me = cls(credentials, http=http).verify()
        credentials.identity.update(account_id=me.remote_id, acct=me.handle)
        return credentials

    # ----------------------------------------------------------------------- requests

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(str(identity.get("server_url", ""))).netloc

    @property
    def server_url(self) -> str:
        return str(self.credentials.identity["server_url"])

    def _call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any
    ) -> httpx.Response:
        """An authenticated request; statuses in `ok` are returned instead of raised."""
        headers = {
            "Authorization": f"Bearer {self.credentials.secrets['access_token']}",
            "Accept": "application/json",
            **kwargs.pop("headers", {}),
        }
        response = send(self.http, method, self.server_url + path, headers=headers, **kwargs)
        self.rate_budget = rate_budget(response.headers) or self.rate_budget
        if response.status_code not in ok:
            raise_for_status(response)
        return response

    def _account(self) -> dict[str, Any]:
        return json_object(self._call("GET", "/api/v1/accounts/verify_credentials"))

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        account = self._account()
        return AccountIdentity(
            remote_id=str(account.get("id", "")),
            handle=handle_of(account),
            display_name=str(account.get("display_name") or ""),
            avatar_url=str(account.get("avatar") or ""),
            profile_url=str(account.get("url") or ""),
        )

    def refresh(self) -> None:
        """Mastodon tokens live until revoked: confirm it still works (AuthExpired if not)."""
        self.verify()

    def fetch_account_metrics(self) -> AccountMetrics:
        account = self._account()
        return AccountMetrics(
            followers=int(account.get("followers_count") or 0),
            following=int(account.get("following_count") or 0),
            posts=int(account.get("statuses_count") or 0),
        )

    @classmethod
    def fetch_limits(cls, identity: dict[str, Any], *, http: httpx.Client) -> Limits:
        """The server's own limits: `/api/v2/instance`, then `/api/v1/instance` for what v2
        lacks (older servers, and Pleroma-style `max_toot_chars`, `poll_limits`,
        `upload_limit`). A missing or 0 value keeps Mastodon's documented default."""
        server = str(identity.get("server_url") or "").rstrip("/")
        values: dict[str, Any] = {}
        answered = False
        for path in ("/api/v2/instance", "/api/v1/instance"):
            response = send(http, "GET", server + path, headers={"Accept": "application/json"})
            if response.status_code == 429 or response.status_code >= 500:
                raise_for_status(response)
            try:
                data = response.json() if response.status_code == 200 else None
            except ValueError:
                data = None
            if not isinstance(data, dict):
                continue
            answered = True
            for name, value in _server_values(data).items():
                values.setdefault(name, value)
            if "max_text" in values:
                break
        if not answered:
            raise Rejected(f"{server} published no instance document (not a Mastodon server?)")
        return cls.limits.with_server_values(values)

    def server_limits(self) -> Limits:
        """This account's server's limits (see `fetch_limits`)."""
        return self.fetch_limits(self.credentials.identity, http=self.http)

    # ----------------------------------------------------------------------- publishing

    def publish(self, draft: PostDraft, *, media_ids: Sequence[str] = ()) -> PublishedPost:
        """Post the draft; pass `media_ids` from a `MediaProcessing` error to reuse uploads."""
        if media_ids and len(media_ids) != len(draft.media):
            raise ValueError("media_ids must match the draft's media one for one")
        if media_ids:
            ids = tuple(media_ids)
            pending = [mid for mid in ids if not self._media_ready(mid)]
        else:
            uploads = [self._upload(media) for media in draft.media]
            ids = tuple(mid for mid, _ in uploads)
            pending = [mid for mid, ready in uploads if not ready]
        if pending:
            raise MediaProcessing(
                f"Mastodon is still processing {len(pending)} media file(s)", media_ids=ids
            )

        body: dict[str, Any] = {"status": status_text(draft), "visibility": draft.visibility}
        if ids:
            body["media_ids"] = list(ids)
        if draft.content_warning:
            body["spoiler_text"] = draft.content_warning
            body["sensitive"] = True
        if draft.language:
            body["language"] = draft.language
        if draft.reply_to is not None:
            body["in_reply_to_id"] = draft.reply_to.remote_id
        if draft.poll is not None:
            body["poll"] = {
                "options": list(draft.poll.options),
                "expires_in": draft.poll.expires_in_seconds,
                "multiple": draft.poll.multiple,
            }
        response = self._call(
            "POST",
            "/api/v1/statuses",
            json=body,
            headers={"Idempotency-Key": draft.idempotency_key},
        )
        status = json_object(response)
        if not status.get("id"):
            raise Transient("Mastodon accepted the post but sent no status id")
        return published_post(status)

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        """The status an earlier attempt made from this draft, from the account's own
        statuses (see the module docstring); None when it is not there."""
        me = str(self._account().get("id") or "")
        if not me:
            raise Transient("Mastodon did not say which account this token belongs to")
        earliest = since - _CLOCK_DRIFT
        params: dict[str, Any] = {"limit": _RECONCILE_PAGE, "exclude_reblogs": "true"}
        for _ in range(_RECONCILE_PAGES):
            page = json_of(self._call("GET", f"/api/v1/accounts/{me}/statuses", params=params))
            if not isinstance(page, list):
                raise Transient("Mastodon sent an unexpected response shape")
            statuses = [s for s in page if isinstance(s, dict) and s.get("id")]
            for status in statuses:
                if str(status["id"]) not in exclude and is_copy(status, draft, earliest):
                    return published_post(status)
            times = [parse_time(s.get("created_at")) for s in statuses]
            if (
                len(page) < _RECONCILE_PAGE
                or not statuses
                or any(t and t < earliest for t in times)
            ):
                return None
            params["max_id"] = str(statuses[-1]["id"])  # newest first: page further back
        return None

    def _upload(self, media: Media) -> tuple[str, bool]:
        """Upload one file; returns its id and whether it is ready to attach."""
        response = self._call(
            "POST",
            "/api/v2/media",
            files={"file": (media.filename, media.data, media.mime_type)},
            data={"description": media.alt_text} if media.alt_text else None,
        )
        data = json_object(response)
        if not data.get("id"):
            raise Transient("Mastodon accepted the upload but sent no media id")
        return str(data["id"]), bool(data.get("url"))

    def _media_ready(self, media_id: str) -> bool:
        response = self._call("GET", f"/api/v1/media/{media_id}")
        return response.status_code != 206 and bool(json_object(response).get("url"))

    def delete(self, ref: RemoteRef) -> None:
        self._call("DELETE", f"/api/v1/statuses/{ref.remote_id}", ok=(404,))

    # ----------------------------------------------------------------------- reading

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """Counts for our posts; posts deleted meanwhile are left out."""
        by_id = {ref.remote_id: ref for ref in refs}
        return [
            PostMetrics(
                ref=by_id[str(status.get("id"))],
                likes=int(status.get("favourites_count") or 0),
                reposts=int(status.get("reblogs_count") or 0),
                replies=int(status.get("replies_count") or 0),
                quotes=int(status.get("quotes_count") or 0),
            )
            for status in self._statuses(list(by_id))
            if str(status.get("id")) in by_id
        ]

    def fetch_own_posts(self, *, limit: int = 100) -> tuple[PublishedPost, ...]:
        """The account's statuses without boosts (see mastodon_public), with its token."""
        path = f"/api/v1/accounts/{self._our_id()}/statuses"
        posts = public.account_statuses(
            lambda params: json_of(self._call("GET", path, params=params)),
            self._our_id(),
            limit,
            exclude_replies=False,
        )
        return tuple(
            PublishedPost(replace(p.ref, extra={"text": p.text}), p.published_at) for p in posts
        )

    reads_public_accounts = True

    @classmethod
    def _public(cls, http: httpx.Client, url: str, params: dict[str, Any]) -> Any:
        """An unauthenticated read; AccountGone when the server has no such account."""
        response = send(http, "GET", url, params=params, headers={"Accept": "application/json"})
        if response.status_code in (404, 410):
            raise AccountGone(f"{response.url.host} has no such account (it may have been deleted)")
        if response.status_code in (401, 403):
            raise Rejected(f"{response.url.host} does not show its accounts to visitors")
        raise_for_status(response)
        return json_of(response)

    @classmethod
    def fetch_public_profile(cls, address: str, *, http: httpx.Client) -> PublicProfile:
        typed, user = public.split_address(address)
        server = cls.normalize_server_url(typed)
        found = cls._public(http, f"{server}/api/v1/accounts/lookup", {"acct": user})
        if not isinstance(found, dict) or not found.get("id"):
            raise Transient(f"{urlsplit(server).netloc} sent an unexpected response shape")
        if found.get("suspended"):
            raise AccountGone(f"{handle_of(found)} is suspended on {urlsplit(server).netloc}")
        return PublicProfile(
            remote_id=str(found["id"]),
            handle=handle_of(found),
            reader_url=server,
            address=f"{server}/@{found.get('username') or user}",
            display_name=str(found.get("display_name") or ""),
            avatar_url=str(found.get("avatar") or ""),
            profile_url=str(found.get("url") or ""),
            followers=int(found.get("followers_count") or 0),
            following=int(found.get("following_count") or 0),
            posts=int(found.get("statuses_count") or 0),
        )

    @classmethod
    def fetch_public_posts(
        cls, profile: PublicProfile, *, http: httpx.Client, limit: int = 40
    ) -> tuple[PublicPost, ...]:
        url = f"{profile.reader_url}/api/v1/accounts/{profile.remote_id}/statuses"
        posts = public.account_statuses(
            lambda params: cls._public(http, url, params),
            profile.remote_id,
            limit,
            exclude_replies=True,
        )
        return tuple(posts)

    def _statuses(self, ids: list[str]) -> list[dict[str, Any]]:
        """Batch reads (Mastodon 4.3+), or one read per status on servers without them
        (404, 405, or 400 for a missing id, unless the 400 is about the token)."""
        statuses: list[Any] = []
        for start in range(0, len(ids), _STATUS_BATCH):
            chunk = ids[start : start + _STATUS_BATCH]
            params = [("id[]", i) for i in chunk]
            response = self._call("GET", "/api/v1/statuses", params=params, ok=_NO_BATCH)
            if response.status_code in _NO_BATCH and is_auth_failure(
                response.status_code, error_text(response)
            ):
                raise_for_status(response)
            if response.status_code not in _NO_BATCH:
                page = json_of(response)
                if not isinstance(page, list):
                    raise Transient("Mastodon sent an unexpected response shape")
                statuses.extend(page)
                continue
            for status_id in chunk:
                single = self._call("GET", f"/api/v1/statuses/{status_id}", ok=(404,))
                if single.status_code != 404:
                    statuses.append(json_object(single))
        return [s for s in statuses if isinstance(s, dict)]

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        params: dict[str, Any] = {
            "types[]": list(NOTIFICATION_TYPES),
            "limit": self.page_size,
            "include_filtered": "true",
        }
        if cursor:
            params["min_id"] = cursor
        notifications: list[dict[str, Any]] = []
        for _ in range(self.max_pages):
            response = self._notifications_page(params)
            page = json_of(response)
            if not isinstance(page, list):
                raise Transient("Mastodon sent an unexpected response shape")
            notifications.extend(n for n in page if isinstance(n, dict))
            newer = response.links.get("prev", {}).get("url", "")
            min_id = parse_qs(urlsplit(newer).query).get("min_id", [""])[0]
            if not cursor or len(page) < self.page_size or not min_id:
                break
            params["min_id"] = min_id
        highest = max_id([str(n.get("id", "")) for n in notifications] + [cursor or "0"])
        mapper = self.inbox_mapper()
        ordered = sorted(notifications, key=lambda n: numeric(n.get("id")))
        items = [i for n in ordered if (i := mapper.from_notification(n)) is not None]
        items.sort(key=lambda i: i.created_at)
        return InteractionPage(items=tuple(items), cursor=highest or "0")

    def _notifications_page(self, params: dict[str, Any]) -> httpx.Response:
        """One page; a server that refuses the `update` type (older or stricter servers of
        the API validate `types[]`) is asked again without it, and edits are not read."""
        try:
            return self._call("GET", "/api/v1/notifications", params=params)
        except Rejected:
            if "update" not in params["types[]"]:
                raise
            params["types[]"] = [t for t in params["types[]"] if t != "update"]
            return self._call("GET", "/api/v1/notifications", params=params)

    # ----------------------------------------------------------------------- threads and DMs

    def _our_id(self) -> str:
        our_id = str(self.credentials.identity.get("account_id") or "")
        if not our_id:
            our_id = str(self._account().get("id") or "")
            if not our_id:
                raise Transient("Mastodon did not say which account this token belongs to")
            self.credentials.identity["account_id"] = our_id
            self.credentials_changed = True
        return our_id

    def inbox_mapper(self) -> InboxMapper:
        """The mapper for this account; thread roots are memoised for one mapper's life."""
        roots: dict[str, str] = {}

        def root_of(status: dict[str, Any]) -> str:
            status_id, parent = str(status.get("id") or ""), str(status.get("in_reply_to_id") or "")
            if not parent:
                roots[status_id] = status_id
            elif parent in roots:
                roots[status_id] = roots[parent]
            elif status_id not in roots:
                if len(roots) > _ROOTS_KEPT:  # a stream may live for days: stay bounded
                    roots.clear()
                context = self._context(status_id)
                ancestors = context.get("ancestors") if context else None
                chain = [a for a in ancestors or [] if isinstance(a, dict) and a.get("id")]
                root = str(chain[0]["id"]) if chain else parent
                for ancestor in chain:
                    roots[str(ancestor["id"])] = root
                roots[status_id] = root
            return roots[status_id]

        return InboxMapper(self._our_id(), root_of)

    def concerns_us(self, status: dict[str, Any]) -> bool:
        """Whether a status answers or mentions this account (for streamed edits)."""
        our_id = self._our_id()
        mentions = status.get("mentions") if isinstance(status.get("mentions"), list) else []
        return str(status.get("in_reply_to_account_id")) == our_id or any(
            isinstance(m, dict) and str(m.get("id")) == our_id for m in mentions
        )

    def _context(self, status_id: str) -> dict[str, Any] | None:
        """GET /api/v1/statuses/:id/context (docs.joinmastodon.org/methods/statuses/#context);
        None when the status is gone."""
        response = self._call("GET", f"/api/v1/statuses/{status_id}/context", ok=(404,))
        return None if response.status_code == 404 else json_object(response)

    def _status(self, status_id: str) -> dict[str, Any] | None:
        response = self._call("GET", f"/api/v1/statuses/{status_id}", ok=(404,))
        return None if response.status_code == 404 else json_object(response)

    def _thread(self, status_id: str) -> list[dict[str, Any]] | None:
        """The status's whole thread as the account sees it, oldest first; None if gone."""
        status = self._status(status_id)
        context = self._context(status_id) if status is not None else None
        if status is None or context is None:
            return None
        ancestors = [s for s in context.get("ancestors") or [] if isinstance(s, dict)]
        descendants = [s for s in context.get("descendants") or [] if isinstance(s, dict)]
        descendants.sort(
            key=lambda s: (parse_time(s.get("created_at")) or now(), numeric(s.get("id")))
        )
        return [s for s in ancestors + [status] + descendants if s.get("id")]

    def fetch_thread(self, ref: RemoteRef) -> tuple[Interaction, ...]:
        """Ancestors, the status and its replies, oldest first; a status that is gone
        comes back as one `deleted` item so the inbox can mark it."""
        thread = self._thread(ref.remote_id)
        if thread is None:
            return (deleted(ref.remote_id),)
        root = str(thread[0]["id"])
        mapper = InboxMapper(self._our_id(), lambda status: root)
        return tuple(mapper.from_status(status) for status in thread)

    def resolve_post(self, ref: RemoteRef) -> RemoteRef:
        """This server's own id for a status that may live on another server: a reply's
        `in_reply_to_id` must be a local id. `/api/v2/search` with `resolve=true` finds the
        status by its ActivityPub URI (or web address), fetching it if the server has not
        seen it yet."""
        for address in dict.fromkeys(a for a in (ref.remote_id, ref.url) if "://" in a):
            params = {"q": address, "type": "statuses", "resolve": "true", "limit": 1}
            found = json_of(self._call("GET", "/api/v2/search", params=params))
            statuses = found.get("statuses") if isinstance(found, dict) else None
            if statuses and isinstance(statuses[0], dict) and statuses[0].get("id"):
                return published_post(statuses[0]).ref
        raise Rejected(f"{self.server_url} could not find the post {ref.url or ref.remote_id}")

    def send_direct_message(
        self, conversation_id: str, text: str, *, idempotency_key: str
    ) -> RemoteRef:
        """A direct status to everyone in the conversation (thread root `conversation_id`),
        in reply to its latest direct status, with the key as `Idempotency-Key`."""
        if not text.strip():
            raise Rejected("the message is empty")
        thread = self._thread(conversation_id)
        body = direct_reply(thread or [], self._our_id(), text)
        response = self._call(
            "POST", "/api/v1/statuses", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        status = json_object(response)
        if not status.get("id"):
            raise Transient("Mastodon accepted the message but sent no status id")
        return published_post(status).ref

    # ----------------------------------------------------------------------- streaming

    def instance_document(self) -> dict[str, Any]:
        """The server's /api/v2/instance (or v1) document; {} when it has neither."""
        for path in ("/api/v2/instance", "/api/v1/instance"):
            response = self._call("GET", path, ok=(404, 410))
            if response.status_code == 200:
                try:
                    data = response.json()
                except ValueError:
                    continue
                if isinstance(data, dict):
                    return data
        return {}

    def stream_interactions(self) -> Iterator[Interaction]:
        """Interactions pushed by the server's streaming API, as they happen.

        Raises `mastodon_streaming.StreamingUnavailable` (a Rejected) when the server
        offers no event stream, and Transient when the stream ends: reconnecting, and
        polling `fetch_interactions` for what came meanwhile, is the caller's job.
        """
        from .mastodon_streaming import stream

        yield from stream(self)
