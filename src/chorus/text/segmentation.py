"""Word segmentation and whole-word term matching for compliance and listening.

Thai, Khmer, Lao and Burmese are written without spaces between words, so "whole word"
cannot mean "between spaces". ICU's word BreakIterator finds word boundaries with its
dictionaries for those scripts (and UAX #29 rules elsewhere); a term matches only where
it starts and ends on such a boundary. Both sides are compared after NFKC_Casefold, which
folds case, compatibility forms (full-width letters, ligatures) and erases invisible
characters such as ZERO WIDTH SPACE, which Khmer writers put between words.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from . import _icu


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


def words(text: str, locale: str = "") -> list[Span]:
    """Split ``text`` at ICU word boundaries (``locale`` is an ICU id such as ``"th"``)."""
    spans = []
    previous = 0
    for boundary, status in _icu.boundaries(text, "word", locale):
        spans.append(
            Span(previous, boundary, text[previous:boundary], status >= _icu.WORD_STATUS_MIN)
        )
        previous = boundary
    return spans


def fold_term(term: str) -> str:
    """A term as the matcher compares it: folded, whitespace runs made one space."""
    return " ".join(_icu.fold(term).split())


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
            originals = self._terms.setdefault(key, [])
            if term not in originals:
                originals.append(term)
        self._lengths = frozenset(len(key) for key in self._terms)
        self._first_chars = frozenset(key[0] for key in self._terms)
        self._max_length = max(self._lengths, default=0)

    def find(self, text: str) -> list[Match]:
        """Every occurrence of every term, ordered by position (overlaps included)."""
        if not self._terms:
            return []
        folded, starts, ends, offsets = self._fold_text(text)
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

    def _fold_text(self, text: str) -> tuple[str, dict[int, int], dict[int, int], list[int]]:
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
        for boundary, _status in _icu.boundaries(text, "word", self.locale):
            segment = text[previous:boundary]
            if segment.isspace():
                piece = "" if last_was_space else " "
                last_was_space = True
            else:
                piece = _icu.fold(segment)
                last_was_space = last_was_space and not piece
            pieces.append(piece)
            length += len(piece)
            starts[length] = boundary
            ends.setdefault(length, boundary)
            previous = boundary
        return "".join(pieces), starts, ends, sorted(starts)


def find_terms(text: str, terms: Iterable[str], locale: str = "") -> list[Match]:
    """One-off :class:`TermMatcher` search; build the matcher yourself when reusing terms."""
    return TermMatcher(terms, locale).find(text)
