"""Links, mentions and hashtags, with str offsets and the UTF-8 byte offsets Bluesky facets use.

Each finder takes ``network``, because the two networks we publish rich text to disagree:

* ``"bluesky"`` follows ``detectFacets`` in ``@atproto/api``: http(s) URLs and bare domains
  with an IANA TLD (given an ``https://`` value), ``@handle.domain`` mentions whose last label
  is a TLD, and ``#tags`` of any non-space characters that are not all digits/punctuation,
  trailing punctuation dropped, at most 64 UTF-16 units.
* ``"mastodon"`` follows Mastodon's ``Extractor``: URLs with a protocol (the twitter-text
  grammar Mastodon overrides), ``@user`` / ``@user@domain`` mentions (``Account::MENTION_RE``)
  and hashtags of word characters holding at least one letter (``Tag::HASHTAG_RE``).

Hashtags must follow the start of text or whitespace on both networks. Thai and Khmer vowel
signs, tone marks and the Khmer coeng are Unicode marks, so tags written in them stay whole.
"""

from collections.abc import Callable
from dataclasses import dataclass

import regex

from ._urls import is_listed_tld, mastodon_urls

BLUESKY = "bluesky"
MASTODON = "mastodon"
NETWORKS = (BLUESKY, MASTODON)

LINK = "link"
MENTION = "mention"
HASHTAG = "hashtag"


@dataclass(frozen=True, slots=True)
class Entity:
    """One detected entity; ``text == source[start:end]``.

    ``value`` is the link URI (``https://`` added to bare domains), the mentioned handle or
    account without ``@``, or the tag without ``#``.
    """

    kind: str
    start: int
    end: int
    byte_start: int
    byte_end: int
    text: str
    value: str


# --- Bluesky (@atproto/api rich-text detection) -------------------------------------------------
_BSKY_URL = regex.compile(
    r"(?:^|\s|\()(?P<uri>(?:https?://\S+)|(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*)",
    regex.IGNORECASE | regex.MULTILINE,
)
# JavaScript's \b is ASCII-only; spelled out so a Thai letter after a handle is no boundary.
_ASCII_BOUNDARY = r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))"
_BSKY_MENTION = regex.compile(r"(?:^|\s|\()@(?P<handle>[a-zA-Z0-9.-]+)" + _ASCII_BOUNDARY)
_TAG_EXCLUDED = r"\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_BSKY_TAG = regex.compile(
    rf"(?:^|\s)[#＃](?P<tag>(?!\ufe0f)[^{_TAG_EXCLUDED}]*[^0-9\p{{P}}{_TAG_EXCLUDED}]+"
    rf"[^{_TAG_EXCLUDED}]*)"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_BSKY_TAG_MAX_UTF16 = 64

# --- Mastodon (app/lib/extractor.rb, Account::MENTION_RE, Tag::HASHTAG_RE) -------------------
_WORD = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Onigmo's [[:word:]]
_USERNAME = r"[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*"
_MASTODON_MENTION = regex.compile(
    rf"(?<![=/{_WORD}])@(?P<acct>(?i:{_USERNAME})(?:@[{_WORD}]+(?:[.-]+[{_WORD}]+)*)?)"
)
# twitter-text's end_mention_match: a mention followed by these is not a mention.
_MASTODON_MENTION_END = regex.compile(
    "[@＠\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    "\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff]|://"
)
_MASTODON_MAX_DOMAIN_LENGTH = 253
_SEPARATORS = "_\u00b7\u30fb\u200c"
_MASTODON_TAG = regex.compile(
    rf"(?<=^|\s)[#＃](?P<tag>"
    rf"[{_WORD}_][{_WORD}{_SEPARATORS}]*[\p{{Alphabetic}}{_SEPARATORS}]"
    rf"[{_WORD}{_SEPARATORS}]*[{_WORD}_]"
    rf"|[{_WORD}_]*\p{{Alphabetic}}[{_WORD}_]*)",
    regex.MULTILINE,
)
_TAG_BEFORE_SCHEME = regex.compile(r"(.+)(https?)$")

_Span = tuple[int, int, str]


def _bluesky_links(text: str) -> list[_Span]:
    spans = []
    for match in _BSKY_URL.finditer(text):
        uri = match.group("uri")
        domain = match.group("domain")
        if domain is not None:
            if not _is_bluesky_domain(domain):
                continue
            uri = "https://" + uri
        start, end = match.span("uri")
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        spans.append((start, end, uri))
    return spans


def _is_bluesky_domain(domain: str) -> bool:
    labels = domain.split(".")
    return len(labels) >= 2 and is_listed_tld(labels[-1])


def _mastodon_links(text: str) -> list[_Span]:
    return [(start, end, text[start:end]) for start, end in mastodon_urls(text)]


def _bluesky_mentions(text: str) -> list[_Span]:
    spans = []
    for match in _BSKY_MENTION.finditer(text):
        handle = match.group("handle")
        if _is_bluesky_domain(handle) or handle.endswith(".test"):
            spans.append((match.start("handle") - 1, match.end("handle"), handle))
    return spans


def _mastodon_mentions(text: str) -> list[_Span]:
    if "@" not in text and "＠" not in text:
        return []
    spans = []
    for match in _MASTODON_MENTION.finditer(text):
        if _MASTODON_MENTION_END.match(text, match.end()):
            continue
        acct = match.group("acct")
        _, _, domain = acct.partition("@")
        if len(domain) > _MASTODON_MAX_DOMAIN_LENGTH:
            continue
        spans.append((match.start(), match.end(), acct))
    return spans


def mastodon_mention_spans(text: str) -> list[tuple[int, int]]:
    """Mention spans as Mastodon's length validator sees them (used by counting)."""
    return [(start, end) for start, end, _ in _mastodon_mentions(text)]


def _bluesky_hashtags(text: str) -> list[_Span]:
    spans = []
    for match in _BSKY_TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group("tag").strip())
        if not tag or len(tag.encode("utf-16-le")) // 2 > _BSKY_TAG_MAX_UTF16:
            continue
        start = match.start("tag") - 1
        spans.append((start, start + 1 + len(tag), tag))
    return spans


def _mastodon_hashtags(text: str) -> list[_Span]:
    spans = []
    for match in _MASTODON_TAG.finditer(text):
        tag = match.group("tag")
        end = match.end("tag")
        if text.startswith("://", end):
            trimmed = _TAG_BEFORE_SCHEME.match(tag)
            if trimmed:
                tag = trimmed.group(1)
                end -= len(trimmed.group(2))
        spans.append((match.start("tag") - 1, end, tag))
    return spans


_FINDERS: dict[str, dict[str, Callable[[str], list[_Span]]]] = {
    LINK: {BLUESKY: _bluesky_links, MASTODON: _mastodon_links},
    MENTION: {BLUESKY: _bluesky_mentions, MASTODON: _mastodon_mentions},
    HASHTAG: {BLUESKY: _bluesky_hashtags, MASTODON: _mastodon_hashtags},
}


def _with_bytes(text: str, kind: str, spans: list[_Span]) -> list[Entity]:
    """Attach UTF-8 byte offsets, encoding each stretch of text once."""
    positions = sorted({p for start, end, _ in spans for p in (start, end)})
    byte_at = {}
    cursor = byte_cursor = 0
    for position in positions:
        byte_cursor += len(text[cursor:position].encode("utf-8", "surrogatepass"))
        byte_at[position] = byte_cursor
        cursor = position
    return [
        Entity(kind, start, end, byte_at[start], byte_at[end], text[start:end], value)
        for start, end, value in spans
    ]


def _find(kind: str, text: str, network: str) -> list[Entity]:
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {NETWORKS}")
    return _with_bytes(text, kind, _FINDERS[kind][network](text))


def find_links(text: str, network: str) -> list[Entity]:
    """Links as ``network`` would link them."""
    return _find(LINK, text, network)


def find_mentions(text: str, network: str) -> list[Entity]:
    """Mentions as ``network`` would resolve them (Bluesky handles, Mastodon accounts)."""
    return _find(MENTION, text, network)


def find_hashtags(text: str, network: str) -> list[Entity]:
    """Hashtags as ``network`` would index them."""
    return _find(HASHTAG, text, network)


def find_entities(text: str, network: str) -> list[Entity]:
    """All entities in text order; where two overlap the earlier one wins, as in Mastodon."""
    found = sorted(
        (entity for kind in _FINDERS for entity in _find(kind, text, network)),
        key=lambda entity: (entity.start, -entity.end),
    )
    result: list[Entity] = []
    for entity in found:
        if not result or entity.start >= result[-1].end:
            result.append(entity)
    return result
