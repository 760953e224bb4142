"""LinkedIn sign-in: the installation's app, the 3-legged OAuth 2.0 token endpoint, and who a
member may post as.

The authorization code flow (learn.microsoft.com/linkedin/shared/authentication/
authorization-code-flow): the browser goes to `www.linkedin.com/oauth/v2/authorization`
and comes back with a code; `POST /oauth/v2/accessToken` trades it (with the client secret)
for an access token of 60 days and, for apps LinkedIn enabled for it, a refresh token of a
year (learn.microsoft.com/linkedin/shared/authentication/programmatic-refresh-tokens).

A member posts as themselves (`urn:li:person:{sub}`, from `GET /v2/userinfo`,
learn.microsoft.com/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2) or
as an organization page where they hold a posting role (`GET /rest/organizationAcls
?q=roleAssignee`, learn.microsoft.com/linkedin/marketing/community-management/organizations/
organization-access-control-by-role); `authors` lists both for the connect page to offer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .base import AuthExpired, Credentials, Rejected
from .linkedin_wire import GUIDE, RESTLI, body, message_of, raise_for, urn_id
from .wire import send

API_URL = "https://api.linkedin.com"
AUTH_URL = "https://www.linkedin.com"
VERSION = "202605"
# What a new app has before any review: Sign In with LinkedIn using OpenID Connect and Share
# on LinkedIn. Organization pages need the Community Management API (docs/networks/linkedin.md).
MEMBER_SCOPES = "openid profile w_member_social"
ORGANIZATION_SCOPES = (
    "r_organization_social w_organization_social rw_organization_admin r_member_social"
)
POSTING_ROLES = frozenset(
    {"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER"}
)
ACCESS_S = 60 * 86400


def options() -> dict[str, str]:
    """This installation's LinkedIn app (settings.CHORUS_NETWORK_OPTIONS["linkedin"])."""
    from django.conf import settings

    return {k: v for k, v in settings.CHORUS_NETWORK_OPTIONS.get("linkedin", {}).items() if v}


def api_url(identity: dict[str, Any] | None = None) -> str:
    found = (identity or {}).get("api_url") or options().get("api_url") or API_URL
    return str(found).rstrip("/")


def auth_url(identity: dict[str, Any] | None = None) -> str:
    found = (identity or {}).get("auth_url") or options().get("auth_url") or AUTH_URL
    return str(found).rstrip("/")


def version() -> str:
    return options().get("version") or VERSION


def versioned_headers() -> dict[str, str]:
    return {"LinkedIn-Version": version(), "X-Restli-Protocol-Version": RESTLI}


def token_request(http: httpx.Client, base: str, form: dict[str, str]) -> dict[str, str]:
    """`POST /oauth/v2/accessToken`; the secrets to keep. A refused grant (a used code, a
    revoked refresh token) is AuthExpired; a refused client names the settings to check."""
    app = options()
    if not app.get("client_id") or not app.get("client_secret"):
        raise AuthExpired(f"LinkedIn is not set up on this installation (see {GUIDE}).")
    form = {**form, "client_id": app["client_id"], "client_secret": app["client_secret"]}
    response = send(http, "POST", f"{base}/oauth/v2/accessToken", data=form)
    if response.status_code in (400, 401):
        words = message_of(response) or str(body(response).get("error") or "")
        if "client" in words.lower():
            raise AuthExpired(
                f"LinkedIn refused this installation's app keys ({words}): an administrator "
                f"must check CHORUS_LINKEDIN_CLIENT_ID and CHORUS_LINKEDIN_CLIENT_SECRET ({GUIDE})."
            )
        raise AuthExpired(f"LinkedIn no longer accepts this sign-in ({words}). Reconnect it.")
    raise_for(response)
    tokens = body(response)
    if not tokens.get("access_token"):
        raise AuthExpired("LinkedIn did not grant an access token. Reconnect the account.")
    now = int(time.time())
    secrets = {
        "access_token": str(tokens["access_token"]),
        "expires_at": str(now + int(tokens.get("expires_in") or ACCESS_S)),
        "scope": " ".join(str(tokens.get("scope") or "").replace(",", " ").split()),
    }
    if tokens.get("refresh_token"):
        secrets["refresh_token"] = str(tokens["refresh_token"])
        refresh_in = int(tokens.get("refresh_token_expires_in") or 0)
        secrets["refresh_expires_at"] = str(now + refresh_in) if refresh_in else ""
    return secrets


@dataclass(frozen=True)
class Author:
    """Someone the signed-in member may post as: themselves or an organization page."""

    urn: str
    name: str
    credentials: Credentials
    picture_url: str = ""

    @property
    def is_organization(self) -> bool:
        return self.urn.startswith("urn:li:organization:")


def _get(http: httpx.Client, url: str, token: str, *, versioned: bool = True) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if versioned:
        headers |= versioned_headers()
    return send(http, "GET", url, headers=headers)


def member(http: httpx.Client, credentials: Credentials) -> dict[str, Any]:
    """`GET /v2/userinfo`: the member's `sub`, `name` and `picture`."""
    token = credentials.secrets.get("access_token", "")
    response = _get(http, f"{api_url(credentials.identity)}/v2/userinfo", token, versioned=False)
    raise_for(response, scope="openid", granted=credentials.secrets.get("scope", ""))
    data = body(response)
    if not data.get("sub"):
        raise AuthExpired("LinkedIn did not say whose sign-in this is. Reconnect the account.")
    return data


def organization(http: httpx.Client, credentials: Credentials, org_urn: str) -> dict[str, Any]:
    """`GET /rest/organizations/{id}` (.../organizations/organization-lookup-api)."""
    token = credentials.secrets.get("access_token", "")
    url = f"{api_url(credentials.identity)}/rest/organizations/{urn_id(org_urn)}"
    response = _get(http, url, token)
    raise_for(response, scope="rw_organization_admin", granted=credentials.secrets.get("scope", ""))
    return body(response)


def authors(http: httpx.Client, credentials: Credentials) -> list[Author]:
    """The member, then each organization where they hold a posting role (when the app may
    read roles: without the Community Management API only the member is offered)."""
    person = member(http, credentials)
    member_urn = f"urn:li:person:{person['sub']}"
    identity = {**credentials.identity, "member": member_urn}
    found = [
        Author(
            urn=member_urn,
            name=str(person.get("name") or member_urn),
            picture_url=str(person.get("picture") or ""),
            credentials=replace(credentials, identity={**identity, "author": member_urn}),
        )
    ]
    granted = credentials.secrets.get("scope", "").split()
    if "rw_organization_admin" not in granted and "r_organization_admin" not in granted:
        return found
    token = credentials.secrets.get("access_token", "")
    query = "q=roleAssignee&state=APPROVED&count=100"
    url = f"{api_url(credentials.identity)}/rest/organizationAcls?{query}"
    response = _get(http, url, token)
    if response.status_code == 403:  # roles unreadable: the member alone
        return found
    raise_for(response)
    seen: set[str] = set()
    for acl in body(response).get("elements") or []:
        org_urn = str((acl or {}).get("organization") or "")
        if acl.get("role") not in POSTING_ROLES or not org_urn or org_urn in seen:
            continue
        seen.add(org_urn)
        org = organization(http, credentials, org_urn)
        found.append(
            Author(
                urn=org_urn,
                name=str(org.get("localizedName") or org_urn),
                credentials=replace(credentials, identity={**identity, "author": org_urn}),
            )
        )
    return found


def choose(http: httpx.Client, credentials: Credentials, urn: str) -> Credentials:
    """The credentials to post as `urn`, which must still be one of `authors`."""
    for author in authors(http, credentials):
        if author.urn == urn:
            return author.credentials
    raise Rejected(f"This LinkedIn member may no longer post as {urn}.")
