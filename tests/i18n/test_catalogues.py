"""Every catalogue is complete, correct for its language, and in step with the source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import polib
import pytest

from tests.i18n.catalogues import (
    DOMAINS,
    LANGUAGES,
    LOCALE_DIR,
    ROOT,
    catalogue_path,
    header_problems,
    load,
    placeholders,
    translation_problems,
)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(lang):
    po = load(lang)
    problems = header_problems(po, lang)
    for entry in po:
        problems.extend(translation_problems(entry, lang))
    assert not problems, "\n".join(problems[:40]) + "\n(scripts/i18n todo lists them)"


def test_the_checks_catch_what_they_should():
    """The rules above refuse untranslated, fuzzy and placeholder-breaking entries."""
    good = polib.POEntry(msgid="Invitation sent to %(email)s.", msgstr="ส่งคำเชิญไปยัง %(email)s แล้ว")
    assert translation_problems(good, "th") == []
    empty = polib.POEntry(msgid="Welcome to Chorus.", msgstr="")
    assert "untranslated" in translation_problems(empty, "th")[0]
    fuzzy = polib.POEntry(msgid="Welcome to Chorus.", msgstr="Karibu", flags=["fuzzy"])
    assert "fuzzy" in translation_problems(fuzzy, "sw")[0]
    renamed = polib.POEntry(msgid="Joined %(name)s.", msgstr="Umejiunga na %(jina)s.")
    assert "placeholders" in translation_problems(renamed, "sw")[0]
    lost_tag = polib.POEntry(msgid='See <a href="/x">docs</a>.', msgstr="Tazama nyaraka.")
    assert "placeholders" in translation_problems(lost_tag, "sw")[0]
    plural = polib.POEntry(
        msgid="%(n)s post",
        msgid_plural="%(n)s posts",
        msgstr_plural={0: "%(n)s գրառում", 1: ""},
    )
    assert "untranslated (form 1)" in translation_problems(plural, "hy")[0]
    assert placeholders("{name} at %(time)s, 100%% sure") == ["%(time)s", "{name}"]


def test_compiled_catalogues_pass_msgfmt_format_checks():
    if not shutil.which("msgfmt"):
        pytest.fail("msgfmt not found: apt-get install gettext (scripts/bootstrap does)")
    for lang in LANGUAGES:
        for domain in DOMAINS:
            po = catalogue_path(lang, domain)
            result = subprocess.run(
                ["msgfmt", "--check", "-o", os.devnull, str(po)], capture_output=True, text=True
            )
            assert result.returncode == 0, result.stderr


def test_every_marked_string_in_the_source_is_in_the_catalogues(tmp_path):
    """makemessages over a copy of the source finds no message the catalogues lack."""
    source = tmp_path / "chorus"
    shutil.copytree(
        ROOT / "src" / "chorus",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "locale", "*.mo", "node_modules"),
    )
    (source / "locale").mkdir()
    env = {
        **os.environ,
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "chorus.settings",
    }
    for domain in DOMAINS:
        subprocess.run(
            [sys.executable, "-m", "django", "makemessages", "-l", "th", "-d", domain,
             "-i", "testing/*", "--no-location"],
            cwd=source, env=env, check=True, capture_output=True,
        )  # fmt: skip
        fresh = polib.pofile(str(source / "locale" / "th" / "LC_MESSAGES" / f"{domain}.po"))
        wanted = {(e.msgctxt, e.msgid, e.msgid_plural) for e in fresh if e.msgid}
        assert len(wanted) > 100, f"makemessages found only {len(wanted)} strings"
        for lang in LANGUAGES:
            have = {(e.msgctxt, e.msgid, e.msgid_plural) for e in load(lang, domain)}
            missing = sorted(wanted - have, key=str)
            assert not missing, (
                f"{lang}/{domain}.po lacks {len(missing)} marked strings, e.g. {missing[:5]}: "
                "run scripts/i18n extract, then scripts/i18n todo"
            )
            obsolete = [e.msgid for e in load(lang, domain) if e.obsolete]
            assert not obsolete, f"{lang}/{domain}.po keeps obsolete entries: {obsolete[:5]}"
    assert LOCALE_DIR.is_dir()
