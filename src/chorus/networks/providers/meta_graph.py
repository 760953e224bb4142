"""What Facebook Pages and Instagram share: Meta's Graph API, its sign-in and its errors.

Both networks are reached through the installer's own Meta app (settings
CHORUS_META_APP_ID / CHORUS_META_APP_SECRET; docs/networks/facebook.md). Connecting is one
Facebook Login for Business: the short-lived user token from the code is exchanged for a
long-lived one, and the Page tokens read with it from `/me/accounts` do not expire
(developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived). Each
Page, and each Instagram professional account linked to one, becomes its own account,
acting with that Page's token.

Errors (developers.facebook.com/docs/graph-api/guides/error-handling) come as
`{"error": {"message", "type", "code", "error_subcode", "error_user_msg", "is_transient"}}`
and are mapped onto the provider interface's typed errors: code 190 (and 102) AuthExpired;
4, 17, 32, 613 and 80001-80014 RateLimited, waiting out the `estimated_time_to_regain_access`
of X-Business-Use-Case-Usage when given; 1, 2, `is_transient` and HTTP 5xx Transient; the
rest Rejected with Meta's own words. Usage headers (X-App-Usage, X-Business-Use-Case-Usage;
developers.facebook.com/docs/graph-api/overview/rate-limiting) become the account's
`rate_budget` in percent, so the dispatcher slows down before Meta throttles.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from .base import (
    AuthExpired,
    Credentials,
    MediaProcessing,
    OAuthApp,
    OAuthSignIn,
    Provider,
    RateBudget,
    RateLimited,
    Rejected,
    Transient,
)
from .wire import send

# Permissions a Page and its linked Instagram account need (docs/networks/facebook.md).
SCOPES = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
    "read_insights",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
)
AUTH_CODES = frozenset({102, 190})
# 458 app removed, 459 checkpoint, 460 password changed, 463 expired, 464 unconfirmed user,
# 467 invalid token, 492 no longer a Page admin
AUTH_SUBCODES = {
    458: "the app was removed from the Facebook account",
    459: "Facebook asks the user to log in on facebook.com first",
    460: "the Facebook password was changed",
    463: "the access expired",
    464: "the Facebook account is not confirmed",
    467: "the access token is no longer valid",
    492: "the person who connected it no longer manages this Page",
}
# developers.facebook.com/docs/graph-api/guides/error-handling: 4 app, 17 user, 32 Page,
# 341 application limit, 613 custom limits; 80001-80014 Business Use Case limits
RATE_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
_DEFAULT_RETRY_AFTER = 600.0  # usage is a rolling hour; ten minutes regains a good part
_GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%z"


def _now() -> datetime:
    """The current UTC time; a function so tests can pin the clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class MetaApp:
    """The installer's Meta app and where the Graph API lives (the emulator in tests)."""

    app_id: str
    app_secret: str
    config_id: str
    version: str
    graph_url: str
    video_url: str
    dialog_url: str

    @classmethod
    def from_settings(cls) -> MetaApp:
        from django.conf import settings

        return cls(
            app_id=settings.CHORUS_META_APP_ID,
            app_secret=settings.CHORUS_META_APP_SECRET,
            config_id=settings.CHORUS_META_CONFIG_ID,
            version=settings.CHORUS_META_GRAPH_VERSION,
            graph_url=settings.CHORUS_META_GRAPH_URL,
            video_url=settings.CHORUS_META_VIDEO_URL,
            dialog_url=settings.CHORUS_META_DIALOG_URL,
        )

    @property
    def missing(self) -> list[str]:
        """The settings an installer has yet to set (docs/networks/facebook.md)."""
        wanted = (("CHORUS_META_APP_ID", self.app_id), ("CHORUS_META_APP_SECRET", self.app_secret))
        return [name for name, value in wanted if not value]

    @property
    def configured(self) -> bool:
        return not self.missing


def parse_time(value: Any) -> datetime | None:
    """Graph times read `2026-01-02T03:04:05+0000`; Unix seconds are accepted too."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value:
        return None
    for parse in (lambda v: datetime.strptime(v, _GRAPH_TIME), datetime.fromisoformat):
        try:
            parsed = parse(value)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# --------------------------------------------------------------------------- errors


def _usage(headers: httpx.Headers) -> tuple[int, float | None]:
    """The highest usage in percent across X-App-Usage and X-Business-Use-Case-Usage, and
    the longest `estimated_time_to_regain_access` (minutes, as seconds), if any."""
    highest, regain = -1, None
    app = _json_header(headers.get("X-App-Usage"))
    if isinstance(app, dict):
        highest = max(highest, *(_percent(app.get(k)) for k in _USAGE_KEYS))
    business = _json_header(headers.get("X-Business-Use-Case-Usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                highest = max(highest, *(_percent(entry.get(k)) for k in _USAGE_KEYS))
                minutes = entry.get("estimated_time_to_regain_access")
                if isinstance(minutes, int | float) and minutes > 0:
                    regain = max(regain or 0.0, float(minutes) * 60)
    return highest, regain


_USAGE_KEYS = ("call_count", "total_cputime", "total_time")


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _percent(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else -1


def rate_budget(headers: httpx.Headers) -> RateBudget | None:
    """Meta reports usage as a percentage of the allowance: a budget of 100. The window is
    a rolling hour with no reset time, so the budget holds until the time Meta gives to
    regain access, else for ten minutes (then the next answer reports it afresh)."""
    used, regain = _usage(headers)
    if used < 0:
        return None
    reset = _now() + timedelta(seconds=regain or _DEFAULT_RETRY_AFTER)
    return RateBudget(limit=100, remaining=max(0, 100 - used), reset_at=reset)


def graph_error(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def raise_for_graph(response: httpx.Response, network: str) -> None:
    """Map a Graph API answer onto the typed errors of the provider interface."""
    status = response.status_code
    if 200 <= status < 300:
        return
    error = graph_error(response)
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    words = str(error.get("error_user_msg") or error.get("message") or "").strip()
    words = words or f"HTTP {status} from {response.url.host}"
    if code in AUTH_CODES or (code is None and status == 401):
        why = AUTH_SUBCODES.get(subcode or 0, words)
        raise AuthExpired(f"{network} no longer accepts this connection ({why}); reconnect it")
    if code in RATE_CODES or status == 429:
        _, regain = _usage(response.headers)
        raise RateLimited(
            f"{network} rate limit reached ({words})",
            retry_after=regain or _retry_after(response.headers) or _DEFAULT_RETRY_AFTER,
        )
    if code in TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        raise Transient(f"{network} had a temporary problem: {words}")
    if not error and status in (408, 425):
        raise Transient(f"{network} had a temporary problem (HTTP {status})")
    raise Rejected(f"{network}: {words}")


def _retry_after(headers: httpx.Headers) -> float | None:
    """A plain HTTP Retry-After in seconds (what Meta's edge sends with a bare 429)."""
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() and int(value) > 0 else None


def json_object(response: httpx.Response, network: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise Transient(f"{network} sent a malformed response") from exc
    if not isinstance(data, dict):
        raise Transient(f"{network} sent an unexpected response shape")
    return data


# --------------------------------------------------------------------------- provider base


class GraphProvider(OAuthSignIn, Provider):
    """A Page or an Instagram account reached through the Graph API with a Page token."""

    auth_kind = "oauth2"
    id_field: str = "page_id"  # the identity key of the node this account acts as
    setup_guide: str = "docs/networks/facebook.md"  # how to create the Meta app

    @classmethod
    def missing_settings(cls, options: dict[str, str]) -> list[str]:
        return MetaApp.from_settings().missing

    @classmethod
    def is_configured(cls) -> bool:
        """Whether the installer has set the Meta app's id and secret (else: needs setup)."""
        return MetaApp.from_settings().configured

    @classmethod
    def server_of(cls, identity: dict[str, Any]) -> str:
        return urlsplit(str(identity.get("graph_url") or "https://graph.facebook.com")).netloc

    # ----------------------------------------------------------------------- connect

    @classmethod
    def register_app(cls, server_url: str, *, redirect_uri: str, http: httpx.Client) -> OAuthApp:
        """Meta apps are created by hand (docs/networks/facebook.md): read it from settings."""
        app = MetaApp.from_settings()
        if not app.configured:
            raise Rejected(
                "Set CHORUS_META_APP_ID and CHORUS_META_APP_SECRET first "
                "(docs/networks/facebook.md explains how to create the Meta app)."
            )
        return OAuthApp(
            server_url=app.graph_url,
            client_id=app.app_id,
            client_secret=app.app_secret,
            redirect_uri=redirect_uri,
            scopes=",".join(SCOPES),
        )

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        """Facebook's login dialog (developers.facebook.com/docs/facebook-login/guides/
        advanced/manual-flow); with a Login for Business configuration, its `config_id`."""
        meta = MetaApp.from_settings()
        query = {"client_id": app.client_id, "redirect_uri": app.redirect_uri, "state": state}
        if meta.config_id:
            query |= {"config_id": meta.config_id, "response_type": "code"}
        else:
            query |= {"scope": app.scopes, "response_type": "code"}
        return f"{meta.dialog_url}/{meta.version}/dialog/oauth?{urlencode(query)}"

    @classmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        """The first account of this network the user manages (the connect page lets them
        choose among all of them: chorus.networks.meta_connect)."""
        user_token = exchange_code_for_user_token(app, code, http=http)
        choices = [c for c in managed_accounts(user_token, http=http) if c.provider == cls.key]
        if not choices:
            raise Rejected(f"This Facebook user manages no {cls.name} account Chorus can use.")
        return choices[0].credentials

    # ----------------------------------------------------------------------- requests

    @property
    def node_id(self) -> str:
        return str(self.credentials.identity[self.id_field])

    def _url(self, path: str, *, video: bool = False) -> str:
        identity = self.credentials.identity
        meta = MetaApp.from_settings()
        base = identity.get("video_url" if video else "graph_url") or (
            meta.video_url if video else meta.graph_url
        )
        return f"{base}/{identity.get('graph_version') or meta.version}/{path.lstrip('/')}"

    def _call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (), video: bool = False, **kwargs
    ) -> httpx.Response:
        """An authenticated Graph call; statuses in `ok` are returned instead of raised."""
        token = self.credentials.secrets["access_token"]
        params = dict(kwargs.pop("params", None) or {})
        secret = MetaApp.from_settings().app_secret
        if secret:  # "Require App Secret": proves the call comes from the app's server
            params["appsecret_proof"] = hmac.new(
                secret.encode(), token.encode(), hashlib.sha256
            ).hexdigest()
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        response = send(
            self.http,
            method,
            self._url(path, video=video),
            params=params,
            headers=headers,
            **kwargs,
        )
        self.rate_budget = rate_budget(response.headers) or self.rate_budget
        if response.status_code not in ok:
            raise_for_graph(response, self.name)
        return response

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return json_object(self._call("GET", path, params=params), self.name)

    def _pages(self, path: str, *, pages: int, **params: Any):
        """Each item of a paged edge, newest first, following `paging.cursors.after`."""
        for _ in range(pages):
            data = self._get(path, **params)
            items = data.get("data")
            if not isinstance(items, list):
                raise Transient(f"{self.name} sent an unexpected response shape")
            yield from (item for item in items if isinstance(item, dict))
            after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (data.get("paging") or {}).get("next"):
                return
            params["after"] = after

    def refresh(self) -> None:
        """Page tokens from a long-lived user token do not expire; they end when the user
        loses the Page, changes password or removes the app: check it still works."""
        self.verify()


# --------------------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class AccountChoice:
    """One account the signed-in user may connect: a Page, or its linked Instagram."""

    provider: str  # "facebook" or "instagram"
    remote_id: str
    name: str
    handle: str
    credentials: Credentials
    picture_url: str = ""


def _graph(meta: MetaApp, path: str) -> str:
    return f"{meta.graph_url}/{meta.version}/{path}"


def exchange_code_for_user_token(app: OAuthApp, code: str, *, http: httpx.Client) -> str:
    """Code -> short-lived user token -> long-lived user token (about 60 days), whose Page
    tokens never expire (developers.facebook.com/docs/facebook-login/guides/access-tokens/
    get-long-lived)."""
    meta = MetaApp.from_settings()
    base = {"client_id": app.client_id, "client_secret": app.client_secret}
    response = send(
        http,
        "GET",
        _graph(meta, "oauth/access_token"),
        params={**base, "redirect_uri": app.redirect_uri, "code": code},
    )
    short = _token_from(response)
    response = send(
        http,
        "GET",
        _graph(meta, "oauth/access_token"),
        params={**base, "grant_type": "fb_exchange_token", "fb_exchange_token": short},
    )
    return _token_from(response)


def _token_from(response: httpx.Response) -> str:
    """A token from /oauth/access_token; a refusal (a used code, a wrong secret: code 1,
    100 or 190 with HTTP 400) is the sign-in failing, not a passing fault or an old token."""
    if 400 <= response.status_code < 500 and response.status_code != 429:
        words = graph_error(response).get("message") or f"HTTP {response.status_code}"
        raise Rejected(f"Facebook did not accept the sign-in: {words}")
    raise_for_graph(response, "Facebook")
    token = json_object(response, "Facebook").get("access_token")
    if not isinstance(token, str) or not token:
        raise Transient("Facebook sent no access token")
    return token


_PAGE_FIELDS = (
    "id,name,access_token,tasks,link,picture{url},"
    "instagram_business_account{id,username,name,profile_picture_url}"
)


def managed_accounts(user_token: str, *, http: httpx.Client) -> list[AccountChoice]:
    """Every Page the user manages (GET /me/accounts, developers.facebook.com/docs/pages-api/
    getting-started) and the Instagram professional account linked to each."""
    meta = MetaApp.from_settings()
    identity = {"graph_url": meta.graph_url, "video_url": meta.video_url}
    params: dict[str, Any] = {"fields": _PAGE_FIELDS, "limit": 100}
    if meta.app_secret:
        params["appsecret_proof"] = hmac.new(
            meta.app_secret.encode(), user_token.encode(), hashlib.sha256
        ).hexdigest()
    headers = {"Authorization": f"Bearer {user_token}"}
    choices: list[AccountChoice] = []
    url = _graph(meta, "me/accounts")
    for _ in range(10):  # 100 Pages a page, 1,000 at most
        response = send(http, "GET", url, params=params, headers=headers)
        raise_for_graph(response, "Facebook")
        data = json_object(response, "Facebook")
        for page in data.get("data") or []:
            if isinstance(page, dict) and page.get("id") and page.get("access_token"):
                choices += _choices_of(page, identity)
        after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (data.get("paging") or {}).get("next"):
            break
        params["after"] = after
    return choices


def _choices_of(page: dict[str, Any], identity: dict[str, str]) -> list[AccountChoice]:
    page_id, name = str(page["id"]), str(page.get("name") or page["id"])
    secrets = {"access_token": str(page["access_token"])}
    picture = ((page.get("picture") or {}).get("data") or {}).get("url") or ""
    choices = [
        AccountChoice(
            provider="facebook",
            remote_id=page_id,
            name=name,
            handle=name,
            picture_url=str(picture),
            credentials=Credentials(
                identity={**identity, "page_id": page_id, "name": name}, secrets=dict(secrets)
            ),
        )
    ]
    ig = page.get("instagram_business_account")
    if isinstance(ig, dict) and ig.get("id"):
        username = str(ig.get("username") or ig["id"])
        choices.append(
            AccountChoice(
                provider="instagram",
                remote_id=str(ig["id"]),
                name=str(ig.get("name") or username),
                handle=username,
                picture_url=str(ig.get("profile_picture_url") or ""),
                credentials=Credentials(
                    identity={
                        **identity,
                        "ig_user_id": str(ig["id"]),
                        "page_id": page_id,
                        "username": username,
                    },
                    secrets=dict(secrets),
                ),
            )
        )
    return choices


# --------------------------------------------------------------------------- containers


class ContainerProcessing(MediaProcessing):
    """Meta is still fetching or processing the files: publish again later, passing back
    `media_ids` (the containers made), so that it does not fetch the files again."""


class ContainerExpired(Transient):
    """The containers expired unpublished (after 24 hours): the next try makes new ones."""


@dataclass(frozen=True)
class ContainerFlow:
    """The container publishing Instagram and Threads share (developers.facebook.com/docs/
    instagram-platform/content-publishing, developers.facebook.com/docs/threads/posts):
    make the containers, wait until each is FINISHED, publish. Providers never sleep: while
    one is IN_PROGRESS the try raises ContainerProcessing, and every passing fault carries
    the containers made (`media_ids`: the carousel's items, then the container to publish,
    "" while a carousel's own is not made yet) for the retry to reuse. ERROR is Rejected
    with the network's reason; EXPIRED containers are made again on the next try; one
    already PUBLISHED (an earlier try whose answer was lost) is never published again: the
    try fails as Transient and the dispatcher's reconciliation records the post.

    What differs between the networks is given: `make_items` makes the single container,
    or a carousel's items; `make_carousel` the carousel's own; `read` is the provider's
    Graph GET; `state_fields` name a container's state and its reason; `publish_container`
    publishes one and answers the Graph's JSON."""

    network: str
    make_items: Callable[[], tuple[tuple[str, ...], str]]
    make_carousel: Callable[[tuple[str, ...]], str]
    read: Callable[..., dict[str, Any]]
    state_fields: tuple[str, str]
    publish_container: Callable[[str], dict[str, Any]]

    def publish(self, media_ids: Sequence[str] = ()) -> str:
        """The id of the published post."""
        if media_ids:
            children, final = tuple(media_ids[:-1]), str(media_ids[-1])
        else:
            children, final = self.make_items()
        try:
            if not final:  # a carousel is made of finished items only
                if any(self.state(child) != "FINISHED" for child in children):
                    raise ContainerProcessing(
                        f"{self.network} is still processing the carousel's items", media_ids=()
                    )
                final = self.make_carousel(children)
            state = self.state(final)
            if state == "PUBLISHED":
                raise Transient(
                    f"{self.network} already published this post; Chorus records it on the next try"
                )
            if state != "FINISHED":
                raise ContainerProcessing(
                    f"{self.network} is still processing the media", media_ids=()
                )
            answer = self.publish_container(final)
        except ContainerExpired:
            raise
        except Transient as exc:
            exc.media_ids = (*children, final)
            raise
        media_id = str(answer.get("id") or "")
        if not media_id:
            raise Transient(f"{self.network} published the post but sent no id")
        return media_id

    def state(self, container: str) -> str:
        """FINISHED, IN_PROGRESS or PUBLISHED; ERROR and EXPIRED raise."""
        state_field, reason_field = self.state_fields
        data = self.read(container, fields=f"{state_field},{reason_field}")
        state = str(data.get(state_field) or "")
        if state == "ERROR":
            raise Rejected(
                f"{self.network} could not use the media: "
                f"{data.get(reason_field) or 'no reason given'}. Check that the site address "
                "(CHORUS_SITE_URL) is reachable from the internet and the files meet "
                f"{self.network}'s requirements."
            )
        if state == "EXPIRED":
            raise ContainerExpired(
                f"{self.network} let the media expire; it is sent again next try"
            )
        if state not in ("FINISHED", "IN_PROGRESS", "PUBLISHED"):
            raise Transient(f"{self.network} reported an unknown container state {state!r}")
        return state
