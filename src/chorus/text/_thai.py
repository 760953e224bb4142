"""A second opinion on Thai word boundaries: PyThaiNLP's dictionary and its `newmm` tokenizer.

ICU's Thai dictionary cuts loanwords into syllables it happens to know (`ฟรีแลนซ์`
"freelance" becomes `ฟรี|แลน|ซ์`, so a banned `ฟรี` "free" would match inside it) and glues some
pairs of words (`ไม่มี`). PyThaiNLP ships a 62,000-word dictionary in its package (no download)
and a maximal-matching tokenizer over it. :func:`refine` merges both: every boundary either one
puts, except an ICU boundary inside a PyThaiNLP word that leaves a piece which is no word at all.

newmm runs in nlpO3, PyThaiNLP's own Rust port of it, over the same dictionary file: the same
tokens (tests/text/test_segmentation.py compares the two) at a fifth of the Python's cost, which
listening pays on every Thai post that holds a query's term (docs/decisions.md).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from functools import cache
from pathlib import Path

import nlpo3

_O3_DICTIONARY = "chorus-thai-words"


@cache
def _dictionary() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return thai_words()


def dictionary_file() -> Path:
    """The word list PyThaiNLP's newmm builds its trie from (`thai_words()` reads it)."""
    import pythainlp.corpus

    return Path(pythainlp.corpus.__file__).with_name("words_th.txt")


_o3_loading = threading.Lock()
_o3_loaded = False


def _tokens(run: str) -> list[str]:
    """``word_tokenize(run, engine="newmm")``: a run of Thai letters holds no whitespace and
    no `.`, `,` or `:` between digits, so word_tokenize's post-processing (whitespace,
    formatted numbers) never changes newmm's tokens there."""
    global _o3_loaded
    if not _o3_loaded:
        # nlpO3 keeps dictionaries by name for the whole process and refuses a second load
        # of a name: the first request of each thread of a server may arrive at once.
        with _o3_loading:
            if not _o3_loaded:
                message, loaded = nlpo3.load_dict(str(dictionary_file()), _O3_DICTIONARY)
                if not loaded and "already exists" not in message:
                    raise RuntimeError(message)
                _o3_loaded = True
    return nlpo3.segment(run, _O3_DICTIONARY)


def refine(run: str, icu_cuts: set[int]) -> set[int]:
    """Boundaries inside a run of Thai letters (offsets 1..len-1), from ICU's and PyThaiNLP's."""
    words = _dictionary()
    cuts = set(icu_cuts)
    pending = sorted(icu_cuts)
    start = 0
    for token in _tokens(run):
        end = start + len(token)
        inner = pending[bisect_right(pending, start) : bisect_left(pending, end)]
        if inner:
            edges = [start, *inner, end]
            pieces = [run[a:b] for a, b in zip(edges, edges[1:], strict=False)]
            if any(piece not in words for piece in pieces):
                cuts.difference_update(inner)
        if 0 < end < len(run):
            cuts.add(end)
        start = end
    return cuts
