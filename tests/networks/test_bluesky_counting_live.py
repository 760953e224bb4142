"""Chorus counts a Bluesky post as the network counts it today, proven on the local reference
network (Bluesky's dev-env) and on the Intl.Segmenter of the Node that runs it.

Production Bluesky runs on Node 24 (ICU 78, Unicode 17): a Khmer coeng and its subscript
consonant share a grapheme cluster there. The reference network's Node must report the same
Unicode version, or these figures would prove nothing.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
from tests.networks.test_bluesky_live import alice, http  # noqa: F401  (fixtures)
from tests.servers.bluesky_server import NODE, BlueskyTestServer
from tests.text import corpus

from chorus.networks.providers.base import PostDraft, Rejected
from chorus.networks.providers.bluesky import Bluesky
from chorus.publishing.validation import check_variant
from chorus.text import count

PRODUCTION_UNICODE = "17.0"  # process.versions.unicode of Node 24 with ICU 78
KHMER_300 = "ខ្មែរ" * 150  # 300 graphemes today; ICU 72 counts 450


def node_graphemes(texts: list[str]) -> tuple[str, list[int]]:
    script = (
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const seg = new Intl.Segmenter();"
        "console.log(JSON.stringify([process.versions.unicode,"
        " texts.map(t => [...seg.segment(t)].length)]));"
    )
    done = subprocess.run(
        [str(NODE), "-e", script],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    unicode_version, counts = json.loads(done.stdout)
    return unicode_version, counts


def test_counts_agree_with_intl_segmenter_of_the_reference_node(
    bluesky_server: BlueskyTestServer,
) -> None:
    texts = [post.text for name in ("posts", "heldout") for post in corpus.load(name)]
    texts += ["ក្មេង", "ស្ត្រី", "ខ្មែរ", "ប្រព័ន្ធ", "น้ำ", "क्षि", "\U0001f468\u200d\U0001f469", KHMER_300]
    unicode_version, counts = node_graphemes(texts)
    assert unicode_version == PRODUCTION_UNICODE
    assert counts[-8:-5] == [2, 1, 2]  # ក្មេង, ស្ត្រី, ខ្មែរ as the issue measured on Node 24
    assert [count(text, "graphemes") for text in texts] == counts


def test_khmer_post_at_exactly_300_is_accepted_and_301_refused(alice: Bluesky) -> None:  # noqa: F811
    assert check_variant(provider_key="bluesky", text=KHMER_300) == []
    published = alice.publish(PostDraft(text=KHMER_300, idempotency_key=str(uuid.uuid4())))
    assert published.ref.remote_id

    longer = KHMER_300 + "ក"
    assert [p.field for p in check_variant(provider_key="bluesky", text=longer)] == ["text"]
    with pytest.raises(Rejected, match="300"):
        alice.publish(PostDraft(text=longer, idempotency_key=str(uuid.uuid4())))


def test_text_over_3000_bytes_is_refused_by_both(alice: Bluesky) -> None:  # noqa: F811
    women = "ស្ត្រី" * 167  # 167 graphemes, 3,006 bytes
    assert [p.field for p in check_variant(provider_key="bluesky", text=women)] == ["text"]
    with pytest.raises(Rejected):
        alice.publish(PostDraft(text=women, idempotency_key=str(uuid.uuid4())))
    fits = "ស្ត្រី" * 166  # 2,988 bytes
    assert check_variant(provider_key="bluesky", text=fits) == []
    assert alice.publish(PostDraft(text=fits, idempotency_key=str(uuid.uuid4()))).ref.remote_id
