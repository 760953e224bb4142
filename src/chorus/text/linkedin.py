"""LinkedIn's "little" text format for a post's `commentary` and a comment's text
(learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format).

In little, `\\ | { } @ [ ] ( ) < > # * _ ~` are reserved: `@[Name](urn:li:person:1)` is a
mention, `{hashtag|\\#|word}` a hashtag template. A reserved character meant as plain text
must be escaped with a backslash; LinkedIn cuts an unescaped post at the first one it cannot
parse, and still answers 201. `little_text` writes what a person typed as little: every
reserved character escaped, except inside links (LinkedIn links them as written) and the `#`
that starts a hashtag (`#word` is little's own hashtag element, so it stays a hashtag).
`plain_text` reads little back as text (escapes undone, hashtag templates as `#word`), so a
post read from LinkedIn compares with what was sent.
"""

from __future__ import annotations

import regex

from ._urls import mastodon_urls

RESERVED = frozenset("\\|{}@[]()<>#*_~")

_HASHTAG_START = regex.compile(r"(?<![\p{L}\p{M}\p{N}_&#])#(?=[\p{L}\p{M}\p{N}])")
_HASHTAG_TEMPLATE = regex.compile(r"\{hashtag\|\\?#\|([^{}|]*)\}")
_MENTION = regex.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:[^)]*)\)")
_ESCAPED = regex.compile(r"\\(.)", regex.DOTALL)


def little_text(text: str) -> str:
    """`text` with LinkedIn's reserved characters escaped, links and hashtags kept."""
    keep = {index for start, end in mastodon_urls(text) for index in range(start, end)}
    keep |= {match.start() for match in _HASHTAG_START.finditer(text)}
    return "".join(
        f"\\{char}" if char in RESERVED and index not in keep else char
        for index, char in enumerate(text)
    )


def plain_text(little: str) -> str:
    """What little shows as text: hashtag templates as `#word`, a mention as its name,
    escapes undone."""
    text = _HASHTAG_TEMPLATE.sub(lambda match: "#" + match.group(1), little)
    text = _MENTION.sub(lambda match: match.group(1), text)
    return _ESCAPED.sub(lambda match: match.group(1), text)
