"""Catalogue chores behind scripts/i18n: todo (a fill-in sheet), fill (read it back), normalise.

A sheet is plain text, one block per message, blocks separated by a blank line:

    msgid: %(n)s post
    plural: %(n)s posts
    th: %(n)s โพสต์
    hy: %(n)s գրառում ¦ %(n)s գրառում

`context:` precedes the languages when the message has one; plural forms are separated by " ¦ ";
a newline inside a message is written \\n. `fill` refuses a translation whose placeholders or
HTML tags differ from the English, and says which.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from tests.i18n.catalogues import (
    LANGUAGES,
    PLURAL_FORMS,
    entry_label,
    load,
    translation_problems,
)

SEP = " ¦ "


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _unesc(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append({"n": "\n", "\\": "\\"}.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def normalise() -> None:
    """Headers makemessages leaves as placeholders: language, plural rule, not fuzzy."""
    for lang in LANGUAGES:
        po = load(lang)
        po.metadata_is_fuzzy = False
        po.header = "Chorus's user interface. Product terms: docs/glossary.md."
        po.metadata.update(
            {
                "Project-Id-Version": "Chorus",
                "Language": lang,
                "Language-Team": f"Chorus {lang}",
                "Last-Translator": "Chorus translators",
                "Content-Type": "text/plain; charset=UTF-8",
                "Plural-Forms": PLURAL_FORMS[lang],
            }
        )
        po.save()


def todo(langs: list[str]) -> int:
    """Print every message some language lacks, with what each language already has."""
    langs = langs or LANGUAGES
    pos = {lang: load(lang) for lang in langs}
    keys: dict[tuple, object] = {}
    for lang, po in pos.items():
        for entry in po:
            if translation_problems(entry, lang):
                keys.setdefault((entry.msgctxt, entry.msgid), entry)
    for (ctxt, msgid), entry in keys.items():
        lines = [f"msgid: {_esc(msgid)}"]
        if ctxt:
            lines.insert(0, f"context: {_esc(ctxt)}")
        if entry.msgid_plural:
            lines.append(f"plural: {_esc(entry.msgid_plural)}")
        for lang, po in pos.items():
            have = po.find(msgid, msgctxt=ctxt) if ctxt else po.find(msgid)
            if have is None:
                continue
            if have.msgid_plural:
                forms = int(PLURAL_FORMS[lang].split(";")[0].split("=")[1])
                text = SEP.join(have.msgstr_plural.get(i, "") for i in range(forms))
                text = "" if not text.strip(" ¦") else text
            else:
                text = have.msgstr
            if "fuzzy" in have.flags and text:
                lines.append(f"# {lang} (fuzzy): {_esc(text)}")
                text = ""
            lines.append(f"{lang}: {_esc(text)}")
        print("\n".join(lines) + "\n")
    print(f"# {len(keys)} messages to translate", file=sys.stderr)
    return 0


def parse_sheet(text: str) -> list[dict]:
    blocks, block = [], {}
    for raw in text.splitlines() + [""]:
        line = raw.rstrip("\n")
        if not line.strip():
            if block:
                blocks.append(block)
            block = {}
            continue
        if line.startswith("#"):
            continue
        key, _, value = line.partition(":")
        block[key.strip()] = _unesc(value[1:] if value.startswith(" ") else value)
    return blocks


def fill(paths: list[str]) -> int:
    pos = {lang: load(lang) for lang in LANGUAGES}
    changed, errors = 0, []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            blocks = parse_sheet(handle.read())
        for block in blocks:
            msgid, ctxt = block.get("msgid"), block.get("context")
            if msgid is None:
                errors.append(f"{path}: a block without msgid: {block}")
                continue
            for lang in LANGUAGES:
                text = block.get(lang, "").strip()
                if not text:
                    continue
                po = pos[lang]
                entry = po.find(msgid, msgctxt=ctxt) if ctxt else po.find(msgid)
                if entry is None:
                    errors.append(f"{lang}: no message {msgid!r} in the catalogue")
                    continue
                before = (entry.msgstr, dict(entry.msgstr_plural), list(entry.flags))
                if entry.msgid_plural:
                    forms = [form.strip() for form in text.split("¦")]
                    wanted = int(PLURAL_FORMS[lang].split(";")[0].split("=")[1])
                    if len(forms) != wanted:
                        errors.append(f"{lang}: {entry_label(entry)} needs {wanted} forms")
                        continue
                    entry.msgstr_plural = dict(enumerate(forms))
                else:
                    entry.msgstr = text
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
                    entry.previous_msgid = entry.previous_msgid_plural = None
                problems = translation_problems(entry, lang)
                if problems:
                    entry.msgstr, entry.msgstr_plural, entry.flags = before
                    errors.extend(f"{lang}: {p}" for p in problems)
                    continue
                changed += 1
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M+0000")
    for po in pos.values():
        if changed:
            po.metadata["PO-Revision-Date"] = stamp
        po.save()
    for error in errors:
        print(error, file=sys.stderr)
    print(f"{changed} translations written, {len(errors)} refused", file=sys.stderr)
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/i18n")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("normalise")
    p_todo = sub.add_parser("todo")
    p_todo.add_argument("langs", nargs="*", metavar="lang", help=" ".join(LANGUAGES))
    p_fill = sub.add_parser("fill")
    p_fill.add_argument("sheets", nargs="+")
    args = parser.parse_args()
    if args.cmd == "normalise":
        normalise()
        return 0
    if args.cmd == "todo":
        unknown = [lang for lang in args.langs if lang not in LANGUAGES]
        if unknown:
            parser.error(f"unknown language {unknown[0]!r}: choose among {' '.join(LANGUAGES)}")
        return todo(args.langs)
    return fill(args.sheets)


if __name__ == "__main__":
    sys.exit(main())
