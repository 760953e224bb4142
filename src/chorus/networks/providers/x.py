"""X connector: one account, through the X API v2 with OAuth 2.0 (authorization code + PKCE).

The installation registers one app in the X developer console and sets its client id and
secret (CHORUS_X_CLIENT_ID, CHORUS_X_CLIENT_SECRET; docs/networks/x.md). Connecting sends
the user to `x.com/i/oauth2/authorize` with a PKCE challenge and trades the code for an
access token (two hours) and a refresh token (`offline.access`) at `POST /2/oauth2/token`
(docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code). X rotates the
refresh token on every refresh: `refresh` stores the new pair (`credentials_changed`).

Publishing: `POST /2/tweets` (docs.x.com/x-api/posts/create-post) with text (280 weighted
characters, counted by chorus.text), media from the chunked upload (`x_media`), a reply
target (`reply.in_reply_to_tweet_id`, which makes threads) or a poll (2-4 options of up to
25 characters, 5 minutes to 7 days).

Exactly once. X has no idempotency key. After an uncertain outcome `find_published` reads
the account's own recent posts (`GET /2/users/:id/tweets` with `start_time`) for one with
this text (links compared as links: X rewrites them to t.co), the same reply target, made
since the first attempt, and not already recorded for another post.

Reading: mentions (`GET /2/users/:id/mentions`, `since_id` as the cursor) become replies,
quotes and mentions; counts come from `public_metrics` (impressions included, for our own
posts); a thread is read with recent search on `conversation_id:` where the app's tier
allows it. Errors and rate-limit headers are read in `x_wire`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from chorus.text import check_length

from . import x_media
from .base import (
    AccountIdentity,
    AccountMetrics,
    AuthExpired,
    Credentials,
    Interaction,
    InteractionPage,
    Limits,
    OAuthApp,
    OAuthSignIn,
    PostDraft,
    PostMetrics,
    Provider,
    PublishedPost,
    Rejected,
    RemoteRef,
)
from .wire import send
from .x_wire import (
    body,
    comparable,
    interaction,
    parse_time,
    post_url,
    raise_for,
    rate_budget,
    users_of,
)

API_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES = "tweet.read tweet.write users.read offline.access media.write"
POLL_MINUTES = (5, 7 * 24 * 60)
POLL_OPTION_LENGTH = 25
_CLOCK_DRIFT = timedelta(minutes=2)
_REFRESH_MARGIN_S = 60
_TWEET_FIELDS = "created_at,conversation_id,referenced_tweets,in_reply_to_user_id,author_id"
_USER_FIELDS = "name,username,profile_image_url"


def _settings() -> dict[str, str]:
    """This installation's X app (settings.CHORUS_NETWORK_OPTIONS["x"])."""
    from django.conf import settings

    return {k: v for k, v in settings.CHORUS_NETWORK_OPTIONS.get("x", {}).items() if v}


def _api_url() -> str:
    """X itself, or the address of a stand-in server (CHORUS_X_API_URL, for tests)."""
    return _settings().get("api_url", API_URL).rstrip("/")


def _basic(client_id: str, client_secret: str) -> dict[str, str]:
    """A confidential client authenticates to the token endpoint with HTTP Basic."""
    if not client_secret:
        return {}
    pair = f"{client_id}:{client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def _token_request(
    http: httpx.Client, api: str, form: dict[str, str], client_id: str, client_secret: str
) -> dict[str, Any]:
    """`POST /2/oauth2/token`; a refused grant (revoked, already used) is AuthExpired."""
    response = send(
        http,
        "POST",
        f"{api}/2/oauth2/token",
        data={**form, "client_id": client_id},
        headers=_basic(client_id, client_secret),
    )
    if response.status_code in (400, 401):
        data = body(response) if response.content else {}
        words = data.get("error_description") or data.get("error") or ""
        if response.status_code == 401 or data.get("error") in (
            "unauthorized_client",
            "invalid_client",
        ):
            raise AuthExpired(
                f"X refused this installation's app keys ({words or 'unauthorized'}): an "
                "administrator must check CHORUS_X_CLIENT_ID and CHORUS_X_CLIENT_SECRET "
                "(docs/networks/x.md)."
            )
        raise AuthExpired(
            "X no longer accepts this sign-in"
            + (f" ({words})" if words else "")
            + ". Reconnect the account."
        )
    raise_for(response)
    tokens = body(response)
    if not tokens.get("access_token"):
        raise AuthExpired("X did not grant an access token. Reconnect the account.")
    return tokens


def _secrets(tokens: dict[str, Any], old: dict[str, str]) -> dict[str, str]:
    expires_in = int(tokens.get("expires_in") or 7200)
    return {
        "access_token": str(tokens["access_token"]),
        # Without offline.access there is no refresh token: keep none rather than a stale one.
        "refresh_token": str(tokens.get("refresh_token") or ""),
        "expires_at": str(int(time.time()) + expires_in),
        "client_id": old.get("client_id", ""),
    }


class X(OAuthSignIn, Provider):
    """One X account, acting through the installation's X app."""

    key = "x"
    name = "X"
    auth_kind = "oauth2"
    pkce = True
    asks_server = False
    app_settings = {"client_id": "CHORUS_X_CLIENT_ID", "client_secret": "CHORUS_X_CLIENT_SECRET"}
    setup_guide = "docs/networks/x.md"
    # docs.x.com/x-api/posts/create-post; docs.x.com/resources/fundamentals/counting-characters;
    # media limits from docs.x.com/x-api/media/quickstart/best-practices.
    limits = Limits(
        max_text=280,
        text_counting="x-weighted",
        max_media=x_media.MAX_IMAGES,
        media_types=x_media.MEDIA_TYPES,
        max_image_bytes=x_media.IMAGE_BYTES,
        max_video_bytes=x_media.VIDEO_BYTES,
        max_alt_text=x_media.ALT_TEXT,
        supports_polls=True,
        max_poll_options=4,
        max_poll_option_length=POLL_OPTION_LENGTH,
        supports_threads=True,
        url_length=23,
        rate_limit_note=(
            "Per user and endpoint in 15-minute windows (x-rate-limit-* headers), plus a "
            "daily cap on posts per user (x-user-limit-24hour-*) that depends on the app's "
            "access tier: see docs/networks/x.md."
        ),
    )
    mention_pages = 5

    # ----------------------------------------------------------------------- connect

    @classmethod
    def normalize_server_url(cls, url: str) -> str:
        return _api_url()

    @classmethod
    def register_app(
        cls, server_url: str, *, redirect_uri: str, http: httpx.Client, **options: str
    ) -> OAuthApp:
        """X has one app per installation (a public client: the secret is optional)."""
        options = {**_settings(), **options}
        return cls.installation_app(
            client_id=options.get("client_id", ""),
            client_secret=options.get("client_secret", ""),
            needed={"CHORUS_X_CLIENT_ID": options.get("client_id", "")},
            server_url=_api_url(),
            redirect_uri=redirect_uri,
            scopes=SCOPES,
        )

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str, code_challenge: str = "") -> str:
        """docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (step 1)."""
        base = (
            AUTHORIZE_URL if app.server_url == API_URL else f"{app.server_url}/i/oauth2/authorize"
        )
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": app.scopes,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{base}?{urlencode(query)}"

    @classmethod
    def exchange_code(
        cls, app: OAuthApp, code: str, *, http: httpx.Client, code_verifier: str = ""
    ) -> Credentials:
        """Step 3 of the same page: the code and the PKCE verifier for a token pair."""
        tokens = _token_request(
            http,
            app.server_url,
            {
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": app.redirect_uri,
                "code_verifier": code_verifier,
            },
            app.client_id,
            app.client_secret,
        )
        identity = {} if app.server_url == API_URL else {"api_url": app.server_url}
        secrets = _secrets(tokens, {"client_id": app.client_id})
        return Credentials(identity=identity, secrets=secrets)

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(identity.get("api_url") or API_URL).netloc

    # ----------------------------------------------------------------------- plumbing

    @property
    def api(self) -> str:
        return str(self.credentials.identity.get("api_url") or API_URL).rstrip("/")

    @property
    def user_id(self) -> str:
        user_id = str(self.credentials.identity.get("user_id") or "")
        if not user_id:
            self.verify()
            user_id = str(self.credentials.identity["user_id"])
        return user_id

    def _call(self, method: str, url: str, *, ok: Sequence[int] = (), **kwargs: Any):
        """One request as this account: the token renewed first when it is about to expire;
        X's rate-limit headers kept; refusals raised as typed errors."""
        expires_at = int(self.credentials.secrets.get("expires_at") or 0)
        if expires_at and expires_at - time.time() < _REFRESH_MARGIN_S:
            self.refresh()
        token = self.credentials.secrets.get("access_token", "")
        if not token:
            raise AuthExpired("This X account has no sign-in. Reconnect it.")
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
        response = send(self.http, method, url, headers=headers, **kwargs)
        self.rate_budget = rate_budget(response) or self.rate_budget
        if response.status_code not in ok:
            raise_for(response)
        return response

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return body(self._call("GET", f"{self.api}{path}", params=params))

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        """`GET /2/users/me` (docs.x.com/x-api/users/get-my-user)."""
        user = self._get("/2/users/me", **{"user.fields": _USER_FIELDS}).get("data") or {}
        if not user.get("id"):
            raise AuthExpired("X did not say whose sign-in this is. Reconnect the account.")
        identity = self.credentials.identity
        if identity.get("user_id") != user["id"] or identity.get("username") != user["username"]:
            identity.update(user_id=str(user["id"]), username=str(user["username"]))
            self.credentials_changed = True
        return AccountIdentity(
            remote_id=str(user["id"]),
            handle=str(user["username"]),
            display_name=str(user.get("name") or ""),
            avatar_url=str(user.get("profile_image_url") or ""),
            profile_url=f"https://x.com/{user['username']}",
        )

    def refresh(self) -> None:
        """Trade the refresh token for a new pair; X invalidates the old one at once."""
        secrets = self.credentials.secrets
        refresh_token = secrets.get("refresh_token", "")
        if not refresh_token:
            raise AuthExpired("X gave this account no refresh token. Reconnect it.")
        app = _settings()
        client_id = app.get("client_id") or secrets.get("client_id", "")
        if not client_id:
            raise AuthExpired(f"X is not set up on this installation (see {self.setup_guide}).")
        tokens = _token_request(
            self.http,
            self.api,
            {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            client_id,
            app.get("client_secret", ""),
        )
        self.credentials.secrets = _secrets(tokens, {"client_id": client_id})
        if not self.credentials.secrets["refresh_token"]:
            self.credentials.secrets["refresh_token"] = refresh_token
        self.credentials_changed = True

    # ----------------------------------------------------------------------- publishing

    @staticmethod
    def _text(draft: PostDraft) -> str:
        text = draft.text
        if draft.link and draft.link not in text:
            text = f"{text.rstrip()}\n\n{draft.link}" if text.strip() else draft.link
        return text

    def check(self, draft: PostDraft) -> None:
        """Refuse before any call what X would refuse, naming what to change."""
        length = check_length(self._text(draft), "x-weighted", self.limits.max_text)
        if length.over:
            raise Rejected(
                f"This post is {length.count} characters as X counts them; X takes "
                f"{length.limit}. Shorten it or split it into a thread."
            )
        if not self._text(draft).strip() and not draft.media:
            raise Rejected("An X post needs text or media.")
        poll = draft.poll
        if poll is not None:
            if draft.media:
                raise Rejected("An X post carries a poll or media, not both.")
            if not 2 <= len(poll.options) <= self.limits.max_poll_options:
                raise Rejected(f"An X poll has 2 to 4 options; this one has {len(poll.options)}.")
            long = [o for o in poll.options if len(o) > POLL_OPTION_LENGTH or not o.strip()]
            if long:
                raise Rejected(
                    f"Each X poll option has 1 to {POLL_OPTION_LENGTH} characters: {long[0]!r}"
                )
            minutes = poll.expires_in_seconds // 60
            if not POLL_MINUTES[0] <= minutes <= POLL_MINUTES[1]:
                raise Rejected("An X poll runs from 5 minutes to 7 days.")
            if poll.multiple:
                raise Rejected("X polls take a single choice.")
        x_media.check(draft.media)

    def publish(self, draft: PostDraft, *, media_ids: Sequence[str] = ()) -> PublishedPost:
        """Pass `media_ids` from a `MediaProcessing` error to attach what was uploaded."""
        self.check(draft)
        ids = x_media.upload_all(self._call, self.api, draft.media, media_ids)
        payload: dict[str, Any] = {"text": self._text(draft)}
        if ids:
            payload["media"] = {"media_ids": ids}
        if draft.reply_to is not None:
            payload["reply"] = {"in_reply_to_tweet_id": draft.reply_to.remote_id}
        if draft.poll is not None:
            payload["poll"] = {
                "options": list(draft.poll.options),
                "duration_minutes": draft.poll.expires_in_seconds // 60,
            }
        created = body(self._call("POST", f"{self.api}/2/tweets", json=payload)).get("data") or {}
        if not created.get("id"):
            raise Rejected("X did not say which post it created.")
        post_id = str(created["id"])
        username = str(self.credentials.identity.get("username") or "")
        return PublishedPost(
            RemoteRef(post_id, url=post_url(username, post_id)), published_at=datetime.now(UTC)
        )

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        """`GET /2/users/:id/tweets` (docs.x.com/x-api/users/get-posts), back to `since`."""
        start = (since - _CLOCK_DRIFT).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            data = self._get(
                f"/2/users/{self.user_id}/tweets",
                max_results=100,
                start_time=start,
                **{"tweet.fields": "created_at,referenced_tweets,attachments"},
            )
        except Rejected as exc:  # e.g. an access tier that cannot read: never send twice
            raise Rejected(
                "Chorus cannot tell whether X published this post, so it is not sent again: "
                f"check the account on X. ({exc.message})"
            ) from exc
        wanted = comparable(self._text(draft))
        # X adds a link to the attached media at the end of the text
        matching = {wanted, f"{wanted} <link>".strip()} if draft.media else {wanted}
        reply_to = draft.reply_to.remote_id if draft.reply_to else ""
        username = str(self.credentials.identity.get("username") or "")
        for post in reversed(data.get("data") or []):  # oldest first
            post_id = str(post.get("id") or "")
            refs = {r.get("type"): str(r.get("id")) for r in post.get("referenced_tweets") or []}
            if (
                post_id
                and post_id not in exclude
                and comparable(str(post.get("text") or "")) in matching
                and refs.get("replied_to", "") == reply_to
                and len((post.get("attachments") or {}).get("media_keys") or []) == len(draft.media)
            ):
                return PublishedPost(
                    RemoteRef(post_id, url=post_url(username, post_id)),
                    published_at=parse_time(post.get("created_at")),
                )
        return None

    def delete(self, ref: RemoteRef) -> None:
        """`DELETE /2/tweets/:id` (docs.x.com/x-api/posts/delete-post); gone is fine."""
        self._call("DELETE", f"{self.api}/2/tweets/{ref.remote_id}", ok=(404,))

    # ----------------------------------------------------------------------- reading

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Mentions newer than the cursor, through `since_id` and `next_token`
        (docs.x.com/x-api/users/get-mentions); a tier without access gives a warning.

        X pages from the newest down. When more remain than `mention_pages` pages, the
        cursor becomes `since|until|newest`: the next call reads the rest of that range
        (`until_id`: older than the oldest read) before moving on to `newest`, so a burst
        of mentions is read over several calls and none is skipped.
        """
        since, until, target = [*cursor.split("|"), "", ""][:3]
        params: dict[str, Any] = {
            "max_results": 100,
            "tweet.fields": _TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": _USER_FIELDS,
        }
        if since:
            params["since_id"] = since
        if until:
            params["until_id"] = until
        items: list[Interaction] = []
        newest, user_id, more = target, self.user_id, False
        for _page in range(self.mention_pages if since else 1):
            try:
                data = self._get(f"/2/users/{user_id}/mentions", **params)
            except Rejected as exc:
                if items:
                    more = True
                    break
                return InteractionPage(items=(), cursor=cursor, warnings=(exc.message,))
            users = users_of(data)
            items += [interaction(p, users, user_id) for p in data.get("data") or []]
            meta = data.get("meta") or {}
            if meta.get("newest_id") and _newer(str(meta["newest_id"]), newest):
                newest = str(meta["newest_id"])
            more = bool(meta.get("next_token"))
            if not more:
                break
            params["pagination_token"] = meta["next_token"]
        items.sort(key=lambda item: (len(item.remote_id), item.remote_id))
        if since and more and items:  # the rest of (since, oldest read) comes next time
            return InteractionPage(
                items=tuple(items), cursor=f"{since}|{items[0].remote_id}|{newest}"
            )
        return InteractionPage(items=tuple(items), cursor=newest or since)

    def fetch_thread(self, ref: RemoteRef) -> tuple[Interaction, ...]:
        """The conversation through recent search (`conversation_id:`, last 7 days;
        docs.x.com/x-api/posts/search-recent-posts); none where the tier has no search."""
        try:
            post = self._get(f"/2/tweets/{ref.remote_id}", **{"tweet.fields": _TWEET_FIELDS})
            conversation = str((post.get("data") or {}).get("conversation_id") or "")
            if not conversation:
                return ()
            data = self._get(
                "/2/tweets/search/recent",
                query=f"conversation_id:{conversation}",
                max_results=100,
                expansions="author_id",
                **{"tweet.fields": _TWEET_FIELDS, "user.fields": _USER_FIELDS},
            )
        except Rejected:
            return ()
        users = users_of(data)
        found = [interaction(p, users, self.user_id) for p in data.get("data") or []]
        return tuple(sorted(found, key=lambda item: (len(item.remote_id), item.remote_id)))

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """`GET /2/tweets?ids=` with `public_metrics` (docs.x.com/x-api/posts/get-posts-by-ids),
        100 ids a call; impressions come with it for the author's own posts."""
        results: list[PostMetrics] = []
        by_id = {ref.remote_id: ref for ref in refs}
        ids = list(by_id)
        for start in range(0, len(ids), 100):
            data = self._get(
                "/2/tweets",
                ids=",".join(ids[start : start + 100]),
                **{"tweet.fields": "public_metrics"},
            )
            for post in data.get("data") or []:
                counts = post.get("public_metrics") or {}
                ref = by_id.get(str(post.get("id")))
                if ref is None:
                    continue
                results.append(
                    PostMetrics(
                        ref=ref,
                        likes=int(counts.get("like_count") or 0),
                        reposts=int(counts.get("retweet_count") or 0),
                        replies=int(counts.get("reply_count") or 0),
                        quotes=int(counts.get("quote_count") or 0),
                        extra={
                            "impressions": int(counts.get("impression_count") or 0),
                            "bookmarks": int(counts.get("bookmark_count") or 0),
                        },
                    )
                )
        return results

    def fetch_account_metrics(self) -> AccountMetrics:
        """`GET /2/users/me` with `public_metrics`."""
        user = self._get("/2/users/me", **{"user.fields": "public_metrics"}).get("data") or {}
        counts = user.get("public_metrics") or {}
        return AccountMetrics(
            followers=int(counts.get("followers_count") or 0),
            following=int(counts.get("following_count") or 0),
            posts=int(counts.get("tweet_count") or 0),
            extra={
                "listed": int(counts.get("listed_count") or 0),
                "likes": int(counts.get("like_count") or 0),
            },
        )


def _newer(candidate: str, current: str) -> bool:
    """Post ids are growing integers (snowflakes), compared as numbers."""
    if not current:
        return True
    return (len(candidate), candidate) > (len(current), current)
