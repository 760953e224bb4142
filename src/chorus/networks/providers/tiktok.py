"""TikTok connector: one TikTok account, through Login Kit (OAuth 2) and the Content Posting API.

The installation registers one app on developers.tiktok.com with the Login Kit and Content
Posting API products (Direct Post on) and sets its client key and secret
(CHORUS_TIKTOK_CLIENT_KEY, CHORUS_TIKTOK_CLIENT_SECRET; docs/networks/tiktok.md).
Connecting sends the user to `www.tiktok.com/v2/auth/authorize/` and trades the code at
`POST /v2/oauth/token/` (developers.tiktok.com/doc/login-kit-web and
.../oauth-user-access-token-management) for an access token (24 hours) and a refresh
token (365 days); web apps use no PKCE. `refresh` renews them with the same endpoint.

Publishing is Direct Post (developers.tiktok.com/doc/content-posting-api-reference-direct-post):
1. `POST /v2/post/publish/creator_info/query/` before each post: the audiences the account
   offers, whether it has comments, duets or stitches off, the longest video it may post.
   A post it cannot make (that audience, that length) is refused before anything is sent.
   Until TikTok audits the app every post must be private (SELF_ONLY): CHORUS_TIKTOK_AUDITED.
2. A video: `POST /v2/post/publish/video/init/` with FILE_UPLOAD (then the chunks are PUT
   to `upload_url`; tiktok_media) or PULL_FROM_URL (CHORUS_TIKTOK_PULL_FROM_URL: TikTok
   fetches a signed link on the site address, whose domain the app must have verified).
   Photos: `POST /v2/post/publish/content/init/`, media_type PHOTO, PULL_FROM_URL only.
3. `POST /v2/post/publish/status/fetch/` (developers.tiktok.com/doc/
   content-posting-api-reference-get-video-status): PROCESSING_UPLOAD or
   PROCESSING_DOWNLOAD, then PUBLISH_COMPLETE (with `publicaly_available_post_id` once a
   public post passes moderation) or FAILED with `fail_reason`. Providers never sleep:
   while TikTok processes, PublishProcessing (a Transient) and the dispatcher tries again.

Exactly once. Init is not idempotent. The `publish_id` is kept in the account's identity
(persisted by the caller through `credentials_changed`) before the post can go out (before
the last chunk, or right after a PULL_FROM_URL init), under the draft's idempotency key;
`publish` and `find_published` settle a kept publish_id by its status and never init a
second time for it. Without one (the init's answer was lost), `find_published` reads the
account's public videos (`POST /v2/video/list/`) for one with this caption since the first
attempt. A private post is not listed there: docs/networks.md says what that leaves.

Reading: counts from `POST /v2/video/query/` and `GET /v2/user/info/` (Display API);
TikTok's APIs offer apps no reading or answering of comments, so the inbox stays empty
with a notice saying so; TikTok has no API to delete a post.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from chorus.networks.media_links import public_media_url
from chorus.text import count

from . import tiktok_media
from .base import (
    AccountIdentity,
    AccountMetrics,
    AuthExpired,
    Credentials,
    InteractionPage,
    Limits,
    Media,
    OAuthApp,
    OAuthSignIn,
    PostDraft,
    PostMetrics,
    Provider,
    PublishedPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from .threads_wire import comparable
from .tiktok_wire import (
    API_URL,
    FAILURES,
    GUIDE,
    PRIVACY,
    api_url,
    app_options,
    audited,
    auth_url,
    data_of,
    secrets_of,
    token_answer,
)
from .wire import send

SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
    "video.list",
)
PHOTO_DESCRIPTION = 4000  # a photo post's description, in UTF-16 code units
NO_COMMENTS = (
    "TikTok's API does not let apps read or answer comments, so TikTok conversations do "
    "not reach the inbox: answer them in the TikTok app."
)
_PENDING = "pending_publishes"  # identity key: idempotency key -> publish in flight
_PENDING_TTL_S = 7 * 86400
_UPLOAD_URL_TTL_S = 3600  # an upload_url is valid for an hour (direct-post reference)
_CLOCK_DRIFT = timedelta(minutes=2)
_REFRESH_MARGIN_S = 300
_VIDEO_FIELDS = "id,title,video_description,create_time,share_url"
_USER_FIELDS = "open_id,union_id,avatar_url,display_name,username,profile_deep_link"
_PROCESSING = ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD")


def _post_ids(status: dict[str, Any]) -> list[str]:
    """`publicaly_available_post_id` (TikTok's spelling): documented as a list, seen as a
    single number too."""
    ids = status.get("publicaly_available_post_id") or []
    return [str(i) for i in (ids if isinstance(ids, list) else [ids]) if i]


class PublishProcessing(Transient):
    """TikTok is still receiving or processing the post: look again later."""


class TikTok(OAuthSignIn, Provider):
    """One TikTok account, acting through the installation's TikTok app."""

    key = "tiktok"
    name = "TikTok"
    auth_kind = "oauth2"
    asks_server = False
    app_settings = {
        "client_key": "CHORUS_TIKTOK_CLIENT_KEY",
        "client_secret": "CHORUS_TIKTOK_CLIENT_SECRET",
    }
    setup_guide = GUIDE
    # Captions: 2,200 UTF-16 code units (direct-post page, post_info.title); media from
    # developers.tiktok.com/doc/content-posting-api-media-transfer-guide.
    limits = Limits(
        max_text=2200,
        text_counting="utf16",
        max_media=tiktok_media.MAX_PHOTOS,
        media_types=tiktok_media.MEDIA_TYPES,
        max_image_bytes=tiktok_media.PHOTO_BYTES,
        max_video_bytes=tiktok_media.VIDEO_BYTES,
        supports_threads=False,
        supports_first_comment=False,  # the Content Posting API writes no comments
        requires_media=True,
        rate_limit_note=(
            "Per access token and minute: 6 post initialisations, 20 creator-info reads, "
            "30 status reads; TikTok also caps posts per account and day, and posting "
            "accounts per app and day: see docs/networks/tiktok.md."
        ),
    )

    @classmethod
    def notice(cls) -> str:
        if audited():
            return ""
        from django.utils.translation import gettext

        return gettext(
            "Until TikTok audits this installation's app, every TikTok post Chorus makes is "
            "private: only the account itself can see it."
        )

    # ----------------------------------------------------------------------- connect

    @classmethod
    def normalize_server_url(cls, url: str) -> str:
        return api_url()

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(str(identity.get("api_url") or API_URL)).netloc

    @classmethod
    def register_app(
        cls, server_url: str, *, redirect_uri: str, http: httpx.Client, **options: str
    ) -> OAuthApp:
        """One TikTok app per installation, made by hand: it comes from settings."""
        options = {**app_options(), **options}
        return cls.installation_app(
            client_id=options.get("client_key", ""),
            client_secret=options.get("client_secret", ""),
            needed={
                "CHORUS_TIKTOK_CLIENT_KEY": options.get("client_key", ""),
                "CHORUS_TIKTOK_CLIENT_SECRET": options.get("client_secret", ""),
            },
            server_url=api_url(),
            redirect_uri=redirect_uri,
            scopes=",".join(SCOPES),
        )

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        """developers.tiktok.com/doc/login-kit-web (authorization page, v2)."""
        query = {
            "client_key": app.client_id,
            "scope": app.scopes,
            "response_type": "code",
            "redirect_uri": app.redirect_uri,
            "state": state,
        }
        return f"{auth_url()}/v2/auth/authorize/?{urlencode(query)}"

    @classmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        """developers.tiktok.com/doc/oauth-user-access-token-management (fetch an access
        token using an authorization code)."""
        tokens = token_answer(
            send(
                http,
                "POST",
                f"{app.server_url}/v2/oauth/token/",
                data={
                    "client_key": app.client_id,
                    "client_secret": app.client_secret,
                    "code": code,
                    "grant_type": "authorization_code",
                    "redirect_uri": app.redirect_uri,
                },
            ),
            "connect",
        )
        identity = {"open_id": str(tokens.get("open_id") or ""), "scope": tokens.get("scope", "")}
        if app.server_url != API_URL:
            identity["api_url"] = app.server_url
        return Credentials(identity=identity, secrets=secrets_of(tokens))

    # ----------------------------------------------------------------------- plumbing

    @property
    def api(self) -> str:
        return str(self.credentials.identity.get("api_url") or API_URL).rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One request as this account (the token renewed first when about to expire);
        the answer's `data`, or a typed error."""
        expires_at = int(self.credentials.secrets.get("expires_at") or 0)
        if expires_at and expires_at - time.time() < _REFRESH_MARGIN_S:
            self.refresh()
        token = self.credentials.secrets.get("access_token", "")
        if not token:
            raise AuthExpired("This TikTok account has no sign-in. Reconnect it.")
        headers = {"Authorization": f"Bearer {token}"}
        if method == "POST":
            headers["Content-Type"] = "application/json; charset=UTF-8"
            kwargs.setdefault("json", {})
        return data_of(send(self.http, method, f"{self.api}{path}", headers=headers, **kwargs))

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        """`GET /v2/user/info/` (developers.tiktok.com/doc/tiktok-api-v2-get-user-info)."""
        user = self._call("GET", "/v2/user/info/", params={"fields": _USER_FIELDS}).get("user")
        if not isinstance(user, dict) or not user.get("open_id"):
            raise Transient("TikTok did not say whose sign-in this is")
        username = str(user.get("username") or user.get("display_name") or user["open_id"])
        known = {"open_id": str(user["open_id"]), "username": username}
        if any(self.credentials.identity.get(k) != v for k, v in known.items()):
            self.credentials.identity.update(known)
            self.credentials_changed = True
        return AccountIdentity(
            remote_id=known["open_id"],
            handle=username,
            display_name=str(user.get("display_name") or username),
            avatar_url=str(user.get("avatar_url") or ""),
            profile_url=str(user.get("profile_deep_link") or f"https://www.tiktok.com/@{username}"),
        )

    def refresh(self) -> None:
        """developers.tiktok.com/doc/oauth-user-access-token-management (refresh an access
        token); a refresh token past its 365 days, or revoked, means reconnecting."""
        refresh_token = self.credentials.secrets.get("refresh_token", "")
        options = app_options()
        if not refresh_token:
            raise AuthExpired("TikTok gave this account no refresh token. Reconnect it.")
        if not options.get("client_key") or not options.get("client_secret"):
            raise AuthExpired(f"TikTok is not set up on this installation (see {GUIDE}).")
        response = send(
            self.http,
            "POST",
            f"{self.api}/v2/oauth/token/",
            data={
                "client_key": options["client_key"],
                "client_secret": options["client_secret"],
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )
        tokens = token_answer(response, "refresh")
        self.credentials.secrets = secrets_of(tokens, refresh_token)
        self.credentials_changed = True

    # ----------------------------------------------------------------------- publishing

    @staticmethod
    def caption(draft: PostDraft) -> str:
        if draft.link and draft.link not in draft.text:
            return f"{draft.text.rstrip()}\n\n{draft.link}".strip()
        return draft.text

    def check(self, draft: PostDraft) -> None:
        """Refuse before any call what TikTok would refuse."""
        if draft.reply_to is not None:
            raise Rejected("TikTok posts cannot answer other posts: TikTok has no threads.")
        if draft.poll is not None:
            raise Rejected("TikTok posts cannot carry a poll.")
        tiktok_media.check(draft.media)
        used = count(self.caption(draft), self.limits.text_counting)
        if used > self.limits.max_text:
            raise Rejected(
                f"This caption has {used} characters as TikTok counts them; TikTok takes "
                f"{self.limits.max_text}."
            )

    def publish(self, draft: PostDraft) -> PublishedPost:
        self.check(draft)
        entry = self._pending().get(draft.idempotency_key)
        if entry is not None:
            done = self._settle(draft.idempotency_key, entry)
            if done is not None:
                return done
        creator = self._call("POST", "/v2/post/publish/creator_info/query/")
        privacy = self._privacy(draft, creator)
        if tiktok_media.is_video(draft.media[0]):
            entry = self._post_video(draft, creator, privacy)
        else:
            entry = self._post_photos(draft, creator, privacy)
        done = self._settle(draft.idempotency_key, entry)
        if done is None:
            raise Transient("TikTok failed to publish the post on its side; Chorus sends it again")
        return done

    def _privacy(self, draft: PostDraft, creator: dict[str, Any]) -> str:
        """The privacy level to post with, if the account offers it; before the app's audit
        every post is SELF_ONLY."""
        offered = [str(o) for o in creator.get("privacy_level_options") or []]
        wanted = PRIVACY.get(draft.visibility, "PUBLIC_TO_EVERYONE") if audited() else "SELF_ONLY"
        if wanted not in offered:
            raise Rejected(
                f"This TikTok account cannot post as {wanted}; it offers "
                f"{', '.join(offered) or 'nothing'}."
            )
        return wanted

    def _post_info(self, creator: dict[str, Any], privacy: str, **fields: Any) -> dict[str, Any]:
        """Interactions the account has switched off stay off (creator_info)."""
        return {
            **fields,
            "privacy_level": privacy,
            "disable_comment": bool(creator.get("comment_disabled")),
        }

    def _post_video(self, draft: PostDraft, creator: dict[str, Any], privacy: str) -> dict:
        media = draft.media[0]
        seconds = tiktok_media.video_seconds(media)
        longest = creator.get("max_video_post_duration_sec")
        if seconds is not None and isinstance(longest, int) and 0 < longest < seconds:
            raise Rejected(
                f"This video is {seconds:.0f} seconds long; this TikTok account may post "
                f"videos of up to {longest} seconds."
            )
        post_info = self._post_info(
            creator,
            privacy,
            title=self.caption(draft),
            disable_duet=bool(creator.get("duet_disabled")),
            disable_stitch=bool(creator.get("stitch_disabled")),
        )
        if app_options().get("pull_from_url"):
            source = {"source": "PULL_FROM_URL", "video_url": self._media_url(media)}
            started = self._call(
                "POST",
                "/v2/post/publish/video/init/",
                json={"post_info": post_info, "source_info": source},
            )
            return self._remember(draft, started, privacy, "video")
        chunk, chunks = tiktok_media.chunks(len(media.data))
        source = {
            "source": "FILE_UPLOAD",
            "video_size": len(media.data),
            "chunk_size": chunk,
            "total_chunk_count": chunks,
        }
        started = self._call(
            "POST",
            "/v2/post/publish/video/init/",
            json={"post_info": post_info, "source_info": source},
        )
        upload_url = str(started.get("upload_url") or "")
        if not upload_url or not started.get("publish_id"):
            raise Transient("TikTok started no upload")
        pieces = tiktok_media.pieces(media.data)
        for first, last in pieces[:-1]:
            self._put(upload_url, media, first, last)
        entry = self._remember(draft, started, privacy, "video")  # the last chunk posts it
        try:
            self._put(upload_url, media, *pieces[-1])
        except Rejected:  # refused: the video is not whole, so nothing can go out
            self._forget(draft.idempotency_key)
            raise
        return entry

    def _put(self, upload_url: str, media: Media, first: int, last: int) -> None:
        """One chunk (developers.tiktok.com/doc/content-posting-api-media-transfer-guide):
        206 while more are due, 201 once the video is whole."""
        response = send(
            self.http,
            "PUT",
            upload_url,
            content=media.data[first : last + 1],
            headers={
                "Content-Type": media.mime_type,
                "Content-Range": f"bytes {first}-{last}/{len(media.data)}",
            },
        )
        if response.status_code in (200, 201, 206):
            return
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"TikTok's upload failed (HTTP {response.status_code}); Chorus retries")
        raise Rejected(f"TikTok refused the video upload (HTTP {response.status_code}).")

    def _post_photos(self, draft: PostDraft, creator: dict[str, Any], privacy: str) -> dict:
        """developers.tiktok.com/doc/content-posting-api-reference-photo-post."""
        caption = self.caption(draft)
        if count(caption, "utf16") > PHOTO_DESCRIPTION:
            raise Rejected(f"A TikTok photo post's caption takes {PHOTO_DESCRIPTION} characters.")
        body = {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": self._post_info(
                creator, privacy, description=caption, auto_add_music=True
            ),
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": [self._media_url(m) for m in draft.media],
            },
        }
        started = self._call("POST", "/v2/post/publish/content/init/", json=body)
        return self._remember(draft, started, privacy, "photo")

    def _media_url(self, media: Media) -> str:
        return public_media_url(media, network=self.name, network_url=self.api)

    # ----------------------------------------------------------------------- in flight

    def _pending(self) -> dict[str, dict[str, Any]]:
        pending = self.credentials.identity.get(_PENDING)
        return pending if isinstance(pending, dict) else {}

    def _remember(self, draft: PostDraft, started: dict[str, Any], privacy: str, kind: str):
        publish_id = str(started.get("publish_id") or "")
        if not publish_id:
            raise Transient("TikTok accepted the post but sent no publish_id")
        now = time.time()
        entry = {"id": publish_id, "at": now, "privacy": privacy, "kind": kind}
        kept = {k: v for k, v in self._pending().items() if now - v.get("at", 0) < _PENDING_TTL_S}
        self.credentials.identity[_PENDING] = {**kept, draft.idempotency_key: entry}
        self.credentials_changed = True
        return entry

    def _forget(self, key: str) -> None:
        pending = dict(self._pending())
        if pending.pop(key, None) is not None:
            self.credentials.identity[_PENDING] = pending
            self.credentials_changed = True

    def _status(self, publish_id: str) -> dict[str, Any]:
        """`POST /v2/post/publish/status/fetch/` (developers.tiktok.com/doc/
        content-posting-api-reference-get-video-status)."""
        return self._call("POST", "/v2/post/publish/status/fetch/", json={"publish_id": publish_id})

    def _settle(self, key: str, entry: dict[str, Any]) -> PublishedPost | None:
        """The post a kept publish_id became; PublishProcessing while TikTok works on it,
        Rejected when it failed for a reason sending again would not fix, None when it
        failed inside TikTok and may be sent again."""
        status = self._status(str(entry["id"]))
        state = str(status.get("status") or "")
        if state == "PROCESSING_UPLOAD" and time.time() - entry.get("at", 0) > _UPLOAD_URL_TTL_S:
            self._forget(key)  # the last chunk never arrived and its upload_url has expired:
            return None  # TikTok cannot publish it any more, so it may be sent again
        if state in _PROCESSING:
            raise PublishProcessing(f"TikTok is still processing the post ({state})")
        if state == "FAILED":
            self._forget(key)
            reason = str(status.get("fail_reason") or "")
            if reason in ("internal", ""):
                return None
            words = f"TikTok did not publish the post: {FAILURES.get(reason, reason)} ({reason})."
            if reason == "auth_removed":
                raise AuthExpired(words + " Reconnect the account.")
            if reason == "spam_risk_too_many_posts":  # the day's cap: it may go out later
                raise RateLimited(words, retry_after=3600.0)
            raise Rejected(words)
        if state not in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
            raise Transient(f"TikTok reported an unknown post status {state!r}")
        self._forget(key)
        return PublishedPost(self._ref(entry, status), published_at=datetime.now(UTC))

    def _ref(self, entry: dict[str, Any], status: dict[str, Any]) -> RemoteRef:
        """The public post id when TikTok gives one (public posts, after moderation); the
        publish_id otherwise, resolved later when counts are read."""
        ids = _post_ids(status)
        extra = {"publish_id": str(entry["id"]), "privacy": str(entry.get("privacy") or "")}
        if not ids:
            return RemoteRef(str(entry["id"]), extra=extra)
        return RemoteRef(ids[0], url=self._post_url(ids[0], str(entry.get("kind"))), extra=extra)

    def _post_url(self, post_id: str, kind: str = "video") -> str:
        username = str(self.credentials.identity.get("username") or "")
        path = "photo" if kind == "photo" else "video"
        return f"https://www.tiktok.com/@{username}/{path}/{post_id}" if username else ""

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        entry = self._pending().get(draft.idempotency_key)
        if entry is not None:
            return self._settle(draft.idempotency_key, entry)
        wanted = comparable(self.caption(draft))
        earliest = (since - _CLOCK_DRIFT).timestamp()
        try:
            for video in self._videos(pages=3):
                if int(video.get("create_time") or 0) < earliest:
                    return None
                text = str(video.get("video_description") or video.get("title") or "")
                if str(video.get("id")) not in exclude and comparable(text) == wanted:
                    return self._listed(video)
        except Rejected as exc:
            raise Rejected(
                "Chorus cannot tell whether TikTok published this post, so it is not sent "
                f"again: check the account on TikTok. ({exc.message})"
            ) from exc
        return None

    def _videos(self, *, pages: int):
        """The account's public videos, newest first (`POST /v2/video/list/`,
        developers.tiktok.com/doc/tiktok-api-v2-video-list)."""
        cursor: int | None = None
        for _ in range(pages):
            body: dict[str, Any] = {"max_count": 20}
            if cursor is not None:
                body["cursor"] = cursor
            data = self._call(
                "POST", "/v2/video/list/", params={"fields": _VIDEO_FIELDS}, json=body
            )
            yield from (v for v in data.get("videos") or [] if isinstance(v, dict) and v.get("id"))
            if not data.get("has_more"):
                return
            cursor = int(data.get("cursor") or 0)

    def _listed(self, video: dict[str, Any]) -> PublishedPost:
        created = datetime.fromtimestamp(int(video.get("create_time") or 0), tz=UTC)
        post_id = str(video["id"])
        url = str(video.get("share_url") or self._post_url(post_id))
        return PublishedPost(RemoteRef(post_id, url=url), published_at=created)

    def delete(self, ref: RemoteRef) -> None:
        raise Rejected(
            "TikTok's API has no way for apps to delete a post: delete it in the TikTok app."
        )

    # ----------------------------------------------------------------------- reading

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Nothing to read: TikTok offers apps no comments API for this (see the guide)."""
        return InteractionPage(items=(), cursor=cursor, warnings=(NO_COMMENTS,))

    def fetch_own_posts(self, *, limit: int = 100) -> tuple[PublishedPost, ...]:
        posts = []
        for video in self._videos(pages=max(1, -(-limit // 20))):
            if len(posts) >= limit:
                break
            posts.append(self._listed(video))
        return tuple(posts)

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """`POST /v2/video/query/` (developers.tiktok.com/doc/tiktok-api-v2-video-query), 20
        ids a call. A post known by its publish_id is looked up first: its public id comes
        once moderation is done; a private post never has one, and no counts."""
        by_id: dict[str, RemoteRef] = {}
        for ref in refs:
            video_id = ref.remote_id
            if ref.extra.get("publish_id") == ref.remote_id:
                status = self._status(ref.remote_id)
                ids = _post_ids(status)
                if not ids:
                    continue
                video_id = ids[0]
            by_id[video_id] = ref
        ids, results = list(by_id), []
        fields = "id,like_count,comment_count,share_count,view_count"
        for start in range(0, len(ids), 20):
            data = self._call(
                "POST",
                "/v2/video/query/",
                params={"fields": fields},
                json={"filters": {"video_ids": ids[start : start + 20]}},
            )
            for video in data.get("videos") or []:
                ref = by_id.get(str(video.get("id")))
                if ref is None:
                    continue
                results.append(
                    PostMetrics(
                        ref=ref,
                        likes=int(video.get("like_count") or 0),
                        replies=int(video.get("comment_count") or 0),
                        reposts=int(video.get("share_count") or 0),
                        extra={"views": int(video.get("view_count") or 0)},
                    )
                )
        return results

    def fetch_account_metrics(self) -> AccountMetrics:
        """`GET /v2/user/info/` with the user.info.stats fields."""
        fields = "follower_count,following_count,likes_count,video_count"
        user = self._call("GET", "/v2/user/info/", params={"fields": fields}).get("user") or {}
        return AccountMetrics(
            followers=int(user.get("follower_count") or 0),
            following=int(user.get("following_count") or 0),
            posts=int(user.get("video_count") or 0),
            extra={"likes": int(user.get("likes_count") or 0)},
        )
