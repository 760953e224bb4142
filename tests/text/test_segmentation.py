"""ICU word segmentation and whole-word term matching."""

import pytest

from chorus.text import Match, TermMatcher, find_terms, words
from tests.text import corpus


def _word_texts(text: str, locale: str = "") -> list[str]:
    return [span.text for span in words(text, locale) if span.is_word]


def test_spans_cover_the_text_in_order():
    text = "Kiswahili ni lugha, ndiyo!"
    spans = words(text)
    assert "".join(span.text for span in spans) == text
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert [s.text for s in spans if s.is_word] == ["Kiswahili", "ni", "lugha", "ndiyo"]


def test_thai_is_split_with_the_dictionary(post_text):
    line = post_text("th", "ข้อมูลประชากร")
    segmented = _word_texts(line, "th")
    assert "ใช้ข้อมูลประชากรของลูกค้า" not in segmented  # no spaces, yet split into words
    assert {"ใช้", "ข้อมูล", "ประชากร", "ของ", "ลูกค้า", "แคมเปญ"} <= set(segmented)
    assert all(span.text.strip() for span in words(line, "th") if span.is_word)


def test_khmer_is_split_with_the_dictionary(post_text):
    line = post_text("km", "អាជីវកម្ម")
    assert _word_texts(line, "km") == corpus.post_with("km", "អាជីវកម្ម").word_texts()
    assert _word_texts(line, "km") == [
        "ប្រព័ន្ធ",
        "ផ្សព្វផ្សាយ",
        "សង្គម",
        "ជួយ",
        "អាជីវកម្ម",
        "តូច",
        "ឱ្យ",
        "ទាក់ទង",
        "អតិថិជន",
        "បាន",
        "លឿន",
    ]


def test_astral_characters_keep_str_offsets():
    text = "\U0001f600 ok \U0001f468\u200d\U0001f469 ភាសា"
    spans = words(text)
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert spans[-1].text == "ភាសា" and spans[-1].end == len(text)


def test_whole_words_only():
    assert [m.text for m in find_terms("Ban the banana ban.", ["ban"])] == ["Ban", "ban"]
    assert find_terms("bananas", ["ban"]) == []


def test_thai_term_matches_only_on_word_boundaries(post_text):
    line = post_text("th", "ข้อมูลประชากร")
    assert "มูล" in line and "ประชา" in line and "ค้า" in line  # present as substrings...
    assert find_terms(line, ["มูล", "ประชา", "ค้า"]) == []  # ...but never as words
    matches = find_terms(line, ["ลูกค้า", "ข้อมูล"])
    assert [(m.text, m.term) for m in matches] == [("ข้อมูล", "ข้อมูล"), ("ลูกค้า", "ลูกค้า")]
    assert all(line[m.start : m.end] == m.text for m in matches)


def test_khmer_compound_and_inner_syllable(post_text):
    line = post_text("km", "អាជីវកម្ម")
    matcher = TermMatcher(["ប្រព័ន្ធផ្សព្វផ្សាយសង្គម", "សង្គម", "គម", "ថិជន"])
    found = [(m.term, line[m.start : m.end]) for m in matcher.find(line)]
    assert found == [
        ("ប្រព័ន្ធផ្សព្វផ្សាយសង្គម", "ប្រព័ន្ធផ្សព្វផ្សាយសង្គម"),
        ("សង្គម", "សង្គម"),
    ]


def test_khmer_zero_width_space_separates_words():
    text = "ទីផ្សារ\u200bសង្គម"
    assert [m.text for m in find_terms(text, ["សង្គម"])] == ["សង្គម"]
    assert [m.text for m in find_terms(text, ["ទីផ្សារសង្គម"])] == ["ទីផ្សារ\u200bសង្គម"]


def test_case_and_compatibility_folding():
    text = "ＳＰＡＭ and Straße and ΣΟΦΙΑ"
    matches = find_terms(text, ["spam", "STRASSE", "σοφια"])
    assert [(m.text, m.term) for m in matches] == [
        ("ＳＰＡＭ", "spam"),
        ("Straße", "STRASSE"),
        ("ΣΟΦΙΑ", "σοφια"),
    ]


def test_nfc_and_nfd_match_each_other():
    assert [m.text for m in find_terms("cafe\u0301 time", ["café"])] == ["cafe\u0301"]


def test_phrases_match_across_any_whitespace_run():
    text = "We love Social \n Media. Mitandao ya\tkijamii pia."
    matches = find_terms(text, ["social media", "mitandao ya kijamii"])
    assert [m.text for m in matches] == ["Social \n Media", "Mitandao ya\tkijamii"]


def test_armenian_and_swahili_terms(post_text):
    hy = post_text("hy", "բիզնեսին")
    assert [m.text for m in find_terms(hy, ["բիզնեսին"])] == ["բիզնեսին"]
    assert find_terms(hy, ["բիզնես"]) == []  # a stem inside an inflected word is no match
    sw = post_text("sw", "Mitandao")
    assert [m.text for m in find_terms(sw, ["mitandao ya KIJAMII"])] == ["Mitandao ya kijamii"]


def test_duplicate_spellings_report_each_term():
    matches = find_terms("Spam!", ["spam", "SPAM"])
    assert matches == [Match(0, 4, "Spam", "spam"), Match(0, 4, "Spam", "SPAM")]


def test_overlapping_terms_are_all_reported():
    matches = find_terms("social media marketing", ["social media", "media marketing"])
    assert [(m.start, m.end) for m in matches] == [(0, 12), (7, 22)]


def test_empty_term_is_rejected():
    with pytest.raises(ValueError):
        TermMatcher(["ok", "  \u200b "])


def test_matcher_is_reusable_across_texts(all_posts):
    terms = [f"term{i}" for i in range(2000)] + ["សង្គម", "ลูกค้า", "Kijamii", "ուտելիք"]
    matcher = TermMatcher(terms)
    found = {m.term for line in all_posts for m in matcher.find(line)}
    assert {"សង្គម", "ลูกค้า", "Kijamii"} <= found
    assert not any(term.startswith("term") for term in found)


def test_thai_loanword_is_not_cut_into_known_syllables():
    text = "รับสมัครฟรีแลนซ์เขียนคอนเทนต์ ส่งฟรีทั่วประเทศ"
    assert [m.text for m in find_terms(text, ["ฟรี"])] == ["ฟรี"]
    assert [(m.start, m.text) for m in find_terms(text, ["ฟรี"])] == [(text.rindex("ฟรี"), "ฟรี")]
    assert [m.text for m in find_terms(text, ["ฟรีแลนซ์", "คอนเทนต์"])] == ["ฟรีแลนซ์", "คอนเทนต์"]
    assert find_terms(text, ["แลน", "เทนต์"]) == []


def test_thai_compound_of_two_words_still_matches_its_parts():
    text = "ร้านกาแฟของเราเปิดแล้ว"
    assert [m.text for m in find_terms(text, ["กาแฟ", "ร้าน"])] == ["ร้าน", "กาแฟ"]


def test_a_term_matches_the_word_of_a_handle():
    text = "Thanks @chorus! Ask @chorus_support or @hr.chorus.example, not @choruses"
    matches = find_terms(text, ["chorus"])
    assert [text[m.start - 1 : m.end + 1] for m in matches] == ["@chorus!", "@chorus_", ".chorus."]
    assert [m.text for m in find_terms(text, ["chorus support"])] == []  # `_` is no space
    assert [m.text for m in find_terms("3.5 or 50,000", ["5", "000"])] == []  # numbers stay whole


def test_armenian_ligature_matches_its_capital_spelling():
    assert [m.text for m in find_terms("ԵՐԵՎԱՆ, ԳՅՈՒՄՐԻ", ["Երևան"])] == ["ԵՐԵՎԱՆ"]
    assert [m.text for m in find_terms("Բարև Երևանից", ["ԵՐԵՎԱՆԻՑ"])] == ["Երևանից"]
    assert [m.text for m in find_terms("Երեւան", ["Երևան"])] == ["Երեւան"]  # old spelling


def test_a_phrase_with_a_space_matches_words_joined_by_a_zero_width_space():
    text = "ទីផ្សារ\u200bសង្គម\u200bថ្ងៃនេះ"
    assert [m.text for m in find_terms(text, ["ទីផ្សារ សង្គម"])] == ["ទីផ្សារ\u200bសង្គម"]
    assert [m.text for m in find_terms("ขายของออนไลน์", ["ขาย ของ"])] == ["ขายของ"]
    assert find_terms("social\u200bmedia", ["social media"]) == []  # Latin needs its space


def test_quick_check_proves_every_substring_folded():
    from chorus.text import _icu
    from chorus.text.segmentation import fold

    assert not any(map(_icu.is_folded, ["ABC", "ក\u200bខ", "กำ", "e\u0301", "Ｃ", "ﬁ"]))
    chunks = {chunk for post in corpus.load("posts") for chunk in post.text.split()}
    folded = [text for text in chunks if not text.isascii() and _icu.is_folded(text)]
    assert len(folded) > 40  # Thai, Khmer without ZWSP, lower-case Armenian
    for text in folded:
        pieces = [text[i:j] for i in range(len(text)) for j in range(i + 1, min(len(text), i + 8))]
        assert all(fold(piece) == piece for piece in pieces if "\u0565\u0582" not in piece)


def test_thai_runs_are_tokenized_as_word_tokenize_does():
    """nlpO3's newmm (Rust) cuts every Thai run of the corpus as PyThaiNLP's Python does."""
    from pythainlp.tokenize import word_tokenize

    from chorus.text import _thai
    from chorus.text.segmentation import _THAI_RUN

    posts = corpus.load("posts") + corpus.load("heldout") + corpus.load("sentiment")
    runs = {run for post in posts for run in _THAI_RUN.findall(post.text)}
    assert len(runs) > 80
    runs |= {"๑๒๓", "เวลา๑๒ น", "ฯลฯ", "ๆ"}
    for run in runs:
        assert _thai._tokens(run) == word_tokenize(run, engine="newmm", keep_whitespace=True)


def test_threads_segmenting_their_first_thai_run_at_once_all_get_its_words(monkeypatch):
    """A server's threads may each meet Thai first at the same moment: the dictionary is
    loaded once, none of them fails, all get newmm's words."""
    import threading

    from pythainlp.tokenize import word_tokenize

    from chorus.text import _thai

    monkeypatch.setattr(_thai, "_o3_loaded", False)  # as in a fresh process
    text = "ข้อมูลประชากร"
    start, found, failed = threading.Barrier(8), [], []

    def first_run():
        start.wait()
        try:
            found.append(_thai._tokens(text))
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            failed.append(error)

    threads = [threading.Thread(target=first_run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failed
    assert found == [word_tokenize(text, engine="newmm")] * 8
