"""The emulated AT Protocol (atproto.com/specs/xrpc, docs.bsky.app/docs/api): sessions
(app passwords, refresh, expiring access tokens), handles and DID documents, records and
blobs, as a PDS answers them. A mixin of `Emulator`, whose state and rate limits it uses."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from typing import Any

from chorus.testing.emulator_chat import NO_DM_SCOPE
from chorus.testing.emulator_http import Reply, _cid, _Reply, _Request

_ACCESS_SCOPES = ("com.atproto.access", NO_DM_SCOPE)
BLUESKY_MAX_GRAPHEMES = 300
_REFRESH_TTL_S = 90 * 86400.0
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_RKEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def did_for_handle(handle: str) -> str:
    """The DID the emulator gives a handle: derived, so callers can compute it offline."""
    digest = hashlib.sha256(handle.lower().encode("utf-8")).digest()
    return "did:plc:" + base64.b32encode(digest).decode("ascii").lower()[:24]


def _jwt(claims: dict[str, Any]) -> str:
    header = _b64(b'{"typ":"at+jwt","alg":"ES256K"}')
    return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(b'chorus-emulator')}"


def _claims(token: str) -> dict[str, Any] | None:
    """A token's claims; the emulator checks their meaning, not the signature."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return claims if isinstance(sub, str) and sub.startswith("did:") else None


def mint_bluesky_session(
    handle: str, *, did: str = "", ttl_s: float = 7200.0, dm_access: bool = True
) -> dict[str, str]:
    """A session the emulator accepts, made without a request (saves 20,000 sign-ins).

    `dm_access=False` is an app password made without access to direct messages.
    """
    did, now = did or did_for_handle(handle), time.time()
    base = {"sub": did, "aud": "did:web:emulator.invalid", "iat": int(now), "handle": handle}
    scope = "com.atproto.access" if dm_access else NO_DM_SCOPE
    access = _jwt({**base, "scope": scope, "exp": now + ttl_s})
    refresh = _jwt(
        {
            **base,
            "scope": "com.atproto.refresh",
            "dm_access": dm_access,  # a renewed session keeps the app password's rights
            "exp": now + _REFRESH_TTL_S,
            "jti": _b64(os.urandom(12)),
        }
    )
    return {"did": did, "handle": handle, "accessJwt": access, "refreshJwt": refresh}


class BlueskyRoutes:
    """The XRPC routes of `Emulator`."""

    @staticmethod
    def _x(status: int, name: str, message: str) -> _Reply:
        return _Reply(status, {"error": name, "message": message})

    def _did_of(self, actor: str) -> str:
        """A handle's or DID's DID, learning the handle on the way."""
        if actor.startswith("did:"):
            return actor
        did = did_for_handle(actor)
        self.handles.setdefault(did, actor.lower())
        return did

    def _b_auth(self, request: _Request, scope: str | tuple[str, ...] = _ACCESS_SCOPES) -> str:
        token = request.bearer
        if not token:
            raise self._x(401, "AuthMissing", "Authentication Required")
        claims = _claims(token)
        if claims is None:
            raise self._x(400, "InvalidToken", "Token could not be verified")
        if claims.get("scope") not in ((scope,) if isinstance(scope, str) else scope):
            raise self._x(400, "InvalidToken", "Bad token scope")
        did = str(claims["sub"])
        if "handle" in claims:
            self.handles.setdefault(did, str(claims["handle"]))
        if did in self.revoked:
            self.counters["auth_rejected"] += 1
            revoked = "Token has been revoked" if scope == "com.atproto.refresh" else ""
            raise self._x(400, "ExpiredToken", revoked or "Token has expired")
        if float(claims.get("exp", 0)) <= time.time():
            raise self._x(400, "ExpiredToken", "Token has expired")
        self.b_accounts.add(did)
        self._consume(request, did)
        return did

    def _doc_for(self, request: _Request, did: str) -> dict[str, Any]:
        handle = self.handles.get(did)
        return {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{handle}"] if handle else [],
            "verificationMethod": [],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": request.base,
                }
            ],
        }

    def _session(self, request: _Request, did: str, *, dm_access: bool = True) -> dict[str, Any]:
        handle = self.handles.get(did, "handle.invalid")
        ttl_s = float(self.settings.access_ttl_s)
        session = mint_bluesky_session(handle, did=did, ttl_s=ttl_s, dm_access=dm_access)
        return {
            "did": did,
            "handle": handle,
            "email": f"{handle}@emulator.invalid",
            "emailConfirmed": True,
            "active": True,
            "didDoc": self._doc_for(request, did),
            "accessJwt": session["accessJwt"],
            "refreshJwt": session["refreshJwt"],
        }

    def _did_document(self, request: _Request, did: str) -> Reply:
        if not did.startswith("did:plc:"):
            return 404, {"message": f"DID not registered: {did}"}, []
        return 200, self._doc_for(request, did), []

    def _b_create_session(self, request: _Request, _: str) -> Reply:
        body = request.json()
        identifier = str(body.get("identifier") or "").strip().lower()
        if not identifier or not body.get("password"):
            raise self._x(400, "InvalidRequest", "Input must have identifier and password")
        if "@" in identifier and not identifier.startswith("did:"):
            identifier = identifier.split("@")[0] + ".test"
        did = self._did_of(identifier)
        if did in self.revoked:
            self.counters["auth_rejected"] += 1
            raise self._x(401, "AuthenticationRequired", "Invalid identifier or password")
        self.b_accounts.add(did)
        self._consume(request, did)
        return 200, self._session(request, did), []

    def _b_refresh_session(self, request: _Request, _: str) -> Reply:
        did = self._b_auth(request, scope="com.atproto.refresh")
        dm_access = (_claims(request.bearer) or {}).get("dm_access", True) is not False
        return 200, self._session(request, did, dm_access=dm_access), []

    def _b_get_session(self, request: _Request, _: str) -> Reply:
        session = self._session(request, self._b_auth(request))
        del session["accessJwt"], session["refreshJwt"]
        return 200, session, []

    def _b_resolve_handle(self, request: _Request, _: str) -> Reply:
        handle = request.arg("handle").strip()
        if not handle:
            raise self._x(400, "InvalidRequest", 'Params must have the property "handle"')
        return 200, {"did": self._did_of(handle)}, []

    def _b_profile(self, request: _Request, _: str) -> Reply:
        self._b_auth(request)
        did = self._did_of(request.arg("actor"))
        profile = {
            "did": did,
            "handle": self.handles.get(did, "handle.invalid"),
            "displayName": "",
            "followersCount": 0,
            "followsCount": 0,
            "postsCount": self.b_posts[did],
        }
        return 200, profile, []

    def _repo(self, request: _Request, body: dict[str, Any]) -> tuple[str, str, str]:
        did = self._b_auth(request)
        if self._did_of(str(body.get("repo") or "")) != did:
            raise self._x(401, "AuthenticationRequired", "Authentication Required")
        collection = str(body.get("collection") or "")
        if not collection:
            raise self._x(400, "InvalidRequest", 'Input must have the property "collection"')
        return did, collection, str(body.get("rkey") or "")

    def _tid(self) -> str:
        value = max(int(time.time() * 1_000_000), self._tid_last + 1)
        self._tid_last = value
        value = (value << 10) | 1
        return "".join(_TID_CHARS[(value >> (5 * i)) & 31] for i in reversed(range(13)))

    def _b_create_record(self, request: _Request, _: str) -> Reply:
        body = request.json()
        did, collection, rkey = self._repo(request, body)
        record = body.get("record")
        if not isinstance(record, dict):
            raise self._x(400, "InvalidRequest", 'Input must have the property "record"')
        if rkey and (not _RKEY.fullmatch(rkey) or rkey in (".", "..")):
            raise self._x(400, "InvalidRequest", f"Invalid record key: {rkey}")
        text = str(record.get("text") or "")
        if collection == "app.bsky.feed.post" and len(text) > BLUESKY_MAX_GRAPHEMES:
            raise self._x(
                400,
                "InvalidRequest",
                f"Invalid app.bsky.feed.post record: Record/text must not be longer than "
                f"{BLUESKY_MAX_GRAPHEMES} graphemes",
            )
        rkey = rkey or self._tid()
        if (did, collection, rkey) in self.records:
            self.counters["duplicate_rkeys"] += 1
            raise self._x(500, "InternalServerError", "Internal Server Error")
        uri = f"at://{did}/{collection}/{rkey}"
        cid = _cid(json.dumps(record, sort_keys=True).encode() + uri.encode())
        self.records[(did, collection, rkey)] = {"uri": uri, "cid": cid, "value": record}
        self.b_posts[did] += 1
        self._published("bluesky", did, rkey, uri, time.time(), text)
        commit = {"cid": _cid(cid.encode()), "rev": self._tid()}
        return 200, {"uri": uri, "cid": cid, "commit": commit, "validationStatus": "valid"}, []

    def _b_get_record(self, request: _Request, _: str) -> Reply:
        if request.bearer:
            self._b_auth(request)
        did = self._did_of(request.arg("repo"))
        key = (did, request.arg("collection"), request.arg("rkey"))
        found = self.records.get(key)
        if found is None:
            uri = "at://" + "/".join(key)
            raise self._x(400, "RecordNotFound", f"Could not locate record: {uri}")
        return 200, found, []

    def _b_delete_record(self, request: _Request, _: str) -> Reply:
        did, collection, rkey = self._repo(request, request.json())
        if self.records.pop((did, collection, rkey), None) is None:
            return 200, {}, []
        self.counters["posts_deleted"] += 1
        self.b_posts[did] -= 1
        return 200, {"commit": {"cid": _cid(rkey.encode()), "rev": self._tid()}}, []

    def _b_upload_blob(self, request: _Request, _: str) -> Reply:
        self._b_auth(request)
        blob = {
            "$type": "blob",
            "ref": {"$link": _cid(request.body)},
            "mimeType": request.headers.get("content-type", "application/octet-stream"),
            "size": len(request.body),
        }
        return 200, {"blob": blob}, []
