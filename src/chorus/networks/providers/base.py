"""The one small interface every social network implements.

A provider speaks one network's wire protocol and nothing else: it never sleeps,
never retries and never touches the database. It raises one of the typed errors
below and the caller (the dispatcher, the inbox poller, the connect flow) owns the
policy: hold, retry later, or tell the user.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar, Literal

import httpx

# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """Base of every error a provider raises; `message` is shown to users as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AuthExpired(ProviderError):
    """The token is expired or revoked: hold the work and ask the user to reconnect."""


class RateLimited(ProviderError):
    """The network asked us to slow down; `retry_after` seconds come from its headers."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(ProviderError):
    """The network refused this request for good (bad input, too long, not found...)."""


class AccountGone(Rejected):
    """The public account asked for does not exist, or no longer does (deleted, suspended,
    deactivated): reading it again will not help."""


class Transient(ProviderError):
    """A passing fault (timeout, 5xx, connection refused): safe to retry later.

    `media_ids` names what this try already made on the network for the post (uploads,
    Meta containers) that the retry may reuse: the caller keeps them with the post's attempt
    state and passes them back as `publish(draft, media_ids=...)`. Empty: start afresh."""

    media_ids: tuple[str, ...] = ()


class MediaProcessing(Transient):
    """The network is still processing uploaded media: publish again later with these ids."""

    def __init__(self, message: str, *, media_ids: tuple[str, ...]):
        super().__init__(message)
        self.media_ids = tuple(media_ids)


# --------------------------------------------------------------------------- values

TextCounting = Literal["graphemes", "mastodon", "x-weighted", "telegram", "utf16"]
InteractionKind = Literal["reply", "mention", "quote", "like", "repost", "follow", "direct_message"]


@dataclass(frozen=True)
class Limits:
    """What a network accepts; the composer validates against these before publishing."""

    max_text: int
    text_counting: TextCounting
    max_media: int
    media_types: tuple[str, ...]
    max_image_bytes: int
    max_video_bytes: int = 0
    max_text_bytes: int = 0  # a limit in UTF-8 bytes on top of max_text (Bluesky: 3,000)
    max_caption: int = 0  # the text limit when the post carries media, if lower (Telegram)
    max_alt_text: int = 0
    supports_polls: bool = False
    max_poll_options: int = 0
    max_poll_option_length: int = 0
    supports_threads: bool = True
    supports_content_warning: bool = False
    supports_direct_messages: bool = False
    requires_media: bool = False  # a post is a photo or a video (Instagram, TikTok)
    supports_first_comment: bool = True  # False: apps cannot comment on the post (TikTok)
    url_length: int | None = None  # a URL counts as this many characters, if fixed
    rate_limit_note: str = ""  # the network's documented budget, in plain words
    # (requests, seconds) one server allows from one IP address, whatever the account:
    # the dispatcher shares it among every account hosted there (see networks.budgets)
    server_budget: tuple[int, int] | None = None

    # The values a server of the network may set for itself (Mastodon's instance
    # configuration); stored per server by chorus.networks.services.server_limits_refresh.
    SERVER_FIELDS: ClassVar[tuple[str, ...]] = (
        "max_text",
        "url_length",
        "max_media",
        "media_types",
        "max_image_bytes",
        "max_video_bytes",
        "max_alt_text",
        "max_poll_options",
        "max_poll_option_length",
    )

    def server_values(self) -> dict[str, Any]:
        """The per-server values, JSON-ready."""
        values = {name: getattr(self, name) for name in self.SERVER_FIELDS}
        values["media_types"] = list(self.media_types)
        return values

    def with_server_values(self, values: dict[str, Any]) -> Limits:
        """These limits with a server's stored values; anything missing or unusable (not a
        positive number, an empty type list) keeps the documented default."""
        changes: dict[str, Any] = {}
        for name in self.SERVER_FIELDS:
            value = values.get(name)
            if name == "media_types":
                if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                    changes[name] = tuple(value)
            elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
                changes[name] = value
        return replace(self, **changes) if changes else self


@dataclass
class Credentials:
    """What we keep to act as one account. `secrets` are encrypted at rest by the caller."""

    identity: dict[str, Any] = field(default_factory=dict)  # handle, did, server URL...
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # tokens; never logged


@dataclass(frozen=True)
class AccountIdentity:
    remote_id: str
    handle: str
    display_name: str = ""
    avatar_url: str = ""
    profile_url: str = ""


@dataclass(frozen=True)
class Media:
    data: bytes
    mime_type: str
    alt_text: str = ""
    filename: str = "upload"


@dataclass(frozen=True)
class Poll:
    options: tuple[str, ...]
    expires_in_seconds: int = 86400
    multiple: bool = False


@dataclass(frozen=True)
class RemoteRef:
    """A post on the network: enough to reply to it, delete it or read its counts."""

    remote_id: str  # Mastodon status id; Bluesky at:// URI
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # e.g. Bluesky cid, root uri/cid


@dataclass(frozen=True)
class PostDraft:
    text: str
    idempotency_key: str  # stable across retries of the same publish: never duplicates
    media: tuple[Media, ...] = ()
    link: str = ""
    reply_to: RemoteRef | None = None
    content_warning: str = ""
    poll: Poll | None = None
    language: str = ""
    visibility: str = "public"


@dataclass(frozen=True)
class PublishedPost:
    ref: RemoteRef
    published_at: datetime | None = None


@dataclass(frozen=True)
class Interaction:
    kind: InteractionKind
    remote_id: str
    author_handle: str
    created_at: datetime
    author_name: str = ""
    author_avatar_url: str = ""
    text: str = ""
    url: str = ""
    subject: RemoteRef | None = None  # our post it responds to, if any
    conversation_id: str = ""
    # Optional details, where the network says: the post this one answers (remote id),
    # its audience (Mastodon: public, unlisted, private, direct), when its author last
    # edited it, and whether it is gone. An edited or deleted item updates the inbox item
    # with the same remote_id; a deleted one carries no text and may carry no author.
    in_reply_to: str = ""
    visibility: str = ""
    edited_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True)
class InteractionPage:
    items: tuple[Interaction, ...]
    cursor: str  # pass back next time to get only newer interactions
    # Problems that did not stop the read but need the user (e.g. no access to Bluesky
    # direct messages): plain sentences to show, as with ProviderError.message.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PostMetrics:
    ref: RemoteRef
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountMetrics:
    followers: int = 0
    following: int = 0
    posts: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PublicProfile:
    """Someone else's public account as anyone can read it (a competitor), with its counts.
    `reader_url` is where its public reads go: a Bluesky AppView, a Mastodon home server."""

    remote_id: str  # Bluesky DID; Mastodon account id on its home server
    handle: str
    reader_url: str
    address: str  # what `fetch_public_profile` finds it by next time, whatever renames
    display_name: str = ""
    avatar_url: str = ""
    profile_url: str = ""
    followers: int = 0
    following: int = 0
    posts: int = 0


@dataclass(frozen=True)
class PublicPost:
    """One of a public account's own posts (no reposts of others) with its counts."""

    ref: RemoteRef
    published_at: datetime
    text: str = ""
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0


@dataclass(frozen=True)
class RateBudget:
    """The rate-limit window the network last reported to us."""

    limit: int
    remaining: int
    reset_at: datetime | None


# --------------------------------------------------------------------------- interface


class Provider(abc.ABC):
    """One account on one network. Build with `Provider(credentials, http=client)`.

    After any call, `credentials` may have been refreshed (check `credentials_changed`
    and persist them) and `rate_budget` holds the network's latest rate-limit headers.
    """

    key: ClassVar[str]  # registry key, e.g. "bluesky"
    name: ClassVar[str]  # shown to users, e.g. "Bluesky"
    auth_kind: ClassVar[Literal["app_password", "oauth2"]]
    limits: ClassVar[Limits]
    limits_per_server: ClassVar[bool] = False  # True: `fetch_limits` reads each server's own
    # Credentials the installation itself must hold before anyone can connect (an OAuth
    # client id and secret registered once with the network): option name -> environment
    # variable, read from settings.CHORUS_NETWORK_OPTIONS[key]. While one is missing the
    # connect page shows the network as "needs setup", linking to `setup_guide`.
    app_settings: ClassVar[dict[str, str]] = {}
    setup_guide: ClassVar[str] = ""  # the network's guide, e.g. "docs/networks/telegram.md"

    @classmethod
    def missing_settings(cls, options: dict[str, str]) -> list[str]:
        """The environment variables still unset (`options`: this network's entry in
        settings.CHORUS_NETWORK_OPTIONS); networks with settings of their own override it."""
        return [env for name, env in cls.app_settings.items() if not options.get(name)]

    @classmethod
    def notice(cls) -> str:
        """A sentence the connect page and the composer show about this network as this
        installation has it set up (TikTok before its app is audited: posts are private);
        "" for none."""
        return ""

    def __init__(self, credentials: Credentials, *, http: httpx.Client | None = None):
        self.credentials = credentials
        if http is None:
            from chorus.networks.http import client

            http = client()
        self.http = http
        self.credentials_changed = False
        self.rate_budget: RateBudget | None = None

    @classmethod
    @abc.abstractmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        """The host (and port) this account's API calls go to, from its stored identity."""

    @classmethod
    def fetch_limits(cls, identity: dict[str, Any], *, http: httpx.Client) -> Limits:
        """The limits of the server this account is on, as it publishes them.

        Networks with one set of limits everywhere keep this default: `cls.limits`.
        """
        return cls.limits

    @abc.abstractmethod
    def verify(self) -> AccountIdentity:
        """Check the credentials still work and return who they belong to."""

    @abc.abstractmethod
    def refresh(self) -> None:
        """Renew short-lived tokens; raises AuthExpired when the user must reconnect."""

    @abc.abstractmethod
    def publish(self, draft: PostDraft, *, media_ids: Sequence[str] = ()) -> PublishedPost:
        """Create the post. Retrying with the same idempotency key never duplicates.

        `media_ids` are those a `Transient` of an earlier try of this draft carried: the
        provider reuses them instead of uploading again. Networks whose errors never carry
        any are never given them."""

    @abc.abstractmethod
    def find_published(
        self, draft: PostDraft, *, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> PublishedPost | None:
        """The post an earlier `publish(draft)` already made, or None; never publishes.

        For uncertain outcomes (a timeout, a lost answer, a sender that died mid-call): the
        caller reconciles before sending again, so exactly-once never depends on a server
        keeping its idempotency promise. `since` is when the first uncertain attempt was
        made; `exclude` holds remote ids the caller already recorded for other posts, so
        two identical posts are never taken for one another.
        """

    @abc.abstractmethod
    def delete(self, ref: RemoteRef) -> None:
        """Delete our post from the network; deleting a missing post is not an error."""

    @abc.abstractmethod
    def fetch_interactions(self, cursor: str = "") -> InteractionPage:
        """Replies, mentions, quotes, likes, reposts, follows and DMs newer than cursor."""

    def fetch_thread(self, ref: RemoteRef) -> tuple[Interaction, ...]:
        """The posts around `ref` in its thread, oldest first, for context in the inbox.

        Networks with no thread reading keep this default: no context.
        """
        return ()

    def resolve_post(self, ref: RemoteRef) -> RemoteRef:
        """`ref`, a public post found elsewhere (by listening) under its network-wide id
        and address, as this account replies to it. Networks whose post ids are the same
        for every account keep this default; Mastodon asks the account's own server."""
        return ref

    def send_direct_message(
        self, conversation_id: str, text: str, *, idempotency_key: str
    ) -> RemoteRef:
        """Answer the direct-message conversation `conversation_id` (as in `Interaction`).

        Retrying with the same key never sends twice, as with `publish`. Networks whose
        `limits.supports_direct_messages` is False keep this default and refuse.
        """
        raise Rejected(f"{self.name} has no direct messages that Chorus can send.")

    @abc.abstractmethod
    def fetch_post_metrics(self, refs: list[RemoteRef]) -> list[PostMetrics]:
        """Current counts for our posts."""

    @abc.abstractmethod
    def fetch_account_metrics(self) -> AccountMetrics:
        """Current counts for the account."""

    def fetch_own_posts(self, *, limit: int = 100) -> tuple[PublishedPost, ...]:
        """The account's own most recent posts, newest first, whether made with Chorus or
        not (at most `limit`), for the analytics backfill when an account is connected.

        Providers that cannot list them keep this default: none (the backfill then covers
        only posts made with Chorus).
        """
        return ()

    # Reading other people's public accounts (competitors) needs no credentials: these are
    # classmethods over a guarded client (`chorus.networks.http.client`). Networks that
    # cannot keep `reads_public_accounts` False and the refusals below.
    reads_public_accounts: ClassVar[bool] = False

    @classmethod
    def fetch_public_profile(cls, address: str, *, http: httpx.Client) -> PublicProfile:
        """The public account at `address` (a handle, `@user@server`, a profile URL) with
        its current counts; AccountGone when the network says there is no such account."""
        raise Rejected(f"Chorus cannot read public {cls.name} accounts.")

    @classmethod
    def fetch_public_posts(
        cls, profile: PublicProfile, *, http: httpx.Client, limit: int = 40
    ) -> tuple[PublicPost, ...]:
        """The account's own most recent posts (no replies, no reposts), newest first."""
        raise Rejected(f"Chorus cannot read public {cls.name} accounts.")


# --------------------------------------------------------------------------- connect flows


class PasswordSignIn(abc.ABC):
    """Networks that connect with an identifier and an (app) password, e.g. Bluesky, or a
    chat and a bot token (Telegram)."""

    # Choices the person connecting makes, passed to `sign_in` as options (Telegram:
    # "silent"); anything else they send is ignored.
    connect_options: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @abc.abstractmethod
    def sign_in(
        cls,
        identifier: str,
        password: str,
        *,
        service_url: str = "",
        http: httpx.Client,
        **options: str,
    ) -> Credentials:
        """Exchange the identifier and password for session credentials.

        `options` come from settings.CHORUS_NETWORK_OPTIONS for this network.
        """


@dataclass(frozen=True)
class OAuthApp:
    """An app registered on one server (Mastodon registers one per instance)."""

    server_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str


class OAuthSignIn(abc.ABC):
    """Networks that connect with the OAuth 2 authorization-code flow, e.g. Mastodon."""

    # PKCE (RFC 7636): a verifier is made for each attempt and kept in its encrypted flow;
    # `authorization_url` gets its `code_challenge` (S256), `exchange_code` the verifier.
    pkce: ClassVar[bool] = False
    # False for networks with one server (X): the connect form asks for none.
    asks_server: ClassVar[bool] = True

    @classmethod
    def normalize_server_url(cls, url: str) -> str:
        """The canonical address of a server, so each server is registered once."""
        return url.strip().rstrip("/")

    @classmethod
    @abc.abstractmethod
    def register_app(cls, server_url: str, *, redirect_uri: str, http: httpx.Client) -> OAuthApp:
        """Register Chorus as a client on the server (once per server, then reused)."""

    @classmethod
    def installation_app(
        cls,
        *,
        client_id: str,
        client_secret: str,
        needed: dict[str, str],
        server_url: str,
        redirect_uri: str,
        scopes: str,
    ) -> OAuthApp:
        """The one app an installation registered by hand in the network's developer
        console (X, Threads, TikTok, LinkedIn): nothing to register, it comes from settings.
        `needed` maps each required setting's variable to its value; one missing is a clear
        refusal naming them and the network's guide."""
        if not all(needed.values()):
            names = " and ".join(needed)
            guide = getattr(cls, "setup_guide", "")
            raise Rejected(f"{cls.name} is not set up: set {names} (see {guide}).")
        return OAuthApp(
            server_url=server_url,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            scopes=scopes,
        )

    @classmethod
    @abc.abstractmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        """Where to send the user's browser to grant access."""

    @classmethod
    @abc.abstractmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        """Turn the code the server redirected back with into credentials."""

    # Networks whose authorization server is found per person and who need secrets kept
    # for one attempt (Bluesky: PKCE verifier, DPoP key) override the three below; the
    # plain code flow keeps the defaults. `registers_per_server = False`: `register_app`
    # is called on every attempt with server_url "" and nothing is stored for it.
    registers_per_server: ClassVar[bool] = True

    @classmethod
    def prepare_flow(
        cls, app: OAuthApp, entered: str, *, http: httpx.Client, **options: str
    ) -> dict[str, str]:
        """Per-attempt secrets, kept encrypted in the state until the callback."""
        return {"code_verifier": secrets.token_urlsafe(48)} if cls.pkce else {}

    @classmethod
    def begin_authorization(
        cls, app: OAuthApp, *, state: str, flow: dict[str, str], http: httpx.Client
    ) -> str:
        """Where to send the user's browser (may push the request to the server first)."""
        if cls.pkce:
            challenge = pkce_challenge(flow["code_verifier"])
            return cls.authorization_url(app, state=state, code_challenge=challenge)
        return cls.authorization_url(app, state=state)

    @classmethod
    def complete_authorization(
        cls,
        app: OAuthApp,
        code: str,
        *,
        flow: dict[str, str],
        issuer: str,
        http: httpx.Client,
        **options: str,
    ) -> Credentials:
        """Credentials from the callback; `issuer` is its `iss` parameter (RFC 9207)."""
        if cls.pkce:
            return cls.exchange_code(app, code, http=http, code_verifier=flow["code_verifier"])
        return cls.exchange_code(app, code, http=http)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a PKCE verifier: BASE64URL(SHA256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
