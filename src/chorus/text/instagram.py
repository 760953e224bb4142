"""Instagram's caption rules beyond length: at most 30 hashtags and 20 @-mentions
(developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media,
`caption`). A caption over either is refused by Instagram when the container is created.

A hashtag is `#` and a run of letters (with their combining marks: Thai and Khmer tags),
digits and underscores, not glued to a word before it; a mention is `@` and an Instagram
username (letters, digits, `.` and `_`, up to 30), likewise not inside a word or an e-mail
address.
"""

from __future__ import annotations

import regex

MAX_HASHTAGS = 30
MAX_MENTIONS = 20

_HASHTAG = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_&#])#([\p{L}\p{M}\p{N}_]*[\p{L}\p{M}][\p{L}\p{M}\p{N}_]*)"
)
_MENTION = regex.compile(r"(?<![\p{L}\p{M}\p{N}_.@])@([A-Za-z0-9._]{1,30})(?![A-Za-z0-9_])")


def hashtags(caption: str) -> list[str]:
    """The hashtags Instagram counts in a caption, in order, repeats included."""
    return _HASHTAG.findall(caption)


def mentions(caption: str) -> list[str]:
    """The @-mentions Instagram counts in a caption, in order, repeats included."""
    return [name.rstrip(".") for name in _MENTION.findall(caption) if name.strip(".")]


def caption_problems(caption: str) -> list[str]:
    """What Instagram would refuse in this caption (besides its length), in plain words."""
    problems = []
    if (found := len(hashtags(caption))) > MAX_HASHTAGS:
        problems.append(f"{found} hashtags (Instagram takes at most {MAX_HASHTAGS})")
    if (found := len(mentions(caption))) > MAX_MENTIONS:
        problems.append(f"{found} mentions (Instagram takes at most {MAX_MENTIONS})")
    return problems
