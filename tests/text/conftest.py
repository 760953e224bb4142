"""Fixtures for chorus.text: the real multilingual seed corpus in ../shared."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT.parent / "shared" / "mission" / "seeds"
SEED_FILES = {
    "khmer": ("000_bcce0f13532bbee7.txt", "003_7c2238b3cb1d734c.txt"),
    "swahili": ("001_c1d265490df8c1cb.txt",),
    "thai": ("002_f804fe1111210d43.txt",),
    "armenian": ("004_a31cffc1bae144f8.txt",),
}


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    """Seed texts by language (Khmer files concatenated); fails loudly if shared/ is absent."""
    texts = {}
    for language, names in SEED_FILES.items():
        parts = []
        for name in names:
            path = SEEDS_DIR / name
            if not path.is_file():
                pytest.fail(f"seed corpus file missing: {path} (expected shared/ beside the repo)")
            parts.append(path.read_text(encoding="utf-8"))
        texts[language] = "\n".join(parts)
    return texts


@pytest.fixture(scope="session")
def seed_line(seeds):
    """Return the first line of a language's seeds that contains ``needle``."""

    def find(language: str, needle: str) -> str:
        for line in seeds[language].splitlines():
            if needle in line:
                return line
        pytest.fail(f"no {language} seed line contains {needle!r}")

    return find
