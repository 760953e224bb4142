"""Sentiment in every language Chorus speaks: VADER for English, the lexicon-and-negation
classifier for Thai, Khmer, Armenian and Swahili, measured on held-out labelled posts
(tests/text/corpus/sentiment.txt) that were written after the lexicons."""

from pathlib import Path

import pytest

from chorus.text import sentiment_of

CORPUS = Path(__file__).parent / "corpus" / "sentiment.txt"
LEXICAL = ("th", "km", "hy", "sw")


def labelled(language: str) -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lang, label, text = line.split("\t")
            if lang == language:
                rows.append((label, text))
    return rows


@pytest.mark.parametrize("language", LEXICAL)
@pytest.mark.parametrize("polarity", ["positive", "negative"])
def test_precision_and_recall_of_polar_calls(language, polarity):
    results = [(label, sentiment_of(text, language)) for label, text in labelled(language)]
    called = [label for label, got in results if got == polarity]
    truth = [got for label, got in results if label == polarity]
    assert len(truth) >= 10
    precision = sum(label == polarity for label in called) / len(called)
    recall = sum(got == polarity for got in truth) / len(truth)
    assert precision >= 0.8, (language, polarity, precision)
    assert recall >= 0.5, (language, polarity, recall)


@pytest.mark.parametrize("language", LEXICAL)
def test_abstains_on_neutral_text(language):
    neutral = [text for label, text in labelled(language) if label == "neutral"]
    assert len(neutral) >= 8
    assert [sentiment_of(text, language) for text in neutral] == ["unknown"] * len(neutral)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # a negator before the word reverses it, also glued to it in an unspaced script
        ("th", "กาแฟไม่อร่อย", "negative"),
        ("th", "ไม่มีปัญหาครับ", "positive"),
        ("km", "សេវាកម្មមិនល្អទេ", "negative"),
        ("hy", "Չեմ հավանում", "negative"),
        ("hy", "Սուրճը լավ չէ", "negative"),  # Armenian negates the copula after the word
        ("hy", "Ես չհավանեցի", "negative"),  # and writes the negative prefix on the verb
        ("sw", "Chakula si kizuri", "negative"),
        ("sw", "Hakuna tatizo", "positive"),
        # only within the clause: a comma, or a space between Thai words, ends it
        ("hy", "Պատվերը չի հասել, բայց սուրճը լավն է, լավ", "positive"),
        ("th", "ไม่รู้ว่าทำไม อร่อยมาก", "positive"),
        # whole words only: ดี "good" is not inside ดีเซล "diesel"
        ("th", "ราคาน้ำมันดีเซลวันนี้", "unknown"),
        # a face is not negated
        ("sw", "Bado sijapokea 😡", "negative"),
        # evidence both ways cancels out
        ("sw", "Chakula kizuri lakini huduma mbaya", "neutral"),
    ],
)
def test_lexicon_and_negation(language, text, expected):
    assert sentiment_of(text, language) == expected


def test_english_is_vader_and_other_languages_are_unknown():
    assert sentiment_of("I love this coffee!", "en") == "positive"
    assert sentiment_of("Worst service ever, totally broken", "en-GB") == "negative"
    assert sentiment_of("The shop opens at nine", "en") == "neutral"
    assert sentiment_of("Café excellent", "fr") == "unknown"
    assert sentiment_of("😡😡", "th") == "unknown"  # no letter: nothing said
    assert sentiment_of("", "sw") == "unknown"
