"""Text rules shared by the composer, compliance policies and social listening.

One place decides how long a post is on each network (:mod:`.counting`), where words begin
and end in scripts written without spaces such as Thai and Khmer (:mod:`.segmentation`),
which links, mentions and hashtags a network will recognise (:mod:`.entities`), and whether
a text is positive or negative (:mod:`.sentiment`).
Pure Python on top of PyICU and ``regex``; no Django.
"""

from .counting import COUNTINGS, LengthCheck, check_length, count
from .entities import (
    NETWORKS,
    Entity,
    find_entities,
    find_hashtags,
    find_links,
    find_mentions,
)
from .segmentation import Match, Span, TermMatcher, find_terms, words
from .sentiment import sentiment_of

__all__ = [
    "COUNTINGS",
    "NETWORKS",
    "Entity",
    "LengthCheck",
    "Match",
    "Span",
    "TermMatcher",
    "check_length",
    "count",
    "find_entities",
    "find_hashtags",
    "find_links",
    "find_mentions",
    "find_terms",
    "sentiment_of",
    "words",
]
