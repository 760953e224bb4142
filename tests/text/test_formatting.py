"""Telegram's formatting marks and its length rule (UTF-16 code units after parsing)."""

import pytest

from chorus.text import check_length, count
from chorus.text.formatting import telegram_entities, telegram_message, utf16_length


@pytest.mark.parametrize(
    ("text", "plain", "entities"),
    [
        ("**bold** rest", "bold rest", [{"type": "bold", "offset": 0, "length": 4}]),
        ("a __it__ b", "a it b", [{"type": "italic", "offset": 2, "length": 2}]),
        (
            "~~no~~ ||secret||",
            "no secret",
            [
                {"type": "strikethrough", "offset": 0, "length": 2},
                {"type": "spoiler", "offset": 3, "length": 6},
            ],
        ),
        ("run `ls -la`", "run ls -la", [{"type": "code", "offset": 4, "length": 6}]),
        (
            "[site](https://ex.org/p)",
            "site",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "https://ex.org/p"}],
        ),
        # offsets count UTF-16 code units: the emoji before the mark counts 2
        ("😀 **ok**", "😀 ok", [{"type": "bold", "offset": 3, "length": 2}]),
        ("ស្ត្រី **ខ្មែរ**", "ស្ត្រី ខ្មែរ", [{"type": "bold", "offset": 7, "length": 5}]),
    ],
)
def test_marks_become_entities(text, plain, entities):
    assert telegram_entities(text) == (plain, entities)


@pytest.mark.parametrize(
    "text",
    [
        "2*3*4",
        "snake__case__name",
        "a ** b ** c",
        "lone || bar",
        "[x](javascript:alert(1))",
        "**across\nlines**",
        "`unclosed",
    ],
)
def test_what_is_not_a_mark_stays_as_written(text):
    assert telegram_entities(text) == (text, [])


def test_length_counts_utf16_units_after_parsing():
    assert utf16_length("😀") == 2 and utf16_length("ไทย") == 3
    assert count("**hé** 😀", "telegram") == 5
    assert count("x" * 4096, "telegram") == 4096
    assert check_length("**" + "x" * 4096 + "**", "telegram", 4096).over is False
    assert check_length("😀" * 2049, "telegram", 4096).over is True


def test_a_content_warning_is_a_line_above_a_spoiler():
    text, entities = telegram_message("**Plot** twist", "Spoilers")
    assert text == "Spoilers\n\nPlot twist"
    assert entities == [
        {"type": "spoiler", "offset": 10, "length": 10},
        {"type": "bold", "offset": 10, "length": 4},
    ]
    assert count("**Plot** twist", "telegram", content_warning="Spoilers") == 20
