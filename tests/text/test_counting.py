"""Length counting per network: Bluesky graphemes, Mastodon, X weighted (twitter-text v3)."""

import unicodedata

import pytest

from chorus.text import COUNTINGS, LengthCheck, check_length, count
from chorus.text.counting import mastodon_countable_text, utf8_length
from tests.text import corpus

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
THUMBS_MEDIUM = "\U0001f44d\U0001f3fd"  # 👍🏽
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
FLAGS = "\U0001f1f9\U0001f1ed\U0001f1f0\U0001f1ed\U0001f1e6\U0001f1f2\U0001f1f0\U0001f1ea"
MARKS = {"Mn", "Mc", "Me"}


def _not_marks(text: str) -> int:
    return sum(unicodedata.category(c) not in MARKS for c in text)


# --- graphemes (Bluesky) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAMILY, 1),
        (THUMBS_MEDIUM, 1),
        (RAINBOW_FLAG, 1),
        (FLAGS, 4),  # TH KH AM KE: regional indicators pair up
        ("1\ufe0f\u20e3", 1),  # keycap
        ("e\u0301", 1),  # combining acute
        ("\r\n", 1),
        ("ក្មេង", 2),  # ក្មេ | ង: Unicode 17 keeps a coeng and its subscript in one cluster
        ("ស្ត្រី", 1),  # two subscripts and a vowel: one cluster since Unicode 17
        ("ខ្មែរ", 2),
        ("ប្រព័ន្ធ", 3),  # ប្រ | ព័ | ន្ធ
        ("น้ำ", 1),  # tone mark and SARA AM join the consonant
        ("สวัสดีครับ", 7),
        ("", 0),
    ],
)
def test_graphemes_follow_uax29(text, expected):
    assert count(text, "graphemes") == expected


def test_graphemes_on_khmer_post_count_every_non_mark_but_subscripts(post_text):
    line = post_text("km", "អាជីវកម្ម")
    subscripts = line.count("\u17d2")  # each coeng joins the next consonant to its cluster
    assert count(line, "graphemes") == _not_marks(line) - subscripts
    assert count(line, "graphemes") < len(line)


def test_graphemes_on_thai_post_treat_sara_am_as_spacing_mark(post_text):
    line = post_text("th", "ข้อมูลประชากร")
    expected = sum(unicodedata.category(c) not in MARKS and c != "\u0e33" for c in line)
    assert count(line, "graphemes") == expected


@pytest.mark.parametrize("language", ["hy", "sw"])
def test_graphemes_equal_code_points_without_combining_marks(language):
    line = next(p.text for p in corpus.posts(language) if len(p.text) > 40)
    assert all(unicodedata.category(c) not in MARKS for c in line)
    assert count(line, "graphemes") == len(line)


def test_bluesky_limit_is_300_graphemes_not_code_points():
    assert check_length(FAMILY * 300, "graphemes", 300) == LengthCheck(300, 300, 0, False)
    assert check_length(FAMILY * 301, "graphemes", 300).over


# --- Mastodon ----------------------------------------------------------------------------------


def test_mastodon_bills_any_protocol_url_at_23():
    long_url = "https://example.com/" + "a" * 100
    assert count("Read " + long_url, "mastodon") == 5 + 23
    assert count("Read https://x.co", "mastodon") == 5 + 23  # short links cost 23 too


def test_mastodon_counts_bare_domains_in_full():
    assert count("example.com", "mastodon") == 11


def test_mastodon_url_excludes_trailing_period():
    assert count("see https://example.com.", "mastodon") == 4 + 23 + 1


def test_mastodon_url_with_thai_path_is_one_url():
    text = "อ่าน https://th.wikipedia.org/wiki/ประเทศไทย ครับ"
    # อ่ า น + space = 4, space + ค รั บ = 4
    assert count(text, "mastodon") == 4 + 23 + 4


def test_mastodon_remote_mention_counts_as_local_part_only():
    assert mastodon_countable_text("hi @alice@mastodon.social!") == "hi @alice!"
    assert count("@alice@mastodon.social hi", "mastodon") == len("@alice hi")
    assert count("@bob hi", "mastodon") == len("@bob hi")


def test_mastodon_email_is_not_a_mention():
    assert count("mail alice@example.com", "mastodon") == len("mail alice@example.com")


def test_mastodon_on_swahili_post_with_url(post_text):
    line = post_text("sw", "Habari wateja")
    text = f"{line} https://blog.example.org/makala/elimu-ya-masoko?ref=chorus"
    assert count(text, "mastodon") == len(line) + 1 + 23


def test_mastodon_counts_emoji_sequences_as_one():
    assert count(f"{FAMILY}{THUMBS_MEDIUM}", "mastodon") == 2


# --- X weighted (twitter-text v3) ---------------------------------------------------------------


def _x_weight(text: str) -> int:
    ranges = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
    return sum(1 if any(lo <= ord(c) <= hi for lo, hi in ranges) else 2 for c in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),  # Latin weighs 1
        ("日本語", 6),  # CJK weighs 2
        ("한국어", 6),
        ("Հայերեն", 7),  # Armenian sits below U+10FF
        (FAMILY, 2),  # any emoji sequence weighs 2
        (THUMBS_MEDIUM, 2),
        (RAINBOW_FLAG, 2),
        ("\U0001f1f9\U0001f1ed", 2),
        ("\u00a9", 1),  # bare © is text, weight 1
        ("\u00a9\ufe0f", 2),  # ©️ is an emoji
        ("\u2014", 1),  # em dash, U+2010-201F
        ("\u2026", 2),  # ellipsis, outside every range
        ("e\u0301", 1),  # NFC first: é
    ],
)
def test_x_weights(text, expected):
    assert count(text, "x-weighted") == expected


def test_x_urls_weigh_23_with_or_without_protocol():
    assert count("https://example.com/" + "a" * 80, "x-weighted") == 23
    assert count("go to example.com now", "x-weighted") == 6 + 23 + 4
    assert count("bit.ly/abc", "x-weighted") == 23


def test_x_short_country_domain_without_path_is_not_a_url():
    assert count("this.is", "x-weighted") == 7
    assert count("this.is/x", "x-weighted") == 23


def test_x_mixed_text():
    text = f"Hi 日本 {THUMBS_MEDIUM} https://example.com"
    assert count(text, "x-weighted") == 3 + 4 + 1 + 2 + 1 + 23


def test_x_khmer_post_weighs_two_per_khmer_code_point(post_text):
    line = post_text("km", "អាជីវកម្ម")
    assert count(line, "x-weighted") == _x_weight(line) == 2 * len(line)


def test_x_thai_post_weighs_one_per_code_point(post_text):
    line = post_text("th", "ข้อมูลประชากร").split(" ")[0]
    assert count(line, "x-weighted") == _x_weight(line) == len(line)


def test_x_limit_280():
    assert not check_length("日" * 140, "x-weighted", 280).over
    assert check_length("日" * 141, "x-weighted", 280) == LengthCheck(282, 280, -2, True)


# --- API --------------------------------------------------------------------------------------


def test_countings_are_the_five_rules():
    assert COUNTINGS == ("graphemes", "mastodon", "x-weighted", "telegram", "utf16")


def test_utf16_counts_code_units():
    assert count("สวัสดี", "utf16") == 6  # combining marks count on their own
    assert count("👍🏽", "utf16") == 4  # two astral code points, two units each
    assert count("ក្មេង", "utf16") == 5


def test_unknown_counting_is_rejected():
    with pytest.raises(ValueError, match="unknown counting"):
        count("text", "tweets")


def test_counts_differ_per_network_on_the_same_post():
    text = f"ក្មេង {FAMILY} https://example.com/long/path"
    assert count(text, "graphemes") == 2 + 1 + 1 + 1 + len("https://example.com/long/path")
    assert count(text, "mastodon") == 2 + 1 + 1 + 1 + 23
    assert count(text, "x-weighted") == 10 + 1 + 2 + 1 + 23


def test_bluesky_khmer_limit_counts_as_unicode_17():
    assert check_length("ខ្មែរ" * 150, "graphemes", 300) == LengthCheck(300, 300, 0, False)
    assert check_length("ខ្មែរ" * 150 + "ក", "graphemes", 300).over


def test_utf8_length_is_bytes():
    assert utf8_length("ស្ត្រី") == 18 and utf8_length(FAMILY) == 25 and utf8_length("ok") == 2


def test_mastodon_counts_the_content_warning_with_the_text():
    assert count("hello", "mastodon", content_warning="spoiler") == 12
    assert count("e\u0301", "mastodon", content_warning="caf") == 4  # joined, then clustered
    assert check_length("a" * 490, "mastodon", 500, content_warning="b" * 11).over
    assert count("hello", "graphemes", content_warning="ignored") == 5
