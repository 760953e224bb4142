"""Light formatting marks in a post, as networks with rich text (Telegram) receive them.

Authors write one small, unambiguous set of marks: ``**bold**``, ``__italic__``,
``~~strikethrough~~``, ``||spoiler||``, ```code``` and ``[label](https://link)``. A mark
applies only when it opens and closes on the same line around non-space text, so ``2*3*4``,
``snake__case`` inside a word, or a lone ``||`` stay as written. Marks do not nest.

:func:`telegram_entities` turns marked text into Telegram's plain text plus its
``MessageEntity`` list, with offsets and lengths in UTF-16 code units as the Bot API counts
them (core.telegram.org/bots/api#messageentity). Telegram counts a message's length after
entity parsing, so :func:`telegram_length` counts the plain text the same way.
"""

from __future__ import annotations

import regex

# Telegram entity type for each paired mark.
_PAIRS = {"**": "bold", "__": "italic", "~~": "strikethrough", "||": "spoiler", "`": "code"}

_MARK = regex.compile(
    r"""
    (?P<link>\[(?P<label>[^\]\n]+)\]\((?P<url>https?://[^\s()]+)\))
    | (?P<mark>\*\*|__|~~|\|\|)(?P<inner>\S(?:[^\n]*?\S)?)(?P=mark)
    | `(?P<code>[^`\n]+)`
    """,
    regex.VERBOSE,
)
_WORD = regex.compile(r"\w")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: characters outside the BMP (most emoji) count 2."""
    return len(text.encode("utf-16-le")) // 2


def _inside_word(text: str, start: int, end: int) -> bool:
    """`snake__case__name`: an underscore mark glued to word characters is not a mark."""
    before = start > 0 and _WORD.match(text[start - 1])
    after = end < len(text) and _WORD.match(text[end])
    return bool(before or after)


def telegram_runs(text: str) -> list[tuple[str, str, str]]:
    """The text as runs of (entity type or "", text shown, link URL or ""): what the
    composer's preview draws and what :func:`telegram_entities` sends."""
    runs: list[tuple[str, str, str]] = []
    position = 0
    for match in _MARK.finditer(text):
        mark = match.group("mark")
        if mark == "__" and _inside_word(text, match.start(), match.end()):
            continue
        if match.start() > position:
            runs.append(("", text[position : match.start()], ""))
        if match.group("link"):
            runs.append(("text_link", match.group("label"), match.group("url")))
        elif mark:
            runs.append((_PAIRS[mark], match.group("inner"), ""))
        else:
            runs.append(("code", match.group("code"), ""))
        position = match.end()
    if position < len(text):
        runs.append(("", text[position:], ""))
    return runs


def telegram_entities(text: str) -> tuple[str, list[dict]]:
    """The text without its marks and the Bot API entities they stand for."""
    plain: list[str] = []
    entities: list[dict] = []
    offset = 0  # UTF-16 units written so far
    for kind, shown, url in telegram_runs(text):
        length = utf16_length(shown)
        if kind:
            entity = {"type": kind, "offset": offset, "length": length}
            entities.append({**entity, "url": url} if url else entity)
        plain.append(shown)
        offset += length
    return "".join(plain), entities


def telegram_length(text: str, content_warning: str = "") -> int:
    """A message's length as Telegram checks it (see :func:`telegram_message`)."""
    plain, _ = telegram_message(text, content_warning)
    return utf16_length(plain)


def telegram_message(text: str, content_warning: str = "") -> tuple[str, list[dict]]:
    """What Chorus sends: with a content warning, the warning on its own line and the text
    after it hidden as a spoiler (Telegram's own way to hide a passage until tapped)."""
    plain, entities = telegram_entities(text)
    if not content_warning.strip() or not plain.strip():
        return plain, entities
    head = f"{content_warning.strip()}\n\n"
    shift = utf16_length(head)
    moved = [{**e, "offset": e["offset"] + shift} for e in entities]
    spoiler = {"type": "spoiler", "offset": shift, "length": utf16_length(plain)}
    return head + plain, [spoiler, *moved]
