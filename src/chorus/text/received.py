"""Text received from a network, made safe to store and show.

Servers relay what their users' apps sent: JSON may carry lone UTF-16 surrogates
(`"\\ud83d"` without its pair), NUL characters (PostgreSQL refuses them in text) and other
control characters, or decomposed accents. `scrub` keeps every visible character, turns a
broken one into U+FFFD (the replacement character) rather than dropping it, removes
invisible controls other than newline and tab, and normalises to NFC.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def scrub(text: str) -> str:
    """`text` with lone surrogates replaced, controls removed (\\n and \\t kept), NFC."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)
