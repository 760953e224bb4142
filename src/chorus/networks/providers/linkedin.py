"""LinkedIn connector: a member, or an organization page they administer, through LinkedIn's
versioned REST API with 3-legged OAuth 2.0 (sign-in in `linkedin_oauth`).

The installation registers one app in the LinkedIn developer portal and sets its client id
and secret (CHORUS_LINKEDIN_CLIENT_ID, CHORUS_LINKEDIN_CLIENT_SECRET; docs/networks/
linkedin.md). Connecting signs the member in; who the account posts as (`identity["author"]`,
a person or organization URN) is picked from `linkedin_oauth.authors`.

Publishing: `POST /rest/posts` (learn.microsoft.com/linkedin/marketing/community-management/
shares/posts-api) with `commentary` in LinkedIn's little text format (`chorus.text.linkedin`:
reserved characters escaped), public to the main feed; an image, 2-20 images or one PDF
document from `linkedin_media`; the draft's link as an `article` when there is no media.
The post's URN comes back in `x-restli-id`. A reply is a comment
(`POST /rest/socialActions/{urn}/comments`, .../shares/comments-api), nested under the
comment it answers. 3,000 characters, counted in UTF-16 code units.

Exactly once. LinkedIn takes no idempotency key. After an uncertain outcome
`find_published` reads the author's recent posts (`GET /rest/posts?q=author`; a member's
need `r_member_social`) or, for a reply, the comments on its target, for the one with this
text (read back from little), the same media count, made since the first attempt (two
minutes of clock drift) and not already recorded; if it cannot read them it refuses to
guess, so the post fails visibly and is never sent twice.

Reading: comments on the author's recent posts (the cursor is the newest comment time);
counts from social metadata (reactions and comments) and, for organizations, the share
statistics (impressions, clicks, reposts); followers from `networkSizes`. Errors in
`linkedin_wire`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from chorus.text import check_length
from chorus.text.linkedin import little_text, plain_text

from . import linkedin_media, linkedin_oauth
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
from .linkedin_oauth import api_url, auth_url, options, versioned_headers
from .linkedin_wire import (
    body,
    created_id,
    encode,
    parse_ms,
    post_url,
    raise_for,
    urn_id,
    urn_list,
)
from .wire import send

MAX_TEXT = 3000
_CLOCK_DRIFT = timedelta(minutes=2)
_REFRESH_MARGIN_S = 86400  # a day before the 60 days end
_RECENT_POSTS = 50
_POLLED_POSTS = 20
_METRICS_BATCH = 50


def _comparable(text: str) -> str:
    return " ".join(plain_text(text).split())


class LinkedIn(OAuthSignIn, Provider):
    """A LinkedIn member or organization page, acting through the installation's app."""

    key = "linkedin"
    name = "LinkedIn"
    auth_kind = "oauth2"
    asks_server = False
    app_settings = {
        "client_id": "CHORUS_LINKEDIN_CLIENT_ID",
        "client_secret": "CHORUS_LINKEDIN_CLIENT_SECRET",
    }
    setup_guide = "docs/networks/linkedin.md"
    limits = Limits(
        max_text=MAX_TEXT,  # posts-api: commentary
        text_counting="utf16",
        max_media=linkedin_media.MAX_IMAGES,
        media_types=linkedin_media.MEDIA_TYPES,
        max_image_bytes=linkedin_media.IMAGE_BYTES,
        max_alt_text=linkedin_media.ALT_TEXT,
        supports_threads=False,
        rate_limit_note=(
            "Daily limits per application and per member for each API, reset at midnight "
            "UTC; LinkedIn shows them in the developer portal's Analytics tab and answers 429 "
            "when one is spent: see docs/networks/linkedin.md."
        ),
    )

    # ----------------------------------------------------------------------- connect

    @classmethod
    def normalize_server_url(cls, url: str) -> str:
        return api_url()

    @classmethod
    def register_app(
        cls, server_url: str, *, redirect_uri: str, http: httpx.Client, **settings: str
    ) -> OAuthApp:
        """One app per installation, made by hand in the developer portal: from settings."""
        app = {**options(), **settings}
        return cls.installation_app(
            client_id=app.get("client_id", ""),
            client_secret=app.get("client_secret", ""),
            needed={
                "CHORUS_LINKEDIN_CLIENT_ID": app.get("client_id", ""),
                "CHORUS_LINKEDIN_CLIENT_SECRET": app.get("client_secret", ""),
            },
            server_url=api_url(),
            redirect_uri=redirect_uri,
            scopes=app.get("scopes") or linkedin_oauth.MEMBER_SCOPES,
        )

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        """authorization-code-flow, step 2: the member's browser to LinkedIn's consent page."""
        query = httpx.QueryParams(
            response_type="code",
            client_id=app.client_id,
            redirect_uri=app.redirect_uri,
            state=state,
            scope=app.scopes,
        )
        return f"{auth_url()}/oauth/v2/authorization?{query}"

    @classmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        """Step 3: the code for an access token; the account posts as the member until an
        organization is chosen (`linkedin_oauth.choose`)."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
        secrets = linkedin_oauth.token_request(http, auth_url(), form)
        identity = {
            name: url
            for name, url, default in (
                ("api_url", api_url(), linkedin_oauth.API_URL),
                ("auth_url", auth_url(), linkedin_oauth.AUTH_URL),
            )
            if url != default
        }
        return Credentials(identity=identity, secrets=secrets)

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(api_url(identity)).netloc

    # ----------------------------------------------------------------------- plumbing

    @property
    def api(self) -> str:
        return api_url(self.credentials.identity)

    @property
    def author(self) -> str:
        """The URN this account posts as; the member when none was chosen yet."""
        author = str(self.credentials.identity.get("author") or "")
        if not author:
            self.verify()
            author = str(self.credentials.identity["author"])
        return author

    @property
    def is_organization(self) -> bool:
        return self.author.startswith("urn:li:organization:")

    def _scope(self, member: str, organization: str) -> str:
        return organization if self.is_organization else member

    def _call(
        self,
        method: str,
        url: str,
        *,
        ok: Sequence[int] = (),
        scope: str = "",
        versioned: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request as this account: the token renewed first when it is about to expire
        and a refresh token allows it; refusals raised as typed errors."""
        secrets = self.credentials.secrets
        expires_at = int(secrets.get("expires_at") or 0)
        if expires_at and expires_at - time.time() < _REFRESH_MARGIN_S:
            if secrets.get("refresh_token"):
                self.refresh()
            elif expires_at <= time.time():
                raise AuthExpired("This LinkedIn sign-in ended after 60 days. Reconnect it.")
        token = self.credentials.secrets.get("access_token", "")
        if not token:
            raise AuthExpired("This LinkedIn account has no sign-in. Reconnect it.")
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
        if versioned:
            headers |= versioned_headers()
        response = send(self.http, method, url, headers=headers, **kwargs)
        if response.status_code not in ok:
            raise_for(response, scope=scope, granted=self.credentials.secrets.get("scope", ""))
        return response

    def _readable(self, scope: str, what: str) -> None:
        """Reads that need a permission LinkedIn grants only to approved apps are refused
        (Rejected, not AuthExpired: reconnecting would not help) when the token lacks it."""
        if scope not in self.credentials.secrets.get("scope", "").split():
            raise Rejected(
                f"LinkedIn lets Chorus read {what} only with the {scope} permission, which "
                f"this sign-in lacks (see {self.setup_guide})."
            )

    def _get(self, path: str, *, scope: str = "") -> dict[str, Any]:
        return body(self._call("GET", f"{self.api}{path}", scope=scope))

    # ----------------------------------------------------------------------- account

    def verify(self) -> AccountIdentity:
        """The member (`/v2/userinfo`) or the organization (`/rest/organizations/{id}`)."""
        person = linkedin_oauth.member(self.http, self.credentials)
        member_urn = f"urn:li:person:{person['sub']}"
        identity = self.credentials.identity
        author = str(identity.get("author") or member_urn)
        if identity.get("member") != member_urn or identity.get("author") != author:
            identity.update(member=member_urn, author=author)
            self.credentials_changed = True
        if author == member_urn:
            name = str(person.get("name") or member_urn)
            return AccountIdentity(
                remote_id=member_urn,
                handle=name,
                display_name=name,
                avatar_url=str(person.get("picture") or ""),
            )
        if not author.startswith("urn:li:organization:"):
            raise AuthExpired("This LinkedIn account now belongs to someone else. Reconnect it.")
        org = linkedin_oauth.organization(self.http, self.credentials, author)
        name = str(org.get("localizedName") or author)
        vanity = str(org.get("vanityName") or urn_id(author))
        return AccountIdentity(
            remote_id=author,
            handle=vanity,
            display_name=name,
            profile_url=f"https://www.linkedin.com/company/{vanity}/",
        )

    def refresh(self) -> None:
        """programmatic-refresh-tokens: a new access token from the refresh token; without
        one (most apps) the member signs in again when the 60 days end."""
        secrets = self.credentials.secrets
        refresh_token = secrets.get("refresh_token", "")
        if not refresh_token:
            raise AuthExpired("LinkedIn gave this account no refresh token. Reconnect it.")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        fresh = linkedin_oauth.token_request(self.http, auth_url(self.credentials.identity), form)
        fresh.setdefault("refresh_token", refresh_token)
        fresh.setdefault("refresh_expires_at", secrets.get("refresh_expires_at", ""))
        if not fresh["scope"]:
            fresh["scope"] = secrets.get("scope", "")
        self.credentials.secrets = fresh
        self.credentials_changed = True

    # ----------------------------------------------------------------------- publishing

    @staticmethod
    def _text(draft: PostDraft) -> str:
        """The commentary as typed; the link goes in it when media leaves no article."""
        if draft.link and draft.media and draft.link not in draft.text:
            return f"{draft.text.rstrip()}\n\n{draft.link}".strip()
        return draft.text

    def check(self, draft: PostDraft) -> None:
        """Refuse before any call what LinkedIn would refuse, naming what to change."""
        text = self._text(draft)
        length = check_length(text, "utf16", MAX_TEXT)
        if length.over:
            raise Rejected(
                f"This post is {length.count} characters as LinkedIn counts them; LinkedIn "
                f"takes {length.limit}. Shorten it."
            )
        if not text.strip() and not draft.media and not draft.link:
            raise Rejected("A LinkedIn post needs text, a link or media.")
        if draft.poll is not None:
            raise Rejected("Chorus cannot make LinkedIn polls.")
        if draft.reply_to is not None and draft.media:
            raise Rejected("Chorus answers on LinkedIn with text only.")
        linkedin_media.check(draft.media)

    def publish(self, draft: PostDraft) -> PublishedPost:
        self.check(draft)
        if draft.reply_to is not None:
            return self._comment(draft)
        scope = self._scope("w_member_social", "w_organization_social")
        payload: dict[str, Any] = {
            "author": self.author,
            "commentary": little_text(self._text(draft)),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        content = linkedin_media.content(
            lambda *a, **k: self._call(*a, scope=scope, **k), self.api, self.author, draft.media
        )
        if content is None and draft.link:
            content = {"article": {"source": draft.link, "title": draft.link}}
        if content is not None:
            payload["content"] = content
        response = self._call("POST", f"{self.api}/rest/posts", json=payload, scope=scope)
        urn = created_id(response)
        return PublishedPost(RemoteRef(urn, url=post_url(urn)), published_at=datetime.now(UTC))

    def _comment(self, draft: PostDraft) -> PublishedPost:
        """comments-api: a comment on our post, or nested under the comment it answers."""
        target = draft.reply_to.remote_id
        payload: dict[str, Any] = {
            "actor": self.author,
            "object": draft.reply_to.extra.get("post") or target,
            "message": {"text": little_text(draft.text)},
        }
        if target.startswith("urn:li:comment:"):
            payload["object"] = draft.reply_to.extra.get("post") or _comment_post(target)
            payload["parentComment"] = target
        scope = self._scope("w_member_social", "w_organization_social")
        response = self._call(
            "POST",
            f"{self.api}/rest/socialActions/{encode(target)}/comments",
            json=payload,
            scope=scope,
        )
        data = body(response)
        urn = str(data.get("commentUrn") or data.get("$URN") or "")
        if not urn:
            urn = f"urn:li:comment:({payload['object']},{created_id(response)})"
        return PublishedPost(
            RemoteRef(urn, url=post_url(str(payload["object"])), extra={"post": target}),
            published_at=datetime.now(UTC),
        )

    def _recent_posts(self, count: int = _RECENT_POSTS) -> list[dict[str, Any]]:
        """posts-api, "Find Posts by Authors": newest first."""
        query = f"q=author&author={encode(self.author)}&count={count}&sortBy=LAST_MODIFIED"
        scope = self._scope("r_member_social", "r_organization_social")
        self._readable(scope, "the account's posts")
        return list(self._get(f"/rest/posts?{query}", scope=scope).get("elements") or [])

    def _comments(self, target: str) -> list[dict[str, Any]]:
        """comments-api, "Retrieve Comments on Shares": newest first."""
        scope = self._scope("r_member_social", "r_organization_social")
        self._readable(scope, "comments")
        data = self._get(f"/rest/socialActions/{encode(target)}/comments?count=100", scope=scope)
        return list(data.get("elements") or [])

    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        after = since - _CLOCK_DRIFT
        try:
            if draft.reply_to is not None:
                return self._find_comment(draft, after, exclude)
            posts = self._recent_posts()
        except Rejected as exc:
            raise Rejected(
                "Chorus cannot tell whether LinkedIn published this post, so it is not sent "
                f"again: check the account on LinkedIn. ({exc.message})"
            ) from exc
        wanted = _comparable(little_text(self._text(draft)))
        for post in reversed(posts):  # oldest first
            urn = str(post.get("id") or "")
            made = parse_ms(post.get("createdAt") or post.get("publishedAt"))
            if (
                urn
                and urn not in exclude
                and made >= after
                and _comparable(str(post.get("commentary") or "")) == wanted
                and linkedin_media.media_count(post) == len(draft.media)
            ):
                return PublishedPost(RemoteRef(urn, url=post_url(urn)), published_at=made)
        return None

    def _find_comment(
        self, draft: PostDraft, after: datetime, exclude: frozenset[str]
    ) -> PublishedPost | None:
        target = draft.reply_to.remote_id
        wanted = _comparable(little_text(draft.text))
        for comment in reversed(self._comments(target)):
            urn = str(comment.get("commentUrn") or comment.get("$URN") or "")
            made = parse_ms((comment.get("created") or {}).get("time"))
            text = str((comment.get("message") or {}).get("text") or "")
            if (
                urn
                and urn not in exclude
                and comment.get("actor") == self.author
                and made >= after
                and _comparable(text) == wanted
            ):
                ref = RemoteRef(urn, url=post_url(str(comment.get("object") or target)))
                return PublishedPost(ref, published_at=made)
        return None

    def delete(self, ref: RemoteRef) -> None:
        """posts-api "Delete Posts", or comments-api "Delete Comments"; gone is fine."""
        scope = self._scope("w_member_social", "w_organization_social")
        if ref.remote_id.startswith("urn:li:comment:"):
            target = ref.extra.get("post") or _comment_post(ref.remote_id)
            comment = ref.remote_id.rstrip(")").rsplit(",", 1)[-1]
            url = f"{self.api}/rest/socialActions/{encode(target)}/comments/{comment}"
            self._call("DELETE", f"{url}?actor={encode(self.author)}", ok=(404,), scope=scope)
            return
        self._call(
            "DELETE", f"{self.api}/rest/posts/{encode(ref.remote_id)}", ok=(404,), scope=scope
        )

    # ----------------------------------------------------------------------- reading

    def fetch_own_posts(self, *, limit: int = 100) -> tuple[PublishedPost, ...]:
        posts = self._recent_posts(min(limit, 100))
        return tuple(
            PublishedPost(
                RemoteRef(str(p["id"]), url=post_url(str(p["id"]))),
                published_at=parse_ms(p.get("createdAt") or p.get("publishedAt")),
            )
            for p in posts
            if p.get("id")
        )

    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Comments by others on the author's recent posts, newer than the cursor (the newest
        comment time seen, epoch milliseconds); without read access, a warning."""
        since = int(cursor or 0)
        try:
            posts = self._recent_posts(_POLLED_POSTS)
            comments = [(p, c) for p in posts if p.get("id") for c in self._comments(p["id"])]
        except Rejected as exc:
            return InteractionPage(items=(), cursor=cursor, warnings=(exc.message,))
        items, newest = [], since
        for post, comment in comments:
            made = int((comment.get("created") or {}).get("time") or 0)
            urn = str(comment.get("commentUrn") or comment.get("$URN") or "")
            if made <= since or not urn or comment.get("actor") == self.author:
                continue
            newest = max(newest, made)
            actor = str(comment.get("actor") or "")
            items.append(
                Interaction(
                    kind="reply",
                    remote_id=urn,
                    author_handle=actor,
                    created_at=parse_ms(made),
                    text=plain_text(str((comment.get("message") or {}).get("text") or "")),
                    url=post_url(str(post["id"])),
                    subject=RemoteRef(str(post["id"]), url=post_url(str(post["id"]))),
                    conversation_id=str(post["id"]),
                    in_reply_to=str(comment.get("parentComment") or post["id"]),
                )
            )
        items.sort(key=lambda item: item.created_at)
        return InteractionPage(items=tuple(items), cursor=str(newest) if newest else cursor)

    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """Reactions and comments from social metadata (.../shares/social-metadata-api);
        for an organization, impressions, clicks and reposts from its share statistics
        (.../organizations/share-statistics)."""
        posts = [ref for ref in refs if not ref.remote_id.startswith("urn:li:comment:")]
        results = []
        for start in range(0, len(posts), _METRICS_BATCH):
            batch = posts[start : start + _METRICS_BATCH]
            urns = [ref.remote_id for ref in batch]
            scope = self._scope("r_member_social", "r_organization_social")
            self._readable(scope, "reactions and comment counts")
            meta = self._get(f"/rest/socialMetadata?ids={urn_list(urns)}", scope=scope)
            stats = self._share_statistics(urns) if self.is_organization else {}
            for ref in batch:
                found = (meta.get("results") or {}).get(ref.remote_id)
                if found is None:
                    continue
                reactions = found.get("reactionSummaries") or {}
                counts = stats.get(ref.remote_id, {})
                extra = {
                    name: int(counts.get(key) or 0)
                    for name, key in (
                        ("impressions", "impressionCount"),
                        ("unique_impressions", "uniqueImpressionsCount"),
                        ("clicks", "clickCount"),
                    )
                    if key in counts
                }
                results.append(
                    PostMetrics(
                        ref=ref,
                        likes=sum(int((r or {}).get("count") or 0) for r in reactions.values()),
                        reposts=int(counts.get("shareCount") or 0),
                        replies=int((found.get("commentSummary") or {}).get("count") or 0),
                        extra=extra,
                    )
                )
        return results

    def _share_statistics(self, urns: list[str]) -> dict[str, dict[str, Any]]:
        shares = [u for u in urns if u.startswith("urn:li:share:")]
        ugc = [u for u in urns if u.startswith("urn:li:ugcPost:")]
        query = f"q=organizationalEntity&organizationalEntity={encode(self.author)}"
        if shares:
            query += f"&shares={urn_list(shares)}"
        if ugc:
            query += f"&ugcPosts={urn_list(ugc)}"
        data = self._get(
            f"/rest/organizationalEntityShareStatistics?{query}", scope="rw_organization_admin"
        )
        return {
            str(e.get("share") or e.get("ugcPost")): e.get("totalShareStatistics") or {}
            for e in data.get("elements") or []
        }

    def fetch_account_metrics(self) -> AccountMetrics:
        """An organization's followers (`GET /rest/networkSizes/{urn}?edgeType=
        COMPANY_FOLLOWED_BY_MEMBER`, .../organizations/organization-lookup-api); a member's
        (`GET /rest/memberFollowersCount?q=me`, .../members/follower-statistics)."""
        if self.is_organization:
            path = f"/rest/networkSizes/{encode(self.author)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
            data = self._get(path, scope="rw_organization_admin")
            return AccountMetrics(followers=int(data.get("firstDegreeSize") or 0))
        self._readable("r_member_profileAnalytics", "a member's follower count")
        data = self._get("/rest/memberFollowersCount?q=me", scope="r_member_profileAnalytics")
        elements = data.get("elements") or [{}]
        return AccountMetrics(followers=int(elements[0].get("memberFollowersCount") or 0))


def _comment_post(comment_urn: str) -> str:
    """The post a comment is on: `urn:li:comment:(urn:li:activity:1,2)` → its activity."""
    inside = comment_urn.removeprefix("urn:li:comment:(").rstrip(")")
    return inside.rsplit(",", 1)[0]
