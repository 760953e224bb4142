"""The compiled matcher: whole words in every script, fields, NEAR, wildcards, and agreement
with the naive one-query-at-a-time reference on random queries."""

import random

import pytest

from chorus.listening.matcher import CompiledMatcher, ListeningPost
from chorus.listening.query import QueryError, parse
from tests.listening import naive
from tests.listening.synthetic import make_brands, make_stream, vocabulary
from tests.text.corpus import ZWSP, load


def matches(query: str, text: str, **fields) -> bool:
    fields.setdefault("network", "bluesky")
    post = ListeningPost.from_text(text, **fields)
    return CompiledMatcher({"q": parse(query)}).match(post) == ["q"]


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # Thai: a word inside a compound the dictionary knows is no match
        ("กาแฟ", "ร้านกาแฟของเราเปิดสาขาใหม่แล้ว", True),
        ("ฟรี", "รับสมัครฟรีแลนซ์เขียนคอนเทนต์", False),
        ("ฟรี", "มาลองเมนูใหม่ได้ฟรีวันนี้", True),
        # Khmer: words run together, or with a ZERO WIDTH SPACE between them
        ("ទីផ្សារ", f"ការ{ZWSP}ទីផ្សារ{ZWSP}តាម{ZWSP}បណ្ដាញ", True),
        ("ពាក្យសម្ងាត់", "ភ្លេចពាក្យសម្ងាត់", True),
        # Armenian: case-insensitive, and և matches its capital spelling ԵՎ
        ("ԶԵՂՉ", "Մեծ զեղչ բոլոր ապրանքների համար", True),
        ("ԵՎ", "Սուրճ և թեյ", True),
        ("զեղչ", "զեղչեր", False),
        # Swahili and English: whole words only, full-width letters folded
        ("bei", "Bei nafuu kwa wateja wote", True),
        ("bei", "Beiruti", False),
        ("chorus", "Thanks ＣＨＯＲＵＳ team", True),
        ('"free trial"', "Start a FREE\n  trial today", True),
        ("cust*", "Customers love it", True),
        ("cust*", "miscustomers", False),
    ],
)
def test_whole_words_in_every_script(query, text, expected):
    assert matches(query, text) is expected


def test_near_counts_words_between_in_either_or_one_order():
    assert matches("refund NEAR/3 late", "The refund is very late")
    assert matches("refund NEAR/3 late", "late again, the refund")
    assert not matches("refund NEAR/1 late", "The refund is very late")
    assert not matches("refund NEAR/3f late", "late again, the refund")
    assert matches("ส่ง NEAR/2 ช้า", "ส่งของช้ามาก")


def test_fields():
    assert matches("#Promo", "New menu #promo")
    assert not matches("#Promo", "New menu promo")
    assert matches("promo", "New menu #promo")
    assert matches("@chorus", "Thanks @Chorus", network="mastodon")
    assert matches("author:ann.example", "hello", author="@Ann.example")
    assert matches("domain:example.com", "see https://www.shop.example.com/x")
    assert not matches("domain:example.com", "see https://badexample.com/x")
    assert matches("url:example.com/sale", "see https://example.com/sale/1")
    assert matches("hello AND lang:th", "hello", lang="th-TH")
    assert not matches("hello AND lang:th", "hello", lang="en")
    assert matches("hello AND network:mastodon", "hello", network="mastodon")
    assert matches("hello AND has:media", "hello", has_media=True)
    assert not matches("hello AND has:link", "hello")


def test_a_post_without_any_anchor_is_not_segmented(monkeypatch):
    matcher = CompiledMatcher({"q": parse("chorus AND NOT spam")})
    monkeypatch.setattr(matcher, "_verify", lambda *args: pytest.fail("segmented"))
    assert matcher.match(ListeningPost("only spam here")) == []


def _random_query(rng: random.Random, words: list[str], depth: int = 0, near: bool = True) -> str:
    def term() -> str:
        word = rng.choice(words)
        kind = rng.randrange(6)
        if kind == 0 and len(word) > 3:
            return word[: rng.randint(2, len(word) - 1)] + "*"
        if kind == 1:
            return f'"{word} {rng.choice(words)}"'
        if kind == 2:
            return "#" + word
        return word

    if depth >= 2 or rng.random() < 0.3:
        return term()
    shape = rng.randrange(6)
    if shape == 3 and not near:
        shape = 0
    a = _random_query(rng, words, depth + 1, near)
    b = _random_query(rng, words, depth + 1, near)
    if shape == 0:
        return f"({a} OR {b})"
    if shape == 1:
        return f"({a} AND {b})"
    if shape == 2:
        return f"({a} AND NOT {b})"
    if shape == 3:
        return f"{term()} NEAR/{rng.randint(1, 4)}{rng.choice(('', 'f'))} {term()}"
    if shape == 4:
        return f"({a} AND {rng.choice(('lang:th', 'lang:km', 'has:link', 'network:mastodon'))})"
    return f"({a} OR {b} OR {term()})"


@pytest.mark.parametrize("near", [True, False])  # without NEAR: only matched chunks segmented
@pytest.mark.parametrize("seed", range(3))
def test_compiled_matcher_agrees_with_the_naive_one(seed, near):
    rng = random.Random(seed)
    vocab = vocabulary()
    queries = {}
    while len(queries) < 150:
        language = rng.choice(list(vocab))
        words = [w for w in vocab[language] if w.upper() not in ("AND", "OR", "NOT")]
        try:
            queries[len(queries)] = parse(_random_query(rng, words, near=near))
        except QueryError:
            continue
    posts = [
        ListeningPost.from_text(
            post.text, network=rng.choice(("bluesky", "mastodon")), lang=post.language
        )
        for post in load("posts")
    ]
    posts += make_stream(60, ("th", "km", "hy", "sw", "en"), make_brands(20, rng), rng, 0.5)
    matcher = CompiledMatcher(queries)
    checked = 0
    for post in posts:
        expected = [key for key, node in queries.items() if naive.evaluate(node, post)]
        assert matcher.match(post) == expected, post.text
        checked += len(expected)
    assert checked > 20  # the random queries do match something
