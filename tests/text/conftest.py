"""Fixtures for chorus.text: Chorus' own labelled corpus (tests/text/corpus)."""

import pytest

from tests.text import corpus


@pytest.fixture(scope="session")
def post_text():
    """The text of the first corpus post of a language (th, km, hy, sw, en) containing `needle`."""

    def find(language: str, needle: str) -> str:
        return corpus.post_with(language, needle).text

    return find


@pytest.fixture(scope="session")
def all_posts() -> list[str]:
    return [post.text for post in corpus.load("posts")]
