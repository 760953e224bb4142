"""Bluesky's public streams, decoded into posts for listening.

* The repository firehose, ``com.atproto.sync.subscribeRepos``
  (https://atproto.com/specs/event-stream, https://atproto.com/specs/sync): each WebSocket
  binary frame is two DAG-CBOR objects, a header ``{op, t}`` and a payload; ``op: -1`` is an
  error frame. A ``#commit`` payload carries ``seq`` (the resume cursor), ``repo`` (the
  author's DID), ``ops`` (``action``, ``path`` = ``collection/rkey``, ``cid``) and ``blocks``,
  a CAR file holding the new records. ``#identity`` tells a DID's current handle.
* Jetstream (https://github.com/bluesky-social/jetstream#consuming-jetstream): JSON messages
  ``{did, time_us, kind: "commit", commit: {operation, collection, rkey, record, cid}}``,
  resumed with ``?cursor=<time_us>``; ``kind: "identity"`` carries the handle.

CBOR and CAR are decoded by libipld (the decoder the atproto SDK uses), never by hand.
Only ``app.bsky.feed.post`` creations become posts; everything else only moves the cursor.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import libipld

from chorus.text import find_hashtags, find_links, find_mentions
from chorus.text.language import detect_language

from ..matcher import ListeningPost
from ..services import IncomingPost

POST_COLLECTION = "app.bsky.feed.post"
NETWORK = "bluesky"
_MEDIA_EMBEDS = ("app.bsky.embed.images", "app.bsky.embed.video")


class MalformedFrame(ValueError):
    """A frame that is not what the protocol says; the consumer counts it and goes on."""


class StreamError(RuntimeError):
    """The server sent an error frame (``op: -1``), e.g. ``FutureCursor``, ``ConsumerTooSlow``."""


@dataclass
class Frame:
    """What one frame meant: the cursor it moves to (None: keep), posts, a handle learnt."""

    cursor: int | None = None
    posts: list[IncomingPost] = field(default_factory=list)
    identity: tuple[str, str] | None = None  # (did, handle)


def _parse_time(value: object) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def post_from_record(
    *, did: str, rkey: str, record: object, handle: str = "", fallback_time: object = None
) -> IncomingPost | None:
    """An ``app.bsky.feed.post`` record as a listening post (None if it is not one).

    Facets are the post's own word on its tags, links and mentions; text detection (the
    rules of ``@atproto/api``, see chorus.text.entities) fills in what a client left out.
    """
    if not isinstance(record, dict) or not isinstance(record.get("text", ""), str):
        return None
    text = record.get("text", "")
    tags: list[str] = [t for t in record.get("tags") or () if isinstance(t, str)]
    links: list[str] = []
    for facet in record.get("facets") or ():
        for feature in (facet or {}).get("features") or () if isinstance(facet, dict) else ():
            if not isinstance(feature, dict):
                continue
            kind = feature.get("$type", "")
            if kind.endswith("#tag") and isinstance(feature.get("tag"), str):
                tags.append(feature["tag"])
            elif kind.endswith("#link") and isinstance(feature.get("uri"), str):
                links.append(feature["uri"])
    embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
    media = embed.get("media") if isinstance(embed.get("media"), dict) else embed
    has_media = media.get("$type") in _MEDIA_EMBEDS
    external = media.get("external") if isinstance(media.get("external"), dict) else {}
    if isinstance(external.get("uri"), str):
        links.append(external["uri"])
    tags += [entity.value for entity in find_hashtags(text, NETWORK)]
    links += [entity.value for entity in find_links(text, NETWORK)]
    mentions = [entity.value for entity in find_mentions(text, NETWORK)]
    langs = [code for code in record.get("langs") or () if isinstance(code, str)]
    language = langs[0] if langs else (detect_language(text) if text.strip() else "")
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    return IncomingPost(
        post=ListeningPost(
            text=text,
            network=NETWORK,
            lang=language,
            author=handle or did,
            links=tuple(dict.fromkeys(links)),
            hashtags=tuple(dict.fromkeys(tags)),
            mentions=tuple(dict.fromkeys(mentions)),
            has_media=has_media,
        ),
        uri=uri,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        posted_at=_parse_time(record.get("createdAt") or fallback_time),
    )


def decode_firehose(frame: bytes, handles: dict[str, str] | None = None) -> Frame:
    """One binary frame of ``subscribeRepos``; raises MalformedFrame or StreamError."""
    handles = handles if handles is not None else {}
    try:
        header, payload = libipld.decode_dag_cbor_multi(frame)
    except Exception as exc:  # libipld raises ValueError and friends on bad CBOR
        raise MalformedFrame(f"not two DAG-CBOR objects: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedFrame("header or payload is not a map")
    if header.get("op") == -1:
        raise StreamError(f"{payload.get('error', 'error')}: {payload.get('message', '')}")
    if header.get("op") != 1:
        raise MalformedFrame(f"unknown op {header.get('op')!r}")
    kind = header.get("t")
    seq = payload.get("seq")
    cursor = seq if isinstance(seq, int) else None
    if kind == "#identity":
        did, handle = payload.get("did"), payload.get("handle")
        if isinstance(did, str) and isinstance(handle, str):
            handles[did] = handle
            return Frame(cursor, identity=(did, handle))
        return Frame(cursor)
    if kind != "#commit":
        return Frame(cursor)  # #account, #sync, #info: nothing to listen to
    did, ops = payload.get("repo"), payload.get("ops")
    if not isinstance(did, str) or not isinstance(ops, list) or cursor is None:
        raise MalformedFrame("#commit without repo, ops or seq")
    wanted = [
        op
        for op in ops
        if isinstance(op, dict)
        and op.get("action") == "create"
        and str(op.get("path", "")).startswith(POST_COLLECTION + "/")
    ]
    if not wanted:
        return Frame(cursor)
    try:
        _header, blocks = libipld.decode_car(payload.get("blocks") or b"")
    except Exception as exc:
        raise MalformedFrame(f"blocks are not a CAR file: {exc}") from exc
    posts = []
    for op in wanted:
        record = blocks.get(_cid_key(op.get("cid")))
        post = post_from_record(
            did=did,
            rkey=op["path"].split("/", 1)[1],
            record=record,
            handle=handles.get(did, ""),
            fallback_time=payload.get("time"),
        )
        if post is not None:
            posts.append(post)
    return Frame(cursor, posts)


def _cid_key(cid: object) -> object:
    """decode_car keys blocks by the CID's bytes; ops carry the CID as libipld decodes it."""
    if isinstance(cid, str):
        try:
            return libipld.decode_multibase(cid)[1] if cid.startswith("b") else cid
        except Exception:
            return cid
    return cid


def decode_jetstream(message: str | bytes, handles: dict[str, str] | None = None) -> Frame:
    """One JSON message of Jetstream; raises MalformedFrame."""
    handles = handles if handles is not None else {}
    try:
        event = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedFrame(f"not JSON: {exc}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("time_us"), int):
        raise MalformedFrame("no time_us")
    cursor, did = event["time_us"], event.get("did")
    kind = event.get("kind")
    if kind == "identity":
        identity = event.get("identity") or {}
        if isinstance(did, str) and isinstance(identity.get("handle"), str):
            handles[did] = identity["handle"]
            return Frame(cursor, identity=(did, identity["handle"]))
        return Frame(cursor)
    commit = event.get("commit")
    if kind != "commit" or not isinstance(commit, dict):
        return Frame(cursor)
    if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
        return Frame(cursor)
    if not isinstance(did, str) or not isinstance(commit.get("rkey"), str):
        raise MalformedFrame("commit without did or rkey")
    post = post_from_record(
        did=did, rkey=commit["rkey"], record=commit.get("record"), handle=handles.get(did, "")
    )
    return Frame(cursor, [post] if post else [])
