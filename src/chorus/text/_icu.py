"""PyICU plumbing shared by counting and segmentation.

ICU reports boundaries as UTF-16 offsets while Python indexes code points, so every
boundary goes through :func:`boundaries`, which converts them. Break iterators are not
thread-safe, hence one cached iterator per thread, kind and locale.
"""

import threading

import icu

_local = threading.local()

# ICU word-break rule statuses below 100 are UBRK_WORD_NONE: spaces, punctuation, symbols.
WORD_STATUS_MIN = 100


def _iterator(kind: str, locale: str) -> icu.BreakIterator:
    cache = _local.__dict__.setdefault("iterators", {})
    iterator = cache.get((kind, locale))
    if iterator is None:
        loc = icu.Locale(locale) if locale else icu.Locale.getRoot()
        if kind == "character":
            iterator = icu.BreakIterator.createCharacterInstance(loc)
        else:
            iterator = icu.BreakIterator.createWordInstance(loc)
        cache[(kind, locale)] = iterator
    return iterator


def _utf16_to_index(text: str) -> list[int] | None:
    """Map UTF-16 offsets to str indices, or None when they coincide (no astral chars)."""
    if not text or max(text) <= "\uffff":
        return None
    mapping = []
    for index, char in enumerate(text):
        mapping.append(index)
        if ord(char) > 0xFFFF:
            mapping.append(index)
    mapping.append(len(text))
    return mapping


def boundaries(text: str, kind: str, locale: str = "") -> list[tuple[int, int]]:
    """Return ``(str_index, rule_status)`` for every boundary after 0, in order.

    ``kind`` is ``"character"`` (extended grapheme clusters) or ``"word"``.
    """
    iterator = _iterator(kind, locale)
    iterator.setText(text)
    mapping = _utf16_to_index(text)
    result = []
    for offset in iterator:
        index = offset if mapping is None else mapping[offset]
        result.append((index, iterator.getRuleStatus()))
    return result


def offsets(text: str, kind: str, locale: str = "") -> list[int]:
    """The str indices of :func:`boundaries`, without asking for each one's rule status."""
    iterator = _iterator(kind, locale)
    iterator.setText(text)
    mapping = _utf16_to_index(text)
    if mapping is None:
        return list(iterator)
    return [mapping[offset] for offset in iterator]


def grapheme_count(text: str) -> int:
    """Number of extended grapheme clusters according to ICU."""
    iterator = _iterator("character", "")
    iterator.setText(text)
    return sum(1 for _ in iterator)


_FOLDER = icu.Normalizer2.getNFKCCasefoldInstance()


def fold(text: str) -> str:
    """NFKC_Casefold: compatibility forms, case and default-ignorable characters erased."""
    return _FOLDER.normalize(text)


def is_folded(text: str) -> bool:
    """True when ICU's quick check proves ``text`` unchanged by NFKC_Casefold. The check is
    per character (and canonical order within runs of marks), so every substring of such a
    text is unchanged too."""
    return _FOLDER.spanQuickCheckYes(text) == len(text.encode("utf-16-le")) // 2


def rgi_emoji() -> frozenset[str]:
    """Every RGI emoji (single characters and sequences) known to this ICU."""
    return frozenset(str(item) for item in icu.UnicodeSet("[:RGI_Emoji:]"))
