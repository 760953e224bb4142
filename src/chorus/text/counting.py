"""Post length exactly as each network counts it.

Four rules, named by the ``counting`` argument:

``"graphemes"`` (Bluesky)
    Extended grapheme clusters as Bluesky's server counts them today: ``Intl.Segmenter`` of
    the Node that runs it (Node 24, ICU 78, Unicode 17). Unicode 17's UAX #29 keeps a Khmer
    coeng and its subscript consonant in one cluster (``ក្មេង`` is 2, ``ស្ត្រី`` is 1), which
    the ICU 72 that PyICU links on Debian bookworm does not (3 and 3), so counting uses the
    ``regex`` module's ``\\X``, which follows current Unicode. A post is also refused over
    3,000 UTF-8 bytes (``maxLength``): see :func:`utf8_length`.

``"mastodon"``
    Mastodon's ``StatusLengthValidator``: every URL written with a protocol becomes 23
    characters, a remote mention ``@user@domain`` counts as ``@user``, and the result is
    counted in grapheme clusters (Ruby's ``each_grapheme_cluster``). The content warning is
    counted with the text: ``[spoiler_text, text].join`` (pass ``content_warning``).

``"utf16"`` (Facebook, Instagram)
    UTF-16 code units, as Meta's servers measure a message or caption: an emoji outside
    the Basic Multilingual Plane counts 2, a Thai or Khmer combining mark counts 1 on its
    own. Meta documents only the limits (63,206 and 2,200 characters), so this is the
    stricter of the plausible readings: a post it accepts is never too long.

``"x-weighted"``
    twitter-text v3 (``config/v3.json``): text is NFC-normalised; each URL (bare domains too)
    weighs 23; each emoji, sequence or not, weighs 2; any other code point weighs 1 if it
    lies in U+0000-10FF, U+2000-200D, U+2010-201F or U+2032-2037 and 2 otherwise. Emoji are
    the RGI set from ICU's ``[:RGI_Emoji:]`` in place of twemoji-parser's table.

``"telegram"``
    The Bot API counts a message "after entities parsing" in UTF-16 code units: the
    formatting marks of :mod:`.formatting` are not counted, an emoji outside the BMP counts
    2. A content warning is sent as its own line above the text, so it counts too.
"""

import unicodedata
from dataclasses import dataclass
from functools import cache

import regex

from . import _icu
from ._urls import mastodon_urls, x_urls
from .entities import mastodon_mention_spans
from .formatting import telegram_length

GRAPHEMES = "graphemes"
MASTODON = "mastodon"
X_WEIGHTED = "x-weighted"
TELEGRAM = "telegram"
UTF16 = "utf16"
COUNTINGS = (GRAPHEMES, MASTODON, X_WEIGHTED, TELEGRAM, UTF16)

URL_LENGTH = 23

_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_X_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


@dataclass(frozen=True, slots=True)
class LengthCheck:
    """Outcome of :func:`check_length`; ``remaining`` goes negative once ``over``."""

    count: int
    limit: int
    remaining: int
    over: bool


_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """Bluesky length: extended grapheme clusters under current Unicode (17)."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


def utf8_length(text: str) -> int:
    """Length in UTF-8 bytes (Bluesky's ``maxLength: 3000`` on a post's text)."""
    return len(text.encode("utf-8", "surrogatepass"))


def mastodon_countable_text(text: str, url_length: int = URL_LENGTH) -> str:
    """The text Mastodon measures: URLs replaced by `url_length` x's (23, or the server's
    `characters_reserved_per_url`), remote mentions cut to @user."""
    entities = [(start, end, True) for start, end in mastodon_urls(text)]
    entities += [(start, end, False) for start, end in mastodon_mention_spans(text)]
    entities.sort()
    pieces = []
    cursor = 0
    for start, end, is_url in entities:
        if start < cursor:  # Extractor.remove_overlapping_entities keeps the earlier one.
            continue
        pieces.append(text[cursor:start])
        if is_url:
            pieces.append("x" * url_length)
        else:
            pieces.append("@" + text[start + 1 : end].split("@")[0])
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def mastodon_count(text: str, content_warning: str = "", url_length: int = URL_LENGTH) -> int:
    """Mastodon length of a status: ``[spoiler_text, countable_text(text)].join``."""
    return grapheme_count(content_warning + mastodon_countable_text(text, url_length))


@cache
def _emoji_table() -> dict[str, tuple[frozenset[str], tuple[int, ...]]]:
    """First character -> (emoji starting with it, their lengths longest first)."""
    grouped: dict[str, set[str]] = {}
    for emoji in _icu.rgi_emoji():
        grouped.setdefault(emoji[0], set()).add(emoji)
    return {
        first: (frozenset(group), tuple(sorted({len(e) for e in group}, reverse=True)))
        for first, group in grouped.items()
    }


def _emoji_end(text: str, index: int) -> int | None:
    entry = _emoji_table().get(text[index])
    if entry is None:
        return None
    emoji, lengths = entry
    for length in lengths:
        if text[index : index + length] in emoji:
            return index + length
    return None


def _x_weight(code_point: int) -> int:
    for low, high in _X_RANGES:
        if low <= code_point <= high:
            return _X_SCALE
    return _X_DEFAULT_WEIGHT


def x_weighted_count(text: str) -> int:
    """X length: twitter-text v3 weighted length (280 allowed)."""
    text = unicodedata.normalize("NFC", text)
    url_ends = dict(x_urls(text))
    total = 0
    index = 0
    while index < len(text):
        end = url_ends.get(index)
        if end is not None:
            total += URL_LENGTH * _X_SCALE
            index = end
            continue
        end = _emoji_end(text, index)
        if end is not None:
            total += _X_DEFAULT_WEIGHT
            index = end
            continue
        total += _x_weight(ord(text[index]))
        index += 1
    return total // _X_SCALE


def utf16_count(text: str) -> int:
    """Facebook and Instagram length: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_COUNTERS = {
    UTF16: utf16_count,
    GRAPHEMES: grapheme_count,
    MASTODON: mastodon_count,
    X_WEIGHTED: x_weighted_count,
    TELEGRAM: telegram_length,
}


def count(
    text: str, counting: str, *, content_warning: str = "", url_length: int = URL_LENGTH
) -> int:
    """Length of ``text`` under one of :data:`COUNTINGS`.

    ``content_warning`` counts where the network counts it with the text (Mastodon,
    Telegram), and so
    does ``url_length``, the weight of a URL on the account's server.
    """
    try:
        counter = _COUNTERS[counting]
    except KeyError:
        raise ValueError(f"unknown counting {counting!r}; expected one of {COUNTINGS}") from None
    if counting == MASTODON:
        return mastodon_count(text, content_warning, url_length)
    if counting == TELEGRAM:
        return telegram_length(text, content_warning)
    return counter(text)


def check_length(
    text: str,
    counting: str,
    limit: int,
    *,
    content_warning: str = "",
    url_length: int = URL_LENGTH,
) -> LengthCheck:
    """Count ``text`` and compare it with ``limit`` (e.g. 300, 500, 280)."""
    used = count(text, counting, content_warning=content_warning, url_length=url_length)
    return LengthCheck(count=used, limit=limit, remaining=limit - used, over=used > limit)
