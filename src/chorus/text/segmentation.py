"""Word segmentation and whole-word term matching for compliance and listening.

Thai, Khmer, Lao and Burmese are written without spaces between words, so "whole word"
cannot mean "between spaces". ICU's word BreakIterator finds word boundaries with its
dictionaries for those scripts (and UAX #29 rules elsewhere); PyThaiNLP's dictionary
second-guesses it on Thai (see :mod:`._thai`), and handles and domains are cut at `@`, `_`
and `.`. A term matches only where it starts and ends on such a boundary. Both sides are
compared after NFKC_Casefold, which folds case, compatibility forms (full-width letters,
ligatures) and erases invisible characters such as ZERO WIDTH SPACE, which Khmer writers put
between words; Armenian և is compared as its capital spelling ԵՎ.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import regex

from . import _icu, _thai

# Scripts written without spaces between words: a space typed between two of their letters in
# a search phrase may stand for no space or a ZERO WIDTH SPACE in the text.
_UNSPACED = r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_UNSPACED_GAP = regex.compile(rf"(?<=[{_UNSPACED}]\p{{M}}*) (?=[{_UNSPACED}])")
_THAI_RUN = regex.compile(r"\p{Thai}+")
# Inside an ICU word, handles and domains keep their words apart: `@chorus_support`,
# `chorus.example`. A `.` or `,` between digits stays (3.5, 50,000).
_JOINER = regex.compile(r"[@_]|(?<!\p{N})\.|\.(?!\p{N})")
# Armenian: the ligature և folds to ե + ւ, but its capital spelling is ԵՎ (ե + վ).
_ARMENIAN_EW = "\u0565\u0582"
_ARMENIAN_EV = "\u0565\u057e"


@dataclass(frozen=True, slots=True)
class Span:
    """One ICU word-break segment: a word, or the spaces/punctuation between words."""

    start: int
    end: int
    text: str
    is_word: bool


@dataclass(frozen=True, slots=True)
class Match:
    """A term found in a text; ``start``/``end`` index the original text for highlighting."""

    start: int
    end: int
    text: str
    term: str


def _is_word(segment: str) -> bool:
    return segment[:1].isalnum() or any(char.isalnum() for char in segment)


def boundaries(text: str, locale: str = "") -> list[int]:
    """Word boundaries of ``text`` after 0, in order (the last one is ``len(text)``).

    ICU's word BreakIterator, then: handles and domains cut at ``@``, ``_`` and ``.``; Thai
    runs checked against PyThaiNLP's dictionary (see :mod:`._thai`).
    """
    icu_boundaries = _icu.offsets(text, "word", locale)
    cuts = set(icu_boundaries)
    previous = 0
    for boundary in icu_boundaries if "@" in text or "_" in text or "." in text else ():
        segment = text[previous:boundary]
        if len(segment) > 1:
            for match in _JOINER.finditer(segment):
                cuts.add(previous + match.start())
                cuts.add(previous + match.end())
        previous = boundary
    for run in _THAI_RUN.finditer(text) if not text.isascii() else ():
        start, end = run.span()
        inside = {cut - start for cut in cuts if start < cut < end}
        refined = _thai.refine(run.group(), inside)
        cuts.difference_update(cut + start for cut in inside - refined)
        cuts.update(cut + start for cut in refined)
    cuts.discard(0)
    return sorted(cuts)


def words(text: str, locale: str = "") -> list[Span]:
    """Split ``text`` at word boundaries (``locale`` is an ICU id such as ``"th"``)."""
    spans = []
    previous = 0
    for boundary in boundaries(text, locale):
        segment = text[previous:boundary]
        spans.append(Span(previous, boundary, segment, _is_word(segment)))
        previous = boundary
    return spans


def fold(text: str) -> str:
    """NFKC_Casefold, with Armenian և compared as its capital spelling ԵՎ.

    On ASCII text NFKC_Casefold is ``str.lower()`` (no compatibility forms, no default
    ignorables, case folds to lower case), which costs a fraction of the ICU call.
    """
    if text.isascii():
        return text.lower()
    return _icu.fold(text).replace(_ARMENIAN_EW, _ARMENIAN_EV)


def fold_term(term: str) -> str:
    """A term as the matcher compares it: folded, whitespace runs made one space."""
    return " ".join(fold(term).split())


class TermMatcher:
    """A reusable matcher for a fixed set of terms or phrases.

    Build it once per policy or listening query; :meth:`find` then costs one ICU pass over
    the text plus a dictionary lookup per candidate span, however many terms there are.
    Runs of whitespace in the text match any whitespace in a phrase.
    """

    def __init__(self, terms: Iterable[str], locale: str = "") -> None:
        self.locale = locale
        self._terms: dict[str, list[str]] = {}
        for term in terms:
            key = fold_term(term)
            if not key:
                raise ValueError(f"term {term!r} is empty after normalisation")
            for variant in dict.fromkeys((key, _UNSPACED_GAP.sub("", key))):
                originals = self._terms.setdefault(variant, [])
                if term not in originals:
                    originals.append(term)
        self._lengths = frozenset(len(key) for key in self._terms)
        self._first_chars = frozenset(key[0] for key in self._terms)
        self._max_length = max(self._lengths, default=0)

    def find(self, text: str) -> list[Match]:
        """Every occurrence of every term, ordered by position (overlaps included)."""
        if not self._terms:
            return []
        folded, starts, ends, offsets = _fold_by_segment(text, self.locale)
        matches = []
        for i, begin in enumerate(offsets):
            if begin >= len(folded) or folded[begin] not in self._first_chars:
                continue
            for finish in offsets[i + 1 :]:
                length = finish - begin
                if length > self._max_length:
                    break
                if length not in self._lengths:
                    continue
                for term in self._terms.get(folded[begin:finish], ()):
                    start, end = starts[begin], ends[finish]
                    matches.append(Match(start, end, text[start:end], term))
        return matches


def _fold_by_segment(
    text: str, locale: str
) -> tuple[str, dict[int, int], dict[int, int], list[int]]:
    """Fold segment by segment so every segment boundary keeps its original index.

    Returns the folded text, maps from folded boundary offsets to original indices (for
    a match start: the last original boundary there; for an end: the first), and the
    sorted folded boundary offsets.
    """
    pieces: list[str] = []
    length = 0
    starts = {0: 0}
    ends = {0: 0}
    previous = 0
    last_was_space = False
    # Folding segment by segment is folding character by character when the text is ASCII
    # (str.lower) or already folded (ICU's quick check, which holds for every substring) and
    # free of Armenian ե + ւ: then each segment's fold is a slice, with no call per segment.
    if text.isascii():
        sliced: str | None = text.lower()
    else:
        sliced = text if _ARMENIAN_EW not in text and _icu.is_folded(text) else None
    for boundary in boundaries(text, locale):
        segment = text[previous:boundary]
        if segment.isspace():
            piece = "" if last_was_space else " "
            last_was_space = True
        else:
            piece = fold(segment) if sliced is None else sliced[previous:boundary]
            last_was_space = last_was_space and not piece
        pieces.append(piece)
        length += len(piece)
        starts[length] = boundary
        ends.setdefault(length, boundary)
        previous = boundary
    return "".join(pieces), starts, ends, sorted(starts)


@dataclass(frozen=True, slots=True)
class FoldedWords:
    """A text folded segment by segment (as :class:`TermMatcher` compares it): the folded
    text, its word boundaries (sorted, and as a set, 0 and the end included) and the spans
    of its words (segments holding a letter or digit), all as offsets in ``folded``."""

    folded: str
    offsets: tuple[int, ...]
    boundary: frozenset[int]
    words: tuple[tuple[int, int], ...]


def folded_words(text: str) -> FoldedWords:
    """:class:`FoldedWords` of ``text`` (root locale)."""
    folded, _starts, _ends, offsets = _fold_by_segment(text, "")
    words, previous = [], 0
    for boundary in offsets:
        if _is_word(folded[previous:boundary]):
            words.append((previous, boundary))
        previous = boundary
    return FoldedWords(folded, tuple(offsets), frozenset(offsets), tuple(words))


# The same, remembered for the 65,536 texts last asked about: listening asks about the same
# short whitespace-separated chunks (hashtags, common words and phrases) over and over, and
# Thai segmentation is the costliest text rule there is. FoldedWords is immutable.
cached_folded_words = lru_cache(maxsize=65_536)(folded_words)


# ASCII punctuation through which no word runs when no letter or digit lies beyond it (UAX #29:
# `'` `.` `,` `;` `:` `"` join letters or digits only between two of them; the rest are "Other";
# `@` and `.` are cut by _JOINER anyway). `_` (ExtendNumLet) joins a letter on either side alone,
# so it is not here.
_LOOSE_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~"


def edge_of_word(piece: str) -> bool:
    """True when ``piece``, the folded text between a position and the edge of a
    whitespace-free chunk, proves that position a word boundary without segmenting: it is
    empty or only such punctuation. Word boundaries never fall inside a grapheme cluster and
    NFKC_Casefold composes only within one, so this holds in the chunk as written too (a
    character folding to one of these has its word-break class: `！` is "Other", `．` MidNumLet).
    False means "segment to know"."""
    return not piece.strip(_LOOSE_PUNCTUATION)


def find_terms(text: str, terms: Iterable[str], locale: str = "") -> list[Match]:
    """One-off :class:`TermMatcher` search; build the matcher yourself when reusing terms."""
    return TermMatcher(terms, locale).find(text)
