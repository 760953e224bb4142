"""Compiled catalogues for the tests that render pages in other languages.

CI compiles them in scripts/bootstrap; a test run without it (a fresh worktree) compiles here,
only when a .po is newer than its .mo, then drops Django's cached translations.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.i18n.catalogues import DOMAINS, LANGUAGES, catalogue_path


def _compile_stale() -> bool:
    changed = False
    for lang in LANGUAGES:
        for domain in DOMAINS:
            po = catalogue_path(lang, domain)
            mo = po.with_suffix(".mo")
            if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
                subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
                changed = True
    return changed


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    if _compile_stale():
        from asgiref.local import Local
        from django.utils.translation import trans_real

        trans_real._translations = {}
        trans_real._default = None
        trans_real._active = Local()
        getattr(trans_real.check_for_language, "cache_clear", lambda: None)()
