"""Language detection on Chorus' labelled posts (whole and cut short), offline."""

import pytest

from chorus.text.language import detect_language, known_languages
from tests.text.corpus import LANGUAGES, load

POSTS = [post for name in ("posts", "heldout") for post in load(name)]


def short(post) -> str:
    words = post.text.split()
    return " ".join(words[:3]) if post.language in ("hy", "sw", "en") else post.text[:12]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_labelled_post_is_recognised(language):
    posts = [p for p in POSTS if p.language == language]
    assert posts and [detect_language(p.text) for p in posts] == [language] * len(posts)


def test_three_words_are_named_right_or_left_unnamed():
    results = [(p.language, detect_language(short(p))) for p in POSTS]
    wrong = [(want, got) for want, got in results if got and got != want]
    right = sum(want == got for want, got in results)
    print(f"short posts: {right} right, {len(results) - right - len(wrong)} unnamed, {wrong}")
    assert wrong == [] and right >= 0.95 * len(results)


def test_links_mentions_and_hashtag_signs_do_not_decide():
    assert detect_language("https://blog.example.com/en/smm @chorus.bsky.social") == ""
    text = "ហាងកាហ្វេរបស់យើង https://shop.example.com/english-coffee-news @english_news"
    assert detect_language(text) == "km"
    assert detect_language("#ร้านกาแฟ #กาแฟสด") == "th"


def test_too_little_text_names_no_language():
    assert detect_language("") == "" and detect_language("👍 🎉") == ""
    assert detect_language("ok") == "" and detect_language("Yes") == ""


def test_the_five_languages_are_known():
    assert set(LANGUAGES) <= set(known_languages())
