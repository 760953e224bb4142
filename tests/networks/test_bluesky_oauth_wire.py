"""Wire-level behaviour of Bluesky's OAuth sign-in (atproto OAuth: PAR, PKCE, DPoP) and of
DPoP-bound XRPC calls: each error shape the spec describes, against respx."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from django.core import signing
from joserfc import jws
from joserfc.jwk import ECKey

from chorus.networks import services
from chorus.networks.models import SocialAccount
from chorus.networks.providers import bluesky_oauth as oauth
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    RateLimited,
    Rejected,
    Transient,
)
from chorus.networks.providers.bluesky import Bluesky

PDS = "https://pds.example"
ISSUER = "https://auth.example"
PLC = "https://plc.example"
DID = "did:plc:abcdefghijklmnopqrstuvwx"
HANDLE = "brand.example"
REDIRECT = "https://chorus.example/social-accounts/oauth/callback/"
CLIENT_ID = "https://chorus.example/oauth/bluesky/client-metadata.json"
APP = oauth.OAuthApp("", CLIENT_ID, "", REDIRECT, oauth.SCOPE)


def claims(request: httpx.Request) -> dict:
    """The DPoP proof's claims, after checking its signature with the key it carries."""
    proof = request.headers["DPoP"]
    header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
    return json.loads(jws.deserialize_compact(proof, ECKey.import_key(header["jwk"])).payload)


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def metadata(**overrides) -> dict:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth/authorize",
        "token_endpoint": f"{ISSUER}/oauth/token",
        "pushed_authorization_request_endpoint": f"{ISSUER}/oauth/par",
        "dpop_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["atproto", "transition:generic"],
        "authorization_response_iss_parameter_supported": True,
        **overrides,
    }


def nonce_refusal(status: int = 400) -> httpx.Response:
    """A server asking for its nonce (RFC 9449 section 8, 9)."""
    if status == 401:  # a resource server answers in WWW-Authenticate
        return httpx.Response(
            401,
            headers={"DPoP-Nonce": "n-2", "WWW-Authenticate": 'DPoP error="use_dpop_nonce"'},
            json={"error": "use_dpop_nonce", "message": "Resource server requires nonce"},
        )
    return httpx.Response(400, headers={"DPoP-Nonce": "n-1"}, json={"error": "use_dpop_nonce"})


@pytest.fixture(autouse=True)
def no_nonces_yet() -> Iterator[None]:
    oauth.SERVER_NONCES.clear()
    yield
    oauth.SERVER_NONCES.clear()


@pytest.fixture
def net() -> Iterator[respx.MockRouter]:
    """Identity, the PDS's resource metadata and the authorization server's metadata."""
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{PDS}/xrpc/com.atproto.identity.resolveHandle").respond(200, json={"did": DID})
        router.get(f"{PLC}/{DID}").respond(
            200,
            json={"service": [{"id": "#atproto_pds", "serviceEndpoint": PDS}]},
        )
        router.get(f"{PDS}/.well-known/oauth-protected-resource").respond(
            200, json={"resource": PDS, "authorization_servers": [ISSUER]}
        )
        router.get(f"{ISSUER}/.well-known/oauth-authorization-server", name="meta").respond(
            200, json=metadata()
        )
        yield router


def tokens(**overrides) -> dict:
    return {
        "access_token": "at-1",
        "refresh_token": "rt-1",
        "token_type": "DPoP",
        "sub": DID,
        "scope": oauth.SCOPE,
        **overrides,
    }


def pending_flow() -> dict[str, str]:
    return {**oauth.new_pending(ISSUER, DID).dump(), "login_hint": HANDLE}


# --------------------------------------------------------------------------- client id


def test_client_id_is_the_metadata_url_on_https_and_the_localhost_form_on_loopback():
    assert oauth.client_id_for(REDIRECT) == CLIENT_ID
    loopback = oauth.client_id_for("http://127.0.0.1:8000/social-accounts/oauth/callback/")
    parts = urlsplit(loopback)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", "")
    assert parse_qs(parts.query) == {
        "redirect_uri": ["http://127.0.0.1:8000/social-accounts/oauth/callback/"],
        "scope": [oauth.SCOPE],
    }
    with pytest.raises(Rejected, match="127.0.0.1"):
        oauth.client_id_for("http://localhost:8000/social-accounts/oauth/callback/")
    with pytest.raises(Rejected, match="https"):
        oauth.client_id_for("http://chorus.example/social-accounts/oauth/callback/")


def test_client_metadata_names_a_public_dpop_client():
    document = oauth.client_metadata(CLIENT_ID, REDIRECT, site_url="https://chorus.example")
    assert document["client_id"] == CLIENT_ID and document["redirect_uris"] == [REDIRECT]
    assert document["dpop_bound_access_tokens"] is True
    assert document["token_endpoint_auth_method"] == "none"
    assert "atproto" in document["scope"].split()


# --------------------------------------------------------------------------- PAR


def test_push_retries_with_the_servers_nonce_and_sends_pkce_s256(net):
    par = net.post(f"{ISSUER}/oauth/par").mock(
        side_effect=[
            nonce_refusal(),
            httpx.Response(201, json={"request_uri": "urn:ietf:params:oauth:request_uri:r1"}),
        ]
    )
    with httpx.Client() as http:
        flow = Bluesky.prepare_flow(APP, f"@{HANDLE}", http=http, plc_url=PLC,
                                    handle_resolver=PDS)  # fmt: skip
        url = Bluesky.begin_authorization(APP, state="s-1", flow=flow, http=http)
    assert flow["issuer"] == ISSUER and flow["did"] == DID and flow["login_hint"] == HANDLE
    assert url.startswith(f"{ISSUER}/oauth/authorize?")
    assert parse_qs(urlsplit(url).query) == {
        "client_id": [CLIENT_ID],
        "request_uri": ["urn:ietf:params:oauth:request_uri:r1"],
    }
    first, second = (call.request for call in par.calls)
    assert "nonce" not in claims(first) and claims(second)["nonce"] == "n-1"
    assert claims(second)["htm"] == "POST" and claims(second)["htu"] == f"{ISSUER}/oauth/par"
    form = parse_qs(second.content.decode())
    challenge = base64.urlsafe_b64encode(hashlib.sha256(flow["verifier"].encode()).digest())
    assert form["code_challenge"] == [challenge.rstrip(b"=").decode()]
    assert form["code_challenge_method"] == ["S256"] and form["state"] == ["s-1"]
    assert form["login_hint"] == [HANDLE] and form["client_id"] == [CLIENT_ID]
    assert "code_verifier" not in form


def test_a_server_without_par_is_a_clear_refusal(net):
    net.routes["meta"].respond(200, json=metadata(pushed_authorization_request_endpoint=None))
    with httpx.Client() as http, pytest.raises(Rejected, match="atproto OAuth"):
        Bluesky.begin_authorization(APP, state="s", flow=pending_flow(), http=http)


def test_a_server_address_typed_directly_finds_its_authorization_server(net):
    with httpx.Client() as http:
        flow = Bluesky.prepare_flow(APP, PDS, http=http)
    assert flow["issuer"] == ISSUER and flow["did"] == "" and "login_hint" not in flow


# --------------------------------------------------------------------------- token exchange


def complete(flow: dict, *, issuer: str = ISSUER) -> Credentials:
    with httpx.Client() as http:
        return Bluesky.complete_authorization(
            APP, "code-1", flow=flow, issuer=issuer, http=http, plc_url=PLC
        )


def test_the_code_becomes_dpop_bound_credentials_after_a_nonce_retry(net):
    token = net.post(f"{ISSUER}/oauth/token").mock(
        side_effect=[nonce_refusal(), httpx.Response(200, json=tokens())]
    )
    flow = pending_flow()
    credentials = complete(flow)
    assert credentials.identity == {
        "did": DID, "handle": DID, "pds_url": PDS, "auth": "oauth", "issuer": ISSUER,
        "client_id": CLIENT_ID, "plc_url": PLC,
    }  # fmt: skip
    assert credentials.secrets["access_token"] == "at-1"
    assert json.loads(credentials.secrets["dpop_key"])["d"]
    sent = token.calls[-1].request
    assert claims(sent)["nonce"] == "n-1"
    form = parse_qs(sent.content.decode())
    assert form["grant_type"] == ["authorization_code"] and form["code"] == ["code-1"]
    assert form["code_verifier"] == [flow["verifier"]] and form["redirect_uri"] == [REDIRECT]


def test_a_callback_from_another_issuer_is_refused(net):
    with pytest.raises(Rejected, match="another server"):
        complete(pending_flow(), issuer="https://evil.example")
    with pytest.raises(Rejected, match="another server"):
        complete(pending_flow(), issuer="")


def test_tokens_for_another_account_or_not_dpop_bound_are_refused(net):
    route = net.post(f"{ISSUER}/oauth/token")
    route.respond(200, json=tokens(sub="did:plc:someoneelse"))
    with pytest.raises(Rejected, match="another account"):
        complete(pending_flow())
    route.respond(200, json=tokens(token_type="Bearer"))
    with pytest.raises(Rejected, match="DPoP"):
        complete(pending_flow())


def test_an_account_whose_pds_trusts_another_issuer_is_refused(net):
    net.post(f"{ISSUER}/oauth/token").respond(200, json=tokens())
    net.get(f"{PDS}/.well-known/oauth-protected-resource").respond(
        200, json={"authorization_servers": ["https://other.example"]}
    )
    with pytest.raises(Rejected, match="does not trust"):
        complete(pending_flow())


def test_an_invalid_dpop_proof_names_the_clock(net):
    net.post(f"{ISSUER}/oauth/token").respond(
        400, json={"error": "invalid_dpop_proof", "error_description": "DPoP proof too old"}
    )
    with pytest.raises(Rejected, match="clock") as error:
        complete(pending_flow())
    assert "too old" in error.value.message


def test_a_server_failure_at_the_token_endpoint_is_transient(net):
    net.post(f"{ISSUER}/oauth/token").respond(503, text="down")
    with pytest.raises(Transient):
        complete(pending_flow())


# --------------------------------------------------------------------------- DPoP-bound XRPC


@pytest.fixture
def account() -> Bluesky:
    key = oauth.DPoPKey.generate()
    credentials = Credentials(
        identity={"did": DID, "handle": HANDLE, "pds_url": PDS, "auth": "oauth",
                  "issuer": ISSUER, "client_id": CLIENT_ID},
        secrets={"access_token": "at-1", "refresh_token": "rt-1", "dpop_key": key.dumps()},
    )  # fmt: skip
    return Bluesky(credentials, http=httpx.Client())


PROFILE = f"{PDS}/xrpc/app.bsky.actor.getProfile"


def test_xrpc_sends_the_token_with_a_proof_and_retries_for_the_pds_nonce(net, account):
    route = net.get(PROFILE).mock(
        side_effect=[nonce_refusal(401), httpx.Response(200, json={"followersCount": 3})]
    )
    assert account.fetch_account_metrics().followers == 3
    first, second = (call.request for call in route.calls)
    assert second.headers["Authorization"] == "DPoP at-1"
    proof = claims(second)
    assert proof["nonce"] == "n-2" and proof["ath"] == ath("at-1")
    assert proof["htm"] == "GET" and proof["htu"] == PROFILE  # no query string in htu
    assert "nonce" not in claims(first)
    assert not account.credentials_changed
    net.get(f"{PDS}/xrpc/app.bsky.actor.getProfile").respond(200, json={})
    again = Bluesky(account.credentials, http=httpx.Client())  # another session, same PDS
    again.fetch_account_metrics()
    assert claims(net.routes[-1].calls[-1].request)["nonce"] == "n-2"  # known already


def test_an_expired_access_token_is_refreshed_with_dpop_and_the_call_repeated(net, account):
    route = net.get(PROFILE).mock(
        side_effect=[
            httpx.Response(
                401,
                headers={"WWW-Authenticate": 'DPoP error="invalid_token"'},
                json={"error": "invalid_token", "message": '"exp" claim timestamp check failed'},
            ),
            httpx.Response(200, json={"followersCount": 5}),
        ]
    )
    token = net.post(f"{ISSUER}/oauth/token").respond(
        200, json=tokens(access_token="at-2", refresh_token="rt-2")
    )
    assert account.fetch_account_metrics().followers == 5
    form = parse_qs(token.calls[0].request.content.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["rt-1"],
                    "client_id": [CLIENT_ID]}  # fmt: skip
    assert "ath" not in claims(token.calls[0].request)
    assert route.calls[-1].request.headers["Authorization"] == "DPoP at-2"
    assert account.credentials.secrets["refresh_token"] == "rt-2"
    assert account.credentials_changed


def test_a_refused_refresh_token_means_reconnect(net, account):
    net.post(f"{ISSUER}/oauth/token").respond(
        400, json={"error": "invalid_grant", "error_description": "Invalid refresh token"}
    )
    with pytest.raises(AuthExpired, match="reconnect"):
        account.refresh()


def test_other_xrpc_errors_stay_typed(net, account):
    route = net.get(PROFILE)
    route.respond(429, headers={"ratelimit-reset": "0"}, json={"error": "RateLimitExceeded"})
    with pytest.raises(RateLimited):
        account.fetch_account_metrics()
    route.respond(502, json={"error": "UpstreamFailure"})
    with pytest.raises(Transient):
        account.fetch_account_metrics()
    route.respond(400, json={"error": "InvalidRequest", "message": "bad actor"})
    with pytest.raises(Rejected, match="bad actor"):
        account.fetch_account_metrics()


def test_a_lost_dpop_key_means_reconnect():
    credentials = Credentials(
        identity={"did": DID, "pds_url": PDS, "auth": "oauth"}, secrets={"dpop_key": "{"}
    )
    with pytest.raises(AuthExpired):
        Bluesky(credentials, http=httpx.Client()).fetch_account_metrics()


# --------------------------------------------------------------------------- services


@pytest.mark.django_db
def test_begin_and_complete_through_the_services_keep_the_flow_encrypted(net, owner, settings):
    settings.SITE_URL = "https://chorus.example"
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": PLC, "handle_resolver": PDS}}
    par = net.post(f"{ISSUER}/oauth/par").respond(201, json={"request_uri": "urn:r"})
    net.post(f"{ISSUER}/oauth/token").respond(200, json=tokens())
    net.get(f"{PDS}/xrpc/com.atproto.server.getSession").respond(
        200, json={"did": DID, "handle": HANDLE}
    )
    net.get(PROFILE).respond(200, json={"displayName": "Brand"})
    url = services.oauth_begin(actor=owner, provider_key="bluesky", server_url=HANDLE)
    assert url.startswith(f"{ISSUER}/oauth/authorize?")
    state = parse_qs(par.calls[0].request.content.decode())["state"][0]
    flow = signing.loads(state, salt=services.OAUTH_STATE_SALT)["flow"]
    assert "verifier" not in flow and "dpop_key" not in flow  # encrypted, not just signed
    with pytest.raises(services.ConnectFailed, match="another server"):
        services.oauth_complete(actor=owner, state=state, code="c", issuer=PDS)
    account = services.oauth_complete(actor=owner, state=state, code="c", issuer=ISSUER)
    assert account.handle == HANDLE and account.display_name == "Brand"
    assert SocialAccount.objects.get().secrets["access_token"] == "at-1"


@pytest.mark.django_db
def test_the_client_metadata_document_is_public_json_on_https_sites(client, settings):
    settings.SITE_URL = "https://chorus.example"
    response = client.get(oauth.CLIENT_METADATA_PATH)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["client_id"] == CLIENT_ID
    assert response.json()["redirect_uris"] == [REDIRECT]
    settings.SITE_URL = "http://chorus.example"  # no https: there is no such client
    assert client.get(oauth.CLIENT_METADATA_PATH).status_code == 404


@pytest.mark.django_db
def test_the_api_starts_a_bluesky_sign_in_and_says_it_offers_one(
    net, api, owner, api_token_for, settings
):
    settings.SITE_URL = "https://chorus.example"
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": PLC, "handle_resolver": PDS}}
    net.post(f"{ISSUER}/oauth/par").respond(201, json={"request_uri": "urn:r"})
    token = api_token_for(owner, scopes=["accounts:read", "accounts:write"])
    networks = {n["key"]: n for n in api.get("/networks", token=token).json()}
    assert networks["bluesky"]["offers_oauth"] and networks["bluesky"]["auth"] == "password"
    response = api.post(
        "/social-accounts/connect/oauth", {"provider": "bluesky", "server_url": HANDLE},
        token=token,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["authorization_url"].startswith(f"{ISSUER}/oauth/authorize?")


@pytest.mark.django_db
def test_an_oauth_account_reconnects_with_oauth_from_its_page(client, owner):
    account = SocialAccount.objects.create(
        workspace=owner.workspace, provider="bluesky", remote_id=DID, handle=HANDLE,
        identity={"did": DID, "pds_url": PDS, "auth": "oauth", "issuer": ISSUER},
    )  # fmt: skip
    client.force_login(owner.user)
    page = client.get(f"/social-accounts/{account.pk}/").content.decode()
    form = page[page.index('id="reconnect-form"') - 200 :]
    assert "/social-accounts/connect/bluesky/oauth/" in form[: form.index("</form>")]
    assert f'value="{HANDLE}"' in form[: form.index("</form>")]
