"""What a message says about itself, offline: its language, its sentiment, its search text.

Language comes from chorus.text (py3langid), and so does sentiment
(:func:`chorus.text.sentiment_of`: VADER for English, a lexicon-and-negation classifier for
Thai, Khmer, Armenian and Swahili, "unknown" otherwise).
Search text is folded by chorus.text (NFKC casefold, invisible characters such as Khmer's
ZERO WIDTH SPACE removed), so a search finds Thai and Khmer inside unspaced sentences.
"""

from __future__ import annotations

import regex

from chorus.text.language import detect_language
from chorus.text.segmentation import fold

_UNSPACED = r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_UNSPACED_GAP = regex.compile(rf"(?<=[{_UNSPACED}]\p{{M}}*)\s+(?=[{_UNSPACED}])")
_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Text any database stores: lone surrogates replaced, NUL and control characters gone."""
    if not text:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)


def language_of(text: str) -> str:
    return detect_language(text) if text else ""


def search_form(text: str) -> str:
    """`text` as search compares it: folded, whitespace made single, and no space kept
    between two letters of a script written without spaces (Thai, Khmer, Lao, Burmese)."""
    folded = " ".join(fold(text).split())
    return _UNSPACED_GAP.sub("", folded)
