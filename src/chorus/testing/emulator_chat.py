"""Bluesky chat (`chat.bsky.convo.*`) for the network emulator, as a PDS proxies it.

There is no local chat server to test against (Bluesky's is not published), so this follows
the documented wire format: the lexicons behind docs.bsky.app/docs/api/chat-bsky-convo-
list-convos, -get-convo, -get-convo-for-members, -get-log, -get-messages, -send-message and
-delete-message-for-self, and the PDS's proxying rules (docs.bsky.app/docs/advanced-guides/
service-auth; the reference PDS's `pipethrough`):

- a call without `atproto-proxy: did:web:api.bsky.chat#bsky_chat` finds no service:
  `400 InvalidRequest "No service configured for <method>"`;
- a session from an app password made without DM access (token scope
  `com.atproto.appPass`) gets `400 InvalidToken "Bad token method"`;
- a recipient whose `chat.bsky.actor.declaration` record (rkey `self`) says
  `allowIncoming: "none"` (or "following": the emulator has no follow graph) refuses
  messages, unless it wrote in the conversation itself, with `400 InvalidRequest` naming
  its setting.

The log is one sequence of revisions for the whole service; each viewer sees the entries of
its own conversations (`logCreateMessage` for every member, `logDeleteMessage` for the one who
deleted). `getLog` without a cursor answers no entries and the current cursor, which is how
clients pin where to start.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chorus.testing.emulator import Emulator, Reply, _Request

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
NO_DM_SCOPE = "com.atproto.appPass"  # an app password without "Allow access to your DMs"
MAX_MESSAGE_GRAPHEMES = 1000  # chat.bsky.convo.defs#messageInput: maxGraphemes 1000
LOG_PAGE = 100
_DECLARATION = "chat.bsky.actor.declaration"
_DEFS = "chat.bsky.convo.defs"


class ChatService:
    """The conversations of every account the emulator knows; reset with the emulator."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        self.reset()

    def reset(self) -> None:
        self.convos: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[int, frozenset[str], dict[str, Any]]] = []
        self._revs = itertools.count(1)
        self._ids = itertools.count(1)

    def routes(self) -> dict[tuple[str, str], Callable[[_Request, str], Reply]]:
        nsid = "chat.bsky.convo."
        return {
            ("GET", nsid + "listConvos"): self._list_convos,
            ("GET", nsid + "getConvo"): self._get_convo,
            ("GET", nsid + "getConvoForMembers"): self._convo_for_members,
            ("GET", nsid + "getLog"): self._get_log,
            ("GET", nsid + "getMessages"): self._get_messages,
            ("POST", nsid + "sendMessage"): self._send_message,
            ("POST", nsid + "deleteMessageForSelf"): self._delete_for_self,
        }

    # ----------------------------------------------------------------- plumbing

    def _viewer(self, request: _Request) -> str:
        """The caller's DID, after the checks the PDS makes before proxying."""
        x = self.emulator._x
        if request.headers.get("atproto-proxy", "") != CHAT_PROXY:
            raise x(400, "InvalidRequest", f"No service configured for {request.route}")
        did = self.emulator._b_auth(request)
        from chorus.testing.emulator_bluesky import _claims

        claims = _claims(request.bearer) or {}
        if claims.get("scope") == NO_DM_SCOPE:
            raise x(400, "InvalidToken", "Bad token method")
        return did

    def _rev(self) -> str:
        return f"{next(self._revs):016d}"

    def _profile(self, did: str) -> dict[str, Any]:
        handle = self.emulator.handles.get(did, "handle.invalid")
        return {"did": did, "handle": handle, "displayName": handle.split(".")[0].title()}

    def _convo(self, viewer: str, convo_id: str) -> dict[str, Any]:
        convo = self.convos.get(convo_id)
        if convo is None or viewer not in convo["members"]:
            raise self.emulator._x(400, "InvalidConvo", "Convo not found")
        return convo

    def _view(self, viewer: str, convo: dict[str, Any]) -> dict[str, Any]:
        visible = [m for m in convo["messages"] if viewer not in m["hidden_for"]]
        view: dict[str, Any] = {
            "id": convo["id"],
            "rev": convo["rev"],
            "members": [self._profile(did) for did in convo["members"]],
            "muted": False,
            "status": "accepted",
            "unreadCount": 0,
        }
        if visible:
            view["lastMessage"] = visible[-1]["view"]
        return view

    def _refuses(self, recipient: str) -> str:
        """Why `recipient` takes no messages ("" when it does), from its declaration."""
        record = self.emulator.records.get((recipient, _DECLARATION, "self")) or {}
        # Bluesky's default is "following"; with no follow graph here, no record means "all".
        allow = (record.get("value") or {}).get("allowIncoming", "all")
        if allow == "none":
            return "recipient has disabled incoming messages"
        if allow == "following":
            return "recipient requires incoming messages to come from someone they follow"
        return ""

    def _append(self, viewers: frozenset[str], entry: dict[str, Any]) -> None:
        self.log.append((int(entry["rev"]), viewers, entry))

    # ----------------------------------------------------------------- routes

    def _list_convos(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        limit = max(1, min(int(request.arg("limit") or 50), 100))
        mine = [c for c in self.convos.values() if viewer in c["members"]]
        mine.sort(key=lambda c: c["rev"], reverse=True)
        start = int(request.arg("cursor") or 0)
        page = mine[start : start + limit]
        body: dict[str, Any] = {"convos": [self._view(viewer, c) for c in page]}
        if start + limit < len(mine):
            body["cursor"] = str(start + limit)
        return 200, body, []

    def _get_convo(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        return 200, {"convo": self._view(viewer, self._convo(viewer, request.arg("convoId")))}, []

    def _convo_for_members(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        members = request.query.get("members") or request.query.get("members[]") or []
        dids = sorted({self.emulator._did_of(m) for m in members} | {viewer})
        if len(dids) != 2:
            raise self.emulator._x(400, "InvalidRequest", "A direct convo has two members")
        for did in dids:
            if did != viewer and (why := self._refuses(did)):
                raise self.emulator._x(400, "InvalidRequest", why)
        for convo in self.convos.values():
            if convo["members"] == dids:
                return 200, {"convo": self._view(viewer, convo)}, []
        convo_id = f"convo{next(self._ids)}"
        rev = self._rev()
        convo = {"id": convo_id, "members": dids, "messages": [], "rev": rev}
        self.convos[convo_id] = convo
        self._append(
            frozenset([viewer]),
            {"$type": f"{_DEFS}#logBeginConvo", "rev": rev, "convoId": convo_id},
        )
        return 200, {"convo": self._view(viewer, convo)}, []

    def _get_log(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        cursor = request.arg("cursor")
        latest = f"{self.log[-1][0]:016d}" if self.log else f"{0:016d}"
        if not cursor:
            return 200, {"logs": [], "cursor": latest}, []
        try:
            after = int(cursor)
        except ValueError:
            raise self.emulator._x(400, "InvalidRequest", "Malformed cursor") from None
        logs = [e for rev, who, e in self.log if rev > after and viewer in who][:LOG_PAGE]
        return 200, {"logs": logs, "cursor": logs[-1]["rev"] if logs else cursor}, []

    def _get_messages(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        convo = self._convo(viewer, request.arg("convoId"))
        limit = max(1, min(int(request.arg("limit") or 50), 100))
        visible = [m["view"] for m in reversed(convo["messages"]) if viewer not in m["hidden_for"]]
        start = int(request.arg("cursor") or 0)
        body: dict[str, Any] = {"messages": visible[start : start + limit]}
        if start + limit < len(visible):
            body["cursor"] = str(start + limit)
        return 200, body, []

    def _send_message(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        body = request.json()
        convo = self._convo(viewer, str(body.get("convoId") or ""))
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise self.emulator._x(400, "InvalidRequest", 'Input/message must have "text"')
        if len(text) > MAX_MESSAGE_GRAPHEMES:
            raise self.emulator._x(
                400,
                "InvalidRequest",
                f"Input/message/text must not be longer than {MAX_MESSAGE_GRAPHEMES} graphemes",
            )
        for did in convo["members"]:
            wrote = any(m["view"]["sender"]["did"] == did for m in convo["messages"])
            if did != viewer and not wrote and (why := self._refuses(did)):
                raise self.emulator._x(400, "InvalidRequest", why)
        rev = self._rev()
        view = {
            "$type": f"{_DEFS}#messageView",
            "id": f"msg{next(self._ids)}",
            "rev": rev,
            "text": text,
            "sender": {"did": viewer},
            "sentAt": _iso(time.time()),
        }
        convo["messages"].append({"view": view, "hidden_for": set()})
        convo["rev"] = rev
        entry = {
            "$type": f"{_DEFS}#logCreateMessage",
            "rev": rev,
            "convoId": convo["id"],
            "message": view,
            "relatedProfiles": [self._profile(did) for did in convo["members"]],
        }
        self._append(frozenset(convo["members"]), entry)
        return 200, view, []

    def _delete_for_self(self, request: _Request, _: str) -> Reply:
        viewer = self._viewer(request)
        body = request.json()
        convo = self._convo(viewer, str(body.get("convoId") or ""))
        for message in convo["messages"]:
            if message["view"]["id"] == body.get("messageId"):
                message["hidden_for"].add(viewer)
                view = message["view"]
                deleted = {
                    "$type": f"{_DEFS}#deletedMessageView",
                    "id": view["id"],
                    "rev": self._rev(),
                    "sender": view["sender"],
                    "sentAt": view["sentAt"],
                }
                entry = {
                    "$type": f"{_DEFS}#logDeleteMessage",
                    "rev": deleted["rev"],
                    "convoId": convo["id"],
                    "message": deleted,
                }
                self._append(frozenset([viewer]), entry)
                return 200, deleted, []
        raise self.emulator._x(400, "InvalidRequest", "Message not found")


def _iso(moment: float) -> str:
    from chorus.testing.emulator_http import _iso as emulator_iso

    return emulator_iso(moment)
