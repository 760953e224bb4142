"""What one send of a claimed variant does, apart from the loop that runs sends.

A variant goes out as its parts (the first, then each further part as a reply to the one
before). After an uncertain earlier attempt each part is first looked for on the network.
Uploads the network was still processing at the last try (a `Transient` carrying
`media_ids`: Mastodon and X media, Instagram and Threads containers) are kept with the
variant (`Variant.pending_media`: the part, the ids, and a digest of that part's draft) and
given back to the provider for that part on the next try, so a retry, even after a
restart, never uploads the same media twice. An edit in between (other text, other files)
changes the digest, and the next try starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from chorus.networks.providers.base import (
    Credentials,
    Media,
    Poll,
    PostDraft,
    PublishedPost,
    RateBudget,
    RemoteRef,
    Transient,
)
from chorus.publishing.models import Variant, VariantMedia
from chorus.text.language import detect_language


@dataclass
class Outcome:
    """What happened to one claimed variant; written back in batches."""

    variant_id: int
    attempt_id: int
    outcome: str
    status: str
    due_at: datetime | None = None
    error: str = ""
    published: PublishedPost | None = None
    parts: list[dict] = field(default_factory=list)
    account_id: int | None = None
    finished_at: datetime = field(default_factory=timezone.now)
    counted: bool = True  # False: nothing was sent (waiting out a known pause)
    budget: RateBudget | None = None  # the network's rate-limit headers on the last reply
    credentials: Credentials | None = None  # renewed on the way (Bluesky sessions): keep them
    pending_media: dict | None = None  # kept for the next try ({} forgets; None leaves it)


@dataclass
class Work:
    variant: Variant
    attempt_id: int
    credentials: Credentials | None
    media: list[VariantMedia] = field(default_factory=list)  # in order, with their assets
    refusal: Outcome | None = None  # why it must not go out, decided when claimed
    failures: int = 0  # temporary failures so far: rate limits and waits do not count
    # set when an earlier attempt may have reached the network (it timed out, lost its
    # answer or was abandoned): look for the post from then on before sending again
    reconcile_since: datetime | None = None
    recorded: frozenset[str] = frozenset()  # this account's ids recorded for other posts
    pending_media: dict | None = None  # set when a part's publish fails in passing


def send_parts(provider, work: Work) -> tuple[PublishedPost, list[dict], int]:
    """Publish the first part, then each further part as a reply to the one before.

    After an uncertain earlier attempt each part is first looked for on the network;
    once one is not there, none after it can be (each replies to the one before), so
    the rest are sent without looking. Returns the first part, every part, and how many
    were found rather than sent. A part that fails in passing leaves in
    `work.pending_media` what its network made that the next try may reuse.
    """
    variant = work.variant
    done = list(variant.parts_published)
    first: PublishedPost | None = None
    since, found = work.reconcile_since, 0
    kept = variant.pending_media or {}
    media = tuple(
        Media(
            data=vm.asset.file.read(),
            mime_type=vm.asset.mime_type,
            alt_text=vm.alt_text or vm.asset.alt_text,
            filename=os.path.basename(vm.asset.file.name),
        )
        for vm in work.media
    )
    language = variant.language or detect_language(variant.text)
    for index, text in enumerate(variant.parts()):
        if index < len(done):
            continue
        parent = ref_of(done[-1]) if done else None
        root = ref_of(done[0]) if done else None
        if parent and root:
            parent = RemoteRef(
                parent.remote_id,
                parent.url,
                {
                    **parent.extra,
                    "root_uri": root.remote_id,
                    "root_cid": root.extra.get("cid", ""),
                },
            )
        draft = PostDraft(
            text=text,
            idempotency_key=f"{variant.idempotency_key}-{index}",
            media=media if index == 0 else (),
            link=variant.link if index == 0 else "",
            reply_to=parent,
            content_warning=variant.content_warning,
            language=language,
            poll=_poll(variant.poll) if index == 0 else None,
        )
        existing = (
            provider.find_published(draft, since=since, exclude=work.recorded)
            if since is not None
            else None
        )
        if existing is None:
            since = None
            digest = _digest(draft)
            same = kept.get("part") == index and kept.get("digest") == digest
            reuse = tuple(kept.get("ids") or ()) if same else ()
            try:
                published = (
                    provider.publish(draft, media_ids=reuse) if reuse else provider.publish(draft)
                )
            except Transient as exc:
                ids = list(exc.media_ids)
                work.pending_media = {"part": index, "ids": ids, "digest": digest} if ids else {}
                raise
        else:
            found += 1
            published = existing
        done.append(
            {
                "id": published.ref.remote_id,
                "url": published.ref.url,
                "extra": published.ref.extra,
            }
        )
        first = first or published
    if first is None:  # every part was already out before a crash
        first = PublishedPost(ref_of(done[0]))
    return first, done, found


def _digest(draft: PostDraft) -> str:
    """What a network's processed media were made from: text, link and files."""
    made_from = [draft.text, draft.link] + [
        f"{m.filename}:{m.alt_text}:{hashlib.sha256(m.data).hexdigest()}" for m in draft.media
    ]
    return hashlib.sha256(json.dumps(made_from).encode()).hexdigest()


def ref_of(part: dict) -> RemoteRef:
    """A recorded part (`Variant.parts_published` entry) as the network's reference."""
    return RemoteRef(part["id"], part.get("url", ""), dict(part.get("extra") or {}))


def _poll(poll: dict | None) -> Poll | None:
    if not poll:
        return None
    return Poll(
        options=tuple(poll["options"]),
        expires_in_seconds=int(poll.get("expires_in", 86400)),
        multiple=bool(poll.get("multiple")),
    )
