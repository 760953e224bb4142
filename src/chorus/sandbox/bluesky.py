"""The sandbox's Bluesky (AT Protocol) network: the AppView reads and its audience.

Sign-in, identity and repository writes come from the emulator (`chorus.testing.emulator`);
this module adds what reading interactions and counts needs, answered the way a PDS that
proxies to the AppView answers. Each XRPC method follows the docs.bsky.app page named beside
it, in the shape the unchanged provider (`chorus.networks.providers.bluesky`) reads.
Direct messages live on Bluesky's separate chat service, which the provider does not read,
so the Bluesky audience never sends any.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from random import Random
from typing import Any

from chorus.sandbox.voices import LINES, Persona
from chorus.testing.emulator_bluesky import did_for_handle
from chorus.testing.emulator_http import _cid, _iso, _Request

POST = "app.bsky.feed.post"
_REASON_COUNTS = {"like": "likeCount", "repost": "repostCount", "reply": "replyCount"}


class BlueskySandbox:
    """Mixin for the sandbox app: state lives on the emulator instance (`self`)."""

    records: dict[tuple[str, str, str], dict[str, Any]]
    handles: dict[str, str]
    b_accounts: set[str]
    b_posts: Counter[str]

    def _reset_bluesky(self) -> None:
        self.b_names: dict[str, str] = {}  # did -> display name (audience members)
        self.b_notifications: dict[str, list[dict[str, Any]]] = {}  # did -> oldest first
        self.b_counts: dict[str, Counter[str]] = {}  # post URI -> likeCount, repostCount...
        self.b_followers: dict[str, set[str]] = {}  # did -> follower DIDs
        self.b_follows: Counter[str] = Counter()  # did -> how many it follows

    def _bluesky_routes(self) -> None:
        self._xrpc.update(  # type: ignore[attr-defined]
            {
                # https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications
                ("GET", "app.bsky.notification.listNotifications"): self._b_notifications,
                # https://docs.bsky.app/docs/api/app-bsky-feed-get-posts
                ("GET", "app.bsky.feed.getPosts"): self._b_get_posts,
                # https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread
                ("GET", "app.bsky.feed.getPostThread"): self._b_post_thread,
                # https://docs.bsky.app/docs/api/app-bsky-actor-get-profile
                ("GET", "app.bsky.actor.getProfile"): self._b_get_profile,
            }
        )

    # ----------------------------------------------------------------- views

    def _b_profile_basic(self, did: str) -> dict[str, Any]:
        return {
            "did": did,
            "handle": self.handles.get(did, "handle.invalid"),
            "displayName": self.b_names.get(did, ""),
            "labels": [],
        }

    def _b_get_profile(self, request: _Request, _: str) -> tuple[int, Any, list]:
        self._b_auth(request)  # type: ignore[attr-defined]
        actor = request.arg("actor").strip()
        if not actor:
            raise self._x(400, "InvalidRequest", 'Params must have the property "actor"')  # type: ignore[attr-defined]
        did = self._did_of(actor)  # type: ignore[attr-defined]
        profile = {
            **self._b_profile_basic(did),
            "description": "",
            "followersCount": len(self.b_followers.get(did, ())),
            "followsCount": self.b_follows[did],
            "postsCount": self.b_posts[did],
            "indexedAt": _iso(time.time()),
        }
        return 200, profile, []

    def _b_post_view(self, did: str, rkey: str) -> dict[str, Any] | None:
        found = self.records.get((did, POST, rkey))
        if found is None:
            return None
        counts = self.b_counts.get(found["uri"], Counter())
        return {
            "uri": found["uri"],
            "cid": found["cid"],
            "author": self._b_profile_basic(did),
            "record": found["value"],
            "indexedAt": str(found["value"].get("createdAt") or _iso(time.time())),
            "likeCount": counts["likeCount"],
            "repostCount": counts["repostCount"],
            "replyCount": counts["replyCount"],
            "quoteCount": counts["quoteCount"],
            "bookmarkCount": 0,
            "labels": [],
        }

    def _b_view_of(self, uri: str) -> dict[str, Any] | None:
        parts = uri.removeprefix("at://").split("/")
        if not uri.startswith("at://") or len(parts) != 3 or parts[1] != POST:
            return None
        return self._b_post_view(self._did_of(parts[0]), parts[2])  # type: ignore[attr-defined]

    def _b_get_posts(self, request: _Request, _: str) -> tuple[int, Any, list]:
        self._b_auth(request)  # type: ignore[attr-defined]
        uris = request.query.get("uris") or request.query.get("uris[]") or []
        if len(uris) > 25:
            raise self._x(400, "InvalidRequest", "uris must not have more than 25 elements")  # type: ignore[attr-defined]
        posts = [view for uri in uris if (view := self._b_view_of(uri)) is not None]
        return 200, {"posts": posts}, []

    def _b_post_thread(self, request: _Request, _: str) -> tuple[int, Any, list]:
        self._b_auth(request)  # type: ignore[attr-defined]
        uri = request.arg("uri")
        view = self._b_view_of(uri)
        if view is None:
            raise self._x(400, "NotFound", f"Post not found: {uri}")  # type: ignore[attr-defined]
        depth = int(request.arg("depth") or 6)
        height = int(request.arg("parentHeight") or 80)
        children: dict[str, list[dict[str, Any]]] = {}
        for (did, collection, rkey), found in self.records.items():
            parent = ((found["value"].get("reply") or {}).get("parent") or {}).get("uri")
            if collection == POST and parent:
                children.setdefault(parent, []).append(self._b_post_view(did, rkey) or {})

        def down(node: dict[str, Any], levels: int) -> dict[str, Any]:
            thread = {"$type": "app.bsky.feed.defs#threadViewPost", "post": node}
            if levels > 0:
                replies = sorted(children.get(node["uri"], []), key=lambda v: v["indexedAt"])
                thread["replies"] = [down(reply, levels - 1) for reply in replies]
            return thread

        thread = down(view, depth)
        cursor, levels = thread, height
        while levels > 0:
            parent_uri = ((cursor["post"]["record"].get("reply") or {}).get("parent") or {}).get(
                "uri"
            )
            parent = self._b_view_of(parent_uri) if parent_uri else None
            if parent is None:
                break
            cursor["parent"] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": parent}
            cursor, levels = cursor["parent"], levels - 1
        return 200, {"thread": thread}, []

    # ----------------------------------------------------------------- notifications

    def _b_notifications(self, request: _Request, _: str) -> tuple[int, Any, list]:
        did = self._b_auth(request)  # type: ignore[attr-defined]
        limit = max(1, min(int(request.arg("limit") or 50), 100))
        offset = int(request.arg("cursor") or 0) if request.arg("cursor").isdigit() else 0
        newest_first = list(reversed(self.b_notifications.get(did, [])))
        page = newest_first[offset : offset + limit]
        body: dict[str, Any] = {"notifications": page, "priority": False}
        if offset + limit < len(newest_first):
            body["cursor"] = str(offset + limit)
        return 200, body, []

    def _b_notify(
        self, did: str, reason: str, author: str, uri: str, record: dict, subject: str = ""
    ) -> None:
        notification = {
            "uri": uri,
            "cid": _cid(json.dumps(record, sort_keys=True).encode() + uri.encode()),
            "author": self._b_profile_basic(author),
            "reason": reason,
            "record": record,
            "isRead": False,
            "indexedAt": _iso(time.time()),
            "labels": [],
        }
        if subject:
            notification["reasonSubject"] = subject
        self.b_notifications.setdefault(did, []).append(notification)

    # ----------------------------------------------------------------- the audience

    def _b_persona(self, persona: Persona) -> str:
        did = did_for_handle(persona.bluesky_handle)
        self.handles.setdefault(did, persona.bluesky_handle)
        self.b_names[did] = persona.name
        return did

    def _b_write(self, did: str, collection: str, record: dict[str, Any]) -> str:
        rkey = self._tid()  # type: ignore[attr-defined]
        uri = f"at://{did}/{collection}/{rkey}"
        cid = _cid(json.dumps(record, sort_keys=True).encode() + uri.encode())
        self.records[(did, collection, rkey)] = {"uri": uri, "cid": cid, "value": record}
        if collection == POST:
            self.b_posts[did] += 1
        return uri

    def bluesky_act(self, did: str, kind: str, persona: Persona, rng: Random) -> bool:
        """One audience member does `kind` to our account `did`; False if it cannot now."""
        author = self._b_persona(persona)
        ours = sorted(
            (
                found
                for (owner, collection, _), found in self.records.items()
                if owner == did and collection == POST
            ),
            key=lambda found: str(found["value"].get("createdAt") or ""),
            reverse=True,
        )[:10]
        target = ours[min(int(rng.expovariate(0.6)), len(ours) - 1)] if ours else None
        now = _iso(time.time())
        if kind in ("like", "repost", "reply", "quote") and target is None:
            return False
        if kind == "direct_message":
            return False  # chat.bsky.* lives on another service; see the module docstring
        if kind in ("like", "repost"):
            subject = {"uri": target["uri"], "cid": target["cid"]}
            record = {"$type": f"app.bsky.feed.{kind}", "subject": subject, "createdAt": now}
            uri = self._b_write(author, f"app.bsky.feed.{kind}", record)
            self.b_counts.setdefault(target["uri"], Counter())[_REASON_COUNTS[kind]] += 1
            self._b_notify(did, kind, author, uri, record, target["uri"])
            return True
        if kind == "follow":
            followers = self.b_followers.setdefault(did, set())
            if author in followers:
                return False
            record = {"$type": "app.bsky.graph.follow", "subject": did, "createdAt": now}
            uri = self._b_write(author, "app.bsky.graph.follow", record)
            followers.add(author)
            self.b_follows[author] += 1
            self._b_notify(did, "follow", author, uri, record)
            return True
        line = rng.choice(LINES[kind][persona.language])
        record: dict[str, Any] = {"$type": POST, "createdAt": now, "langs": [persona.language]}
        if kind == "mention":
            handle = f"@{self.handles.get(did, did)}"
            text = line.format(handle=handle)
            start = len(text[: text.index(handle)].encode("utf-8"))
            record["facets"] = [
                {
                    "index": {"byteStart": start, "byteEnd": start + len(handle.encode("utf-8"))},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                }
            ]
            record["text"] = text
            uri = self._b_write(author, POST, record)
            self._b_notify(did, "mention", author, uri, record)
            return True
        record["text"] = line
        parent = {"uri": target["uri"], "cid": target["cid"]}
        if kind == "reply":
            root = (target["value"].get("reply") or {}).get("root") or parent
            record["reply"] = {"root": root, "parent": parent}
            counter = "replyCount"
        elif kind == "quote":
            record["embed"] = {"$type": "app.bsky.embed.record", "record": parent}
            counter = "quoteCount"
        else:
            return False
        uri = self._b_write(author, POST, record)
        self.b_counts.setdefault(target["uri"], Counter())[counter] += 1
        self._b_notify(did, kind, author, uri, record, target["uri"])
        return True
