"""Whether a post or message is positive, neutral or negative, offline, in Chorus' languages.

:func:`sentiment_of` is the one entry point. English goes to VADER (vaderSentiment: a lexicon
and rules tuned on social-media English; its documented compound thresholds ±0.05). Thai,
Khmer, Armenian and Swahili, for which no maintained offline model or lexicon exists, go to a
small lexicon-and-negation classifier (:mod:`._lexicons`): its words and its negators are found
as whole words by :class:`~chorus.text.TermMatcher` (the word boundaries and folding compliance
and listening use, so `ดี` "good" is not found inside `ดีเซล` "diesel"), the longest entry
wins where entries overlap, a negator up to three words before a word (for Armenian also a
negated copula just after it) reverses it, and the votes are summed. With no sentiment word at
all the answer is "unknown": the classifier abstains rather than calling neutral text neutral
on no evidence. Any other language is "unknown" too: never a guess from another language's
lexicon. Measured precision and recall per language: docs/text.md.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from functools import cache

import regex

from ._lexicons import EMOJI, GLUED_NEGATORS, LEXICONS, NEGATORS_AFTER
from .segmentation import TermMatcher, fold_term, words

POSITIVE, NEUTRAL, NEGATIVE, UNKNOWN = "positive", "neutral", "negative", "unknown"
# VADER's documented thresholds on the compound score
VADER_POSITIVE_AT = 0.05
VADER_NEGATIVE_AT = -0.05
# A negator reverses a sentiment word at most this many words after it, in the same clause:
# no punctuation between them, nor a space in Thai and Khmer, which end clauses with one.
NEGATION_SCOPE = 3
_CLAUSE_END = regex.compile(r"[\p{P}\p{So}]")
_EMOJI_ENTRY = regex.compile(r"\p{Extended_Pictographic}")
_CLAUSE_END_UNSPACED = regex.compile(r"[\p{P}\p{So}\s]")
_lock = threading.Lock()


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _lexicon(language: str) -> tuple[TermMatcher, dict[str, str]]:
    """The language's matcher over every entry, and each folded entry's role."""
    entries = LEXICONS[language]
    roles: dict[str, str] = {}
    for role, terms in (
        ("negator", entries["negators"]),
        (POSITIVE, (*entries["positive"], *EMOJI["positive"])),
        (NEGATIVE, (*entries["negative"], *EMOJI["negative"])),
    ):
        for term in terms:
            roles.setdefault(fold_term(term), role)
    opposite = {POSITIVE: NEGATIVE, NEGATIVE: POSITIVE}
    for negator in GLUED_NEGATORS.get(language, ()):
        for polarity, terms in ((POSITIVE, entries["positive"]), (NEGATIVE, entries["negative"])):
            for term in terms:
                roles.setdefault(fold_term(negator + term), opposite[polarity])
    return TermMatcher(roles), roles


def _english(text: str) -> str:
    with _lock:  # VADER keeps no state, but is not documented as thread-safe
        score = _vader().polarity_scores(text)["compound"]
    if score >= VADER_POSITIVE_AT:
        return POSITIVE
    if score <= VADER_NEGATIVE_AT:
        return NEGATIVE
    return NEUTRAL


def _lexical(text: str, language: str) -> str:
    matcher, roles = _lexicon(language)
    found = sorted(matcher.find(text), key=lambda m: (m.start, -(m.end - m.start)))
    kept, covered = [], 0
    for match in found:  # the longest entry wins where entries overlap
        if match.start >= covered:
            kept.append((match.start, match.end, roles[fold_term(match.term)], match.text))
            covered = match.end
    if not any(role != "negator" for _s, _e, role, _t in kept):
        return UNKNOWN
    word_starts = [span.start for span in words(text, language) if span.is_word]

    def word_index(offset: int) -> int:
        return bisect_right(word_starts, offset) - 1

    after = NEGATORS_AFTER.get(language, frozenset())
    clause_end = _CLAUSE_END_UNSPACED if language in ("th", "km") else _CLAUSE_END

    def same_clause(first_end: int, second_start: int) -> bool:
        return not clause_end.search(text, first_end, second_start)

    score = 0
    for position, (start, end, role, entry) in enumerate(kept):
        if role == "negator":
            continue
        here = word_index(start)
        negated = any(
            other_role == "negator"
            and 0 < here - word_index(other_start) <= NEGATION_SCOPE
            and same_clause(other_end, start)
            for other_start, other_end, other_role, _t in kept[:position]
        )
        following = kept[position + 1] if position + 1 < len(kept) else None
        if following and following[2] == "negator" and fold_term(following[3]) in after:
            negated = negated or (
                word_index(following[0]) - here == 1 and same_clause(end, following[0])
            )
        vote = 1 if role == POSITIVE else -1
        if negated and not _EMOJI_ENTRY.match(entry):  # a face says what it says
            vote = -vote
        score += vote
    if score > 0:
        return POSITIVE
    if score < 0:
        return NEGATIVE
    return NEUTRAL


def sentiment_of(text: str, language: str) -> str:
    """ "positive", "neutral", "negative" or "unknown" for ``text`` written in ``language``
    (an ISO 639-1 code; a region such as "th-TH" is ignored)."""
    language = language.lower().split("-")[0]
    if not text or not any(char.isalpha() for char in text):
        return UNKNOWN
    if language == "en":
        return _english(text)
    if language in LEXICONS:
        return _lexical(text, language)
    return UNKNOWN
