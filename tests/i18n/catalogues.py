"""What a good catalogue is: shared by tests/i18n and scripts/i18n (todo, fill, check)."""

from __future__ import annotations

import re
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "src" / "chorus" / "locale"
LANGUAGES = ["th", "km", "hy", "sw"]
DOMAINS = ["django"]  # djangojs: the scripts take their words from data-* attributes
PLURAL_FORMS = {
    "th": "nplurals=1; plural=0;",
    "km": "nplurals=1; plural=0;",
    "hy": "nplurals=2; plural=(n != 1);",
    "sw": "nplurals=2; plural=(n != 1);",
}

# %(name)s, %(n)d, %s, {name}, {0}; a literal %% is not a placeholder.
_PRINTF = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")
_BRACE = re.compile(r"\{[A-Za-z_0-9]*\}")
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")


def placeholders(text: str) -> list[str]:
    """The placeholders and HTML tags a translation must keep (sorted, with repeats)."""
    found = [m for m in _PRINTF.findall(text) if m != "%%"]
    found += _BRACE.findall(text)
    found += [f"<{m.group(1)}>" for m in _TAG.finditer(text)]
    return sorted(found)


def catalogue_path(lang: str, domain: str = "django") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def load(lang: str, domain: str = "django") -> polib.POFile:
    return polib.pofile(str(catalogue_path(lang, domain)), wrapwidth=79)


def entry_label(entry: polib.POEntry) -> str:
    context = f"[{entry.msgctxt}] " if entry.msgctxt else ""
    return f"{context}{entry.msgid!r}"


def translation_problems(entry: polib.POEntry, lang: str) -> list[str]:
    """Why this entry is not a finished translation (empty when it is)."""
    if entry.obsolete:
        return []
    label = entry_label(entry)
    if "fuzzy" in entry.flags:
        return [f"{label}: marked fuzzy"]
    problems = []
    if entry.msgid_plural:
        forms = int(PLURAL_FORMS[lang].split(";")[0].split("=")[1])
        texts = [entry.msgstr_plural.get(i, "") for i in range(forms)]
        extra = sorted(set(entry.msgstr_plural) - set(range(forms)))
        if extra:
            problems.append(f"{label}: plural forms {extra} beyond the {forms} of {lang}")
        sources = [entry.msgid, entry.msgid_plural]
    else:
        texts = [entry.msgstr]
        sources = [entry.msgid]
    for index, text in enumerate(texts):
        if not text.strip():
            form = f" (form {index})" if len(texts) > 1 else ""
            problems.append(f"{label}: untranslated{form}")
            continue
        # A one-form language uses the plural msgid's placeholders; Django passes the
        # same mapping to every form, so each form must carry the plural's placeholders.
        wanted = placeholders(sources[-1] if entry.msgid_plural else sources[0])
        if entry.msgid_plural and len(texts) > 1 and index == 0:
            wanted = placeholders(sources[0])
        if placeholders(text) != wanted:
            problems.append(
                f"{label}: placeholders or tags {placeholders(text)} differ from {wanted}"
            )
    return problems


def header_problems(po: polib.POFile, lang: str) -> list[str]:
    problems = []
    if po.metadata.get("Plural-Forms", "").strip() != PLURAL_FORMS[lang]:
        problems.append(
            f"{lang}: Plural-Forms is {po.metadata.get('Plural-Forms')!r}, "
            f"should be {PLURAL_FORMS[lang]!r}"
        )
    if po.metadata.get("Language") != lang:
        problems.append(f"{lang}: Language header is {po.metadata.get('Language')!r}")
    if "charset=UTF-8" not in po.metadata.get("Content-Type", ""):
        problems.append(f"{lang}: Content-Type must declare charset=UTF-8")
    return problems
