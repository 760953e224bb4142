"""Language names for the composer's language choice (codes from chorus.text.language)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_info

from chorus.text.language import known_languages

# The languages Chorus' interface speaks come first in the list.
FIRST = ("en", "th", "km", "hy", "sw")


def language_name(code: str) -> str:
    """A language's own name ("ខ្មែរ"), or its code when Django has no name for it."""
    if not code:
        return ""
    own = dict(settings.LANGUAGES).get(code)  # the interface's names: ไทย, ខ្មែរ...
    if own:
        return str(own)
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code


@lru_cache(maxsize=1)
def language_choices() -> tuple[tuple[str, str], ...]:
    """(code, "own name (code)") for each language the detector can name."""
    codes = [c for c in FIRST if c in known_languages()]
    codes += sorted((c for c in known_languages() if c not in FIRST), key=language_name)
    return tuple((code, f"{language_name(code)} ({code})") for code in codes)


@lru_cache(maxsize=64)
def language_options(selected: str) -> SafeString:
    """The <option>s of `language_choices()` with `selected` chosen, rendered once per
    choice: the composer shows one list per account, and an agency's fifty accounts would
    otherwise render seven thousand options through the template engine."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (code, mark_safe(" selected") if code == selected else "", label)
            for code, label in language_choices()
        ),
    )
