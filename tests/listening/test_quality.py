"""Whole-word matching quality of the compiled matcher on the held-out labelled corpus:
precision and recall >= 0.95 per language, Thai and Khmer included.

Every labelled word of a language is a query. A post should match a query when one of its
labelled words has that spelling (after folding), and not otherwise; posts where the word is
only a part of a compound labelled with `¦` count neither way.
"""

import pytest

from chorus.listening.matcher import CompiledMatcher, ListeningPost
from chorus.listening.query import Term
from chorus.text.segmentation import fold_term
from tests.text.corpus import LANGUAGES, posts

THRESHOLD = 0.95


def measure(language: str) -> tuple[float, float, list[str]]:
    labelled = posts(language, "heldout")
    terms = sorted({fold_term(word) for post in labelled for word in post.word_texts()})
    matcher = CompiledMatcher({term: Term(term) for term in terms})
    right = found = expected = 0
    errors = []
    for post in labelled:
        gold = {fold_term(word) for word in post.word_texts()}
        optional = {fold_term(post.text[s:e]) for s, e in post.optional} - gold
        got = set(matcher.match(ListeningPost(post.text, lang=language))) - optional
        right += len(gold & got)
        found += len(got)
        expected += len(gold)
        errors += [f"extra {t!r} in line {post.line}" for t in got - gold]
        errors += [f"missed {t!r} in line {post.line}" for t in gold - got]
    return right / found, right / expected, errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_precision_and_recall_per_language(language):
    precision, recall, errors = measure(language)
    print(f"{language}: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= THRESHOLD and recall >= THRESHOLD, (precision, recall, errors)
