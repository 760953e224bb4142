"""What a message says about itself, offline: its language, its sentiment, its search text.

Language comes from chorus.text (py3langid). Sentiment is VADER (vaderSentiment, a lexicon
and rules tuned on social media English) for English only; every other language, and
English too short to judge, is "unknown": never a guess from a lexicon of another language.
Search text is folded by chorus.text (NFKC casefold, invisible characters such as Khmer's
ZERO WIDTH SPACE removed), so a search finds Thai and Khmer inside unspaced sentences.
"""

from __future__ import annotations

import threading
from functools import cache

import regex

from chorus.text.language import detect_language
from chorus.text.segmentation import fold

# VADER's documented thresholds on the compound score
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
_lock = threading.Lock()
_UNSPACED = r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_UNSPACED_GAP = regex.compile(rf"(?<=[{_UNSPACED}]\p{{M}}*)\s+(?=[{_UNSPACED}])")
_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def clean(text: str) -> str:
    """Text any database stores: lone surrogates replaced, NUL and control characters gone."""
    if not text:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)


def sentiment_of(text: str, language: str) -> str:
    """positive / neutral / negative for English text; "unknown" for anything else."""
    if language != "en" or not any(char.isalpha() for char in text):
        return "unknown"
    with _lock:
        score = _vader().polarity_scores(text)["compound"]
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def language_of(text: str) -> str:
    return detect_language(text) if text else ""


def search_form(text: str) -> str:
    """`text` as search compares it: folded, whitespace made single, and no space kept
    between two letters of a script written without spaces (Thai, Khmer, Lao, Burmese)."""
    folded = " ".join(fold(text).split())
    return _UNSPACED_GAP.sub("", folded)
