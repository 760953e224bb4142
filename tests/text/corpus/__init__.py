"""Chorus' own labelled multilingual corpus (see README.md beside this file).

`load("posts")` or `load("heldout")` returns every post with its labelled words as
`(start, end)` offsets into the text as published.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import regex

HERE = Path(__file__).parent
LANGUAGES = ("th", "km", "hy", "sw", "en")
ZWSP = "\u200b"

# A word: letters, marks and digits; an apostrophe between letters, `.` or `,` between digits
# and Armenian's in-word emphasis and question marks stay inside it.
_WORD = regex.compile(
    r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:(?:(?<=\p{L})['’](?=\p{L})|(?<=\p{N})[.,](?=\p{N})"
    r"|[\u055b\u055c\u055e](?=\p{L}))[\p{L}\p{M}\p{N}]+)*"
)


@dataclass(frozen=True)
class Post:
    language: str
    text: str
    words: tuple[tuple[int, int], ...]
    line: int
    optional: tuple[tuple[int, int], ...] = ()  # parts of a compound marked with `¦`

    def word_texts(self) -> list[str]:
        return [self.text[start:end] for start, end in self.words]


def parse(language: str, labelled: str, line: int = 0) -> Post:
    """One labelled post: `|` marks an unspaced boundary, `¦` the parts of a compound that a
    search may find or not, `<zwsp>` a ZERO WIDTH SPACE."""
    labelled = labelled.replace("<zwsp>", ZWSP)
    text = labelled.replace("|", "").replace("¦", "")
    hard: set[int] = set()
    soft: set[int] = set()
    position = 0
    for char in labelled:
        if char == "|":
            hard.add(position)
        elif char == "¦":
            soft.add(position)
        else:
            position += 1
    words: list[tuple[int, int]] = []
    optional: list[tuple[int, int]] = []
    for match in _WORD.finditer(text):
        edges = [match.start(), *sorted(c for c in hard if match.start() < c < match.end())]
        edges.append(match.end())
        for start, end in zip(edges, edges[1:], strict=False):
            words.append((start, end))
            parts = [start, *sorted(c for c in soft if start < c < end), end]
            if len(parts) > 2:
                optional += [
                    (a, b)
                    for i, a in enumerate(parts)
                    for b in parts[i + 1 :]
                    if (a, b) != (start, end)
                ]
    return Post(language, text, tuple(words), line, tuple(optional))


@cache
def load(name: str = "posts") -> tuple[Post, ...]:
    posts = []
    path = HERE / f"{name}.txt"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        language, _, labelled = raw.partition("\t")
        if language not in LANGUAGES or not labelled:
            raise ValueError(f"{path.name}:{number}: expected LANG<TAB>POST")
        posts.append(parse(language, labelled, number))
    return tuple(posts)


def posts(language: str, name: str = "posts") -> list[Post]:
    return [post for post in load(name) if post.language == language]


def post_with(language: str, needle: str, name: str = "posts") -> Post:
    """The first post of `language` whose text contains `needle`."""
    for post in posts(language, name):
        if needle in post.text:
            return post
    raise LookupError(f"no {language} post in {name}.txt contains {needle!r}")
