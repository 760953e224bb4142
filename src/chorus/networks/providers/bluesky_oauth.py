"""Bluesky sign-in with atproto OAuth (https://atproto.com/specs/oauth): PAR, PKCE and DPoP.

The path, as the spec lays it out: the handle (or DID) resolves to the account's PDS; the
PDS names its authorization server in `/.well-known/oauth-protected-resource`; that server
describes itself in `/.well-known/oauth-authorization-server`. Chorus is a public client
whose `client_id` is the URL of its client metadata document (served by the web app at
`CLIENT_METADATA_PATH`), or, on a loopback address, the spec's `http://localhost` development
client id. The authorization request is pushed first (PAR, with PKCE S256 and a DPoP proof)
and the browser goes to the authorization endpoint with only the `request_uri`.

Tokens are DPoP-bound: each session has its own ES256 key (a secret, stored with the
tokens in the account's encrypted secrets) and every request to the token endpoint or the
PDS carries a fresh proof (`htm`, `htu`, and `ath` with an access token). Servers hand out
nonces in the `DPoP-Nonce` header and refuse a proof without the current one with
`use_dpop_nonce`; the request is then repeated once with the new nonce.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from joserfc import jws
from joserfc.jwk import ECKey

from .base import (
    AuthExpired,
    Credentials,
    OAuthApp,
    OAuthSignIn,
    Rejected,
    Transient,
    pkce_challenge,
)
from .wire import error_words, lenient_json, send

SCOPE = "atproto transition:generic transition:chat.bsky"
CLIENT_METADATA_PATH = "/oauth/bluesky/client-metadata.json"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
# The latest DPoP nonce of each server (origin -> nonce), shared by every session in this
# process: servers issue one nonce for all clients, so a new session's first call need not
# be refused once to learn it. A stale entry costs one `use_dpop_nonce` round trip.
SERVER_NONCES: dict[str, str] = {}


# --------------------------------------------------------------------------- client identity


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS


def client_id_for(redirect_uri: str) -> str:
    """Chorus' client id for this redirect URI.

    On a public https site: the URL of the client metadata document on that site. On a
    loopback address ("Localhost Client Development" in the spec): `http://localhost` with
    the redirect URI and scope as query parameters; the server then needs no metadata
    document, but the redirect must go to 127.0.0.1 or [::1], not to "localhost".
    """
    parts = urlsplit(redirect_uri)
    if is_loopback(redirect_uri):
        if parts.hostname == "localhost":
            raise Rejected(
                "for Bluesky sign-in on this machine, open Chorus at http://127.0.0.1 "
                "rather than http://localhost (the atproto OAuth rules for loopback clients)"
            )
        query = urlencode({"redirect_uri": redirect_uri, "scope": SCOPE})
        return f"http://localhost?{query}"
    if parts.scheme != "https":
        raise Rejected(
            "Bluesky sign-in needs Chorus at a public https address (CHORUS_SITE_URL); "
            "use an app password meanwhile"
        )
    return urlunsplit((parts.scheme, parts.netloc, CLIENT_METADATA_PATH, "", ""))


def client_metadata(client_id: str, redirect_uri: str, *, site_url: str) -> dict[str, Any]:
    """The client metadata document ("Client ID Metadata Document" in the spec)."""
    return {
        "client_id": client_id,
        "client_name": "Chorus",
        "client_uri": site_url,
        "application_type": "web",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPE,
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
        "dpop_bound_access_tokens": True,
    }


# --------------------------------------------------------------------------- DPoP


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_pending(issuer: str, did: str = "") -> PendingSignIn:
    """A fresh sign-in: a PKCE verifier (RFC 7636) and a DPoP key of its own."""
    return PendingSignIn(issuer, secrets.token_urlsafe(48), DPoPKey.generate().dumps(), did)


class DPoPKey:
    """One session's ES256 key, and the proofs it signs (RFC 9449)."""

    def __init__(self, key: ECKey):
        self.key = key
        self.public = key.as_dict(private=False)

    @classmethod
    def generate(cls) -> DPoPKey:
        return cls(ECKey.generate_key("P-256", private=True))

    @classmethod
    def load(cls, stored: str) -> DPoPKey:
        try:
            return cls(ECKey.import_key(json.loads(stored)))
        except (ValueError, TypeError) as exc:
            raise AuthExpired("this Bluesky connection lost its DPoP key; reconnect it") from exc

    def dumps(self) -> str:
        return json.dumps(self.key.as_dict(private=True))

    def proof(self, method: str, url: str, *, nonce: str = "", access_token: str = "") -> str:
        parts = urlsplit(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(time.time()),
        }
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public}
        return jws.serialize_compact(header, json.dumps(claims), self.key)


def _dpop_error(response: httpx.Response) -> str:
    """The OAuth error of a refusal: the JSON `error`, else the WWW-Authenticate one."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    challenge = response.headers.get("www-authenticate", "")
    if 'error="' in challenge:
        return challenge.split('error="', 1)[1].split('"', 1)[0]
    return ""


def dpop_send(
    http: httpx.Client,
    key: DPoPKey,
    nonces: dict[str, str],
    method: str,
    url: str,
    *,
    access_token: str = "",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """A request with a DPoP proof; repeated once when the server asks for a fresh nonce.

    `nonces` (origin -> latest nonce) is updated from every answer's `DPoP-Nonce`.
    """
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    response = None
    for _attempt in range(2):
        sent = dict(headers or {})
        sent["DPoP"] = key.proof(
            method, url, nonce=nonces.get(origin, ""), access_token=access_token
        )
        if access_token:
            sent["Authorization"] = f"DPoP {access_token}"
        response = send(http, method, url, headers=sent, **kwargs)
        fresh = response.headers.get("dpop-nonce", "")
        stale = fresh and fresh != nonces.get(origin)
        if fresh:
            nonces[origin] = fresh
        if not (
            response.status_code in (400, 401)
            and stale
            and _dpop_error(response) == "use_dpop_nonce"
        ):
            break
    assert response is not None
    return response


# --------------------------------------------------------------------------- discovery


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    host = response.url.host
    if response.status_code >= 500:
        raise Transient(f"{host} could not send its {what} (HTTP {response.status_code})")
    if response.status_code not in (200, 201):  # PAR answers 201 Created
        raise Rejected(f"{host} publishes no {what} (HTTP {response.status_code})")
    try:
        data = lenient_json(response)
    except ValueError as exc:
        raise Rejected(f"{host} sent a malformed {what}") from exc
    if not isinstance(data, dict):
        raise Rejected(f"{host} sent a malformed {what}")
    return data


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Rejected(f"{url!r} is not a server address")
    return f"{parts.scheme}://{parts.netloc}"


def authorization_server_of(http: httpx.Client, pds_url: str) -> str:
    """The issuer a PDS trusts ("Resource Server Metadata", RFC 9728)."""
    url = f"{_origin(pds_url)}/.well-known/oauth-protected-resource"
    data = _json(send(http, "GET", url), "OAuth resource metadata")
    servers = data.get("authorization_servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
        raise Rejected(f"{urlsplit(pds_url).netloc} names no OAuth authorization server")
    return servers[0].rstrip("/")


def authorization_server_metadata(http: httpx.Client, issuer: str) -> dict[str, Any]:
    """The issuer's metadata (RFC 8414), checked against what atproto requires of it."""
    url = f"{_origin(issuer)}/.well-known/oauth-authorization-server"
    meta = _json(send(http, "GET", url), "OAuth server metadata")
    if str(meta.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise Rejected(f"{urlsplit(issuer).netloc} describes another OAuth server")
    needed = ("authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint")
    if any(not isinstance(meta.get(name), str) for name in needed):
        raise Rejected(f"{urlsplit(issuer).netloc} does not offer atproto OAuth sign-in")
    if "ES256" not in (meta.get("dpop_signing_alg_values_supported") or []):
        raise Rejected(f"{urlsplit(issuer).netloc} does not take ES256 DPoP proofs")
    if "atproto" not in (meta.get("scopes_supported") or []):
        raise Rejected(f"{urlsplit(issuer).netloc} is not an atproto OAuth server")
    return meta


# --------------------------------------------------------------------------- the flow


@dataclass
class PendingSignIn:
    """What a sign-in keeps between pushing the request and the browser coming back."""

    issuer: str
    verifier: str
    dpop_key: str
    did: str = ""  # the account asked for, when the person typed a handle
    nonces: dict[str, str] = field(default_factory=lambda: SERVER_NONCES)

    def dump(self) -> dict[str, str]:
        return {"issuer": self.issuer, "verifier": self.verifier, "dpop_key": self.dpop_key,
                "did": self.did}  # fmt: skip

    @classmethod
    def load(cls, flow: dict[str, str]) -> PendingSignIn:
        return cls(flow["issuer"], flow["verifier"], flow["dpop_key"], flow.get("did", ""))


def push_authorization(
    http: httpx.Client,
    pending: PendingSignIn,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    login_hint: str = "",
) -> str:
    """Push the authorization request (PAR, RFC 9126); the URL to send the browser to."""
    meta = authorization_server_metadata(http, pending.issuer)
    challenge = pkce_challenge(pending.verifier)
    form = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        form["login_hint"] = login_hint
    key = DPoPKey.load(pending.dpop_key)
    response = dpop_send(
        http, key, pending.nonces, "POST", meta["pushed_authorization_request_endpoint"],
        data=form, headers=_FORM,
    )  # fmt: skip
    if response.status_code not in (200, 201):
        raise _token_error(response, "refused the sign-in request")
    request_uri = _json(response, "sign-in request answer").get("request_uri")
    if not isinstance(request_uri, str):
        raise Transient(f"{response.url.host} sent no request_uri")
    query = urlencode({"client_id": client_id, "request_uri": request_uri})
    return f"{meta['authorization_endpoint']}?{query}"


def _token_error(response: httpx.Response, doing: str) -> Exception:
    """A token or PAR endpoint refusal as a typed error."""
    host = response.url.host
    error = _dpop_error(response)
    said = error_words(response, ("error_description", "error")) or f"HTTP {response.status_code}"
    if response.status_code >= 500:
        return Transient(f"{host} {doing} (HTTP {response.status_code}): {said}")
    if error == "invalid_dpop_proof":
        return Rejected(f"{host} refused Chorus' DPoP proof (is this clock right?): {said}")
    if error == "invalid_grant":
        return AuthExpired(f"Bluesky no longer accepts this sign-in ({said}); reconnect it")
    return Rejected(f"{host} {doing}: {said}")


def _token_request(
    http: httpx.Client, issuer: str, key: DPoPKey, nonces: dict[str, str], form: dict[str, str]
) -> dict[str, Any]:
    meta = authorization_server_metadata(http, issuer)
    response = dpop_send(
        http, key, nonces, "POST", meta["token_endpoint"], data=form, headers=_FORM
    )
    if response.status_code != 200:
        raise _token_error(response, "refused the token request")
    tokens = _json(response, "token answer")
    if str(tokens.get("token_type", "")).lower() != "dpop" or not tokens.get("access_token"):
        raise Rejected(f"{response.url.host} sent tokens that are not DPoP-bound")
    if not isinstance(tokens.get("sub"), str) or not tokens["sub"].startswith("did:"):
        raise Rejected(f"{response.url.host} did not say which account signed in")
    return tokens


def exchange_code(
    http: httpx.Client,
    pending: PendingSignIn,
    code: str,
    *,
    client_id: str,
    redirect_uri: str,
    pds_of: Any,
) -> Credentials:
    """Trade the code for tokens; `pds_of(did)` finds the account's PDS, whose
    authorization server must be the one that issued them (the spec's "sub" check)."""
    key = DPoPKey.load(pending.dpop_key)
    tokens = _token_request(
        http, pending.issuer, key, pending.nonces,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
         "code_verifier": pending.verifier, "client_id": client_id},
    )  # fmt: skip
    did = tokens["sub"]
    if pending.did and did != pending.did:
        raise Rejected("Bluesky signed in another account than the handle typed; try again")
    pds = pds_of(did)
    if authorization_server_of(http, pds) != pending.issuer.rstrip("/"):
        raise Rejected("this account's server does not trust the server that signed it in")
    return Credentials(
        identity={
            "did": did,
            "handle": did,  # verify() reads the real handle from the PDS
            "pds_url": pds,
            "auth": "oauth",
            "issuer": pending.issuer,
            "client_id": client_id,
        },
        secrets=_token_secrets(tokens, key),
    )


def _token_secrets(tokens: dict[str, Any], key: DPoPKey) -> dict[str, str]:
    return {
        "access_token": str(tokens["access_token"]),
        "refresh_token": str(tokens.get("refresh_token") or ""),
        "dpop_key": key.dumps(),
    }


class OAuthSession:
    """An OAuth-connected account's requests: DPoP proofs, nonces, and token refresh."""

    def __init__(self, credentials: Credentials, http: httpx.Client):
        self.credentials = credentials
        self.http = http
        self.key = DPoPKey.load(credentials.secrets.get("dpop_key", ""))
        self.nonces = SERVER_NONCES

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        token = self.credentials.secrets.get("access_token", "")
        return dpop_send(self.http, self.key, self.nonces, method, url, access_token=token,
                         **kwargs)  # fmt: skip

    @staticmethod
    def token_expired(response: httpx.Response) -> bool:
        """The PDS's answer to an expired or revoked access token."""
        return response.status_code in (400, 401) and _dpop_error(response) in (
            "invalid_token",
            "ExpiredToken",
        )

    def refresh(self) -> None:
        """A new token pair from the authorization server; invalid_grant -> AuthExpired."""
        identity, stored = self.credentials.identity, self.credentials.secrets
        if not stored.get("refresh_token"):
            raise AuthExpired("this Bluesky connection has no session to renew; reconnect it")
        tokens = _token_request(
            self.http, str(identity["issuer"]), self.key, self.nonces,
            {"grant_type": "refresh_token", "refresh_token": stored["refresh_token"],
             "client_id": str(identity["client_id"])},
        )  # fmt: skip
        if tokens["sub"] != identity["did"]:
            raise AuthExpired("Bluesky renewed the session for another account; reconnect it")
        stored.update(_token_secrets(tokens, self.key))


# --------------------------------------------------------------------------- connect flow


class BlueskyOAuthSignIn(OAuthSignIn):
    """The connect flow of `OAuthSignIn` for atproto; the provider supplies identity
    resolution (`did_of_handle`, `pds_of_did`), which app-password sign-in shares."""

    registers_per_server = False  # the client id is Chorus' own metadata URL

    @classmethod
    @abc.abstractmethod
    def did_of_handle(cls, http: httpx.Client, handle: str, resolver: str) -> str:
        """The DID a handle names (the provider's own resolution, shared with passwords)."""

    @classmethod
    @abc.abstractmethod
    def pds_of_did(cls, http: httpx.Client, did: str, plc_url: str) -> str:
        """The PDS that hosts a DID's repository."""

    @classmethod
    def register_app(cls, server_url: str, *, redirect_uri: str, http: httpx.Client) -> OAuthApp:
        return OAuthApp("", client_id_for(redirect_uri), "", redirect_uri, SCOPE)

    @classmethod
    def authorization_url(cls, app: OAuthApp, *, state: str) -> str:
        raise Rejected("Bluesky sign-in pushes its request first (begin_authorization)")

    @classmethod
    def exchange_code(cls, app: OAuthApp, code: str, *, http: httpx.Client) -> Credentials:
        raise Rejected("Bluesky sign-in needs its pending flow (complete_authorization)")

    @classmethod
    def prepare_flow(
        cls,
        app: OAuthApp,
        entered: str,
        *,
        http: httpx.Client,
        plc_url: str = "",
        handle_resolver: str = "",
    ) -> dict[str, str]:
        """Handle or DID -> DID document -> PDS -> its authorization server; or a server
        address typed as such (a PDS, or an entryway such as bsky.social)."""
        entered = entered.strip().removeprefix("@")
        if not entered:
            raise Rejected("enter your Bluesky handle or your server's address")
        if entered.startswith(("https://", "http://")):
            try:
                issuer = authorization_server_of(http, entered)
            except Rejected:  # an entryway is its own authorization server
                issuer = entered.rstrip("/")
            return new_pending(issuer).dump()
        did = entered if entered.startswith("did:") else ""
        if not did:
            entered = entered.lower()
            did = cls.did_of_handle(http, entered, handle_resolver)
        pds = cls.pds_of_did(http, did, plc_url)
        pending = new_pending(authorization_server_of(http, pds), did)
        return {**pending.dump(), "login_hint": entered}

    @classmethod
    def begin_authorization(
        cls, app: OAuthApp, *, state: str, flow: dict[str, str], http: httpx.Client
    ) -> str:
        return push_authorization(
            http, PendingSignIn.load(flow), client_id=app.client_id,
            redirect_uri=app.redirect_uri, state=state, login_hint=flow.get("login_hint", ""),
        )  # fmt: skip

    @classmethod
    def complete_authorization(
        cls,
        app: OAuthApp,
        code: str,
        *,
        flow: dict[str, str],
        issuer: str,
        http: httpx.Client,
        plc_url: str = "",
        handle_resolver: str = "",
    ) -> Credentials:
        pending = PendingSignIn.load(flow)
        if not issuer or issuer.rstrip("/") != pending.issuer.rstrip("/"):  # RFC 9207
            raise Rejected("the sign-in came back from another server than it went to")
        credentials = exchange_code(
            http, pending, code, client_id=app.client_id, redirect_uri=app.redirect_uri,
            pds_of=lambda did: cls.pds_of_did(http, did, plc_url),
        )  # fmt: skip
        if plc_url:
            credentials.identity["plc_url"] = plc_url.rstrip("/")
        return credentials
