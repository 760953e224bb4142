"""Whole-word matching measured on the held-out labelled posts: precision and recall >= 0.95
for every language.

Every labelled word of a language is a search term. A match counts as right when it covers
exactly a labelled word with that spelling (after folding); every labelled occurrence of a
term that is not found is a miss; a match on a part of a compound labelled with `¦` counts
neither way. So `ฟรี` found inside `ฟรีแลนซ์` costs precision, and a
word the segmenter glues to its neighbour costs recall.
"""

import pytest

from chorus.text import TermMatcher
from chorus.text.segmentation import fold_term
from tests.text.corpus import LANGUAGES, posts

THRESHOLD = 0.95


def measure(language: str, name: str = "heldout") -> tuple[float, float, list[str]]:
    labelled = posts(language, name)
    terms = {}
    for post in labelled:
        for word in post.word_texts():
            terms.setdefault(fold_term(word), word)
    matcher = TermMatcher(terms.values(), locale=language)
    right = found = expected = 0
    errors = []
    for post in labelled:
        gold = {(start, end, fold_term(post.text[start:end])) for start, end in post.words}
        got = {(m.start, m.end, fold_term(m.term)) for m in matcher.find(post.text)}
        got = {(s, e, t) for s, e, t in got if (s, e) not in post.optional}
        right += len(gold & got)
        found += len(got)
        expected += len(gold)
        errors += [f"extra {post.text[s:e]!r} in line {post.line}" for s, e, _ in got - gold]
        errors += [f"missed {post.text[s:e]!r} in line {post.line}" for s, e, _ in gold - got]
    return right / found, right / expected, errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_precision_and_recall_per_language(language):
    precision, recall, errors = measure(language)
    print(f"{language}: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= THRESHOLD and recall >= THRESHOLD, (precision, recall, errors)
