"""Links, mentions and hashtags with str and UTF-8 byte offsets, per network."""

import pytest

from chorus.text import NETWORKS, find_entities, find_hashtags, find_links, find_mentions


def _texts(entities):
    return [(e.kind, e.text, e.value) for e in entities]


def _assert_offsets(text, entities):
    for e in entities:
        assert text[e.start : e.end] == e.text
        assert e.byte_start == len(text[: e.start].encode())
        assert e.byte_end == len(text[: e.end].encode())
        assert text.encode()[e.byte_start : e.byte_end].decode() == e.text


# --- hashtags ---------------------------------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
def test_thai_and_khmer_hashtags_keep_their_marks(network):
    text = "ข่าว #ภาษาไทย่ วันนี้ #ខ្មែរស្រឡាញ់ខ្មែរ ok"
    tags = find_hashtags(text, network)
    assert [t.value for t in tags] == ["ภาษาไทย่", "ខ្មែរស្រឡាញ់ខ្មែរ"]
    _assert_offsets(text, tags)


@pytest.mark.parametrize("network", NETWORKS)
def test_hashtag_stops_at_punctuation_and_space(network):
    text = "#Kiswahili, #հայերեն. #mitandao_ya_kijamii!"
    assert [t.value for t in find_hashtags(text, network)] == [
        "Kiswahili",
        "հայերեն",
        "mitandao_ya_kijamii",
    ]


@pytest.mark.parametrize("network", NETWORKS)
def test_hashtag_rules_shared_by_both_networks(network):
    assert find_hashtags("#2024 #42!", network) == []  # digits only
    assert find_hashtags("a#tag and x.com/#frag", network) == []  # needs start or space before
    assert [t.value for t in find_hashtags("#2024election", network)] == ["2024election"]
    assert [t.value for t in find_hashtags("＃全角", network)] == ["全角"]


def test_hashtag_rules_that_differ():
    # Bluesky allows any non-space characters and only trims trailing punctuation.
    assert [t.value for t in find_hashtags("#c++ #don't", "bluesky")] == ["c++", "don't"]
    assert [t.value for t in find_hashtags("#c++ #don't", "mastodon")] == ["c", "don"]
    # Bluesky's digit test is JavaScript's ASCII-only \\d; Mastodon's is Unicode.
    assert [t.value for t in find_hashtags("#١٢٣", "bluesky")] == ["١٢٣"]
    assert find_hashtags("#١٢٣", "mastodon") == []
    # Bluesky refuses tags longer than 64 UTF-16 units.
    assert find_hashtags("#" + "a" * 65, "bluesky") == []
    assert len(find_hashtags("#" + "a" * 65, "mastodon")) == 1


def test_hashtags_in_corpus_post(post_text):
    line = post_text("sw", "#nisaidie")
    for network in NETWORKS:
        tags = find_hashtags(line, network)
        assert [t.value for t in tags] == ["nisaidie"]
        _assert_offsets(line, tags)


# --- mentions ---------------------------------------------------------------------------------


def test_bluesky_mentions_are_domain_handles():
    text = "ping @alice.bsky.social, (@bob.example.com) @carol @dave.notatld @eve.test."
    mentions = find_mentions(text, "bluesky")
    assert [m.value for m in mentions] == ["alice.bsky.social", "bob.example.com", "eve.test"]
    _assert_offsets(text, mentions)


def test_mastodon_mentions_local_and_remote():
    text = "hi @alice@mastodon.social and @Bob_1, not mail@example.com nor @x@y@z"
    mentions = find_mentions(text, "mastodon")
    assert [m.value for m in mentions] == ["alice@mastodon.social", "Bob_1"]
    assert mentions[0].text == "@alice@mastodon.social"
    _assert_offsets(text, mentions)


def test_mastodon_mention_after_khmer_text_has_byte_offsets():
    text = "សួស្តី @sokha@social.example.kh សុខសប្បាយ"
    (mention,) = find_mentions(text, "mastodon")
    assert mention.value == "sokha@social.example.kh"
    _assert_offsets(text, [mention])
    assert mention.byte_start > mention.start  # Khmer takes 3 bytes per code point


def test_mentions_in_corpus_post(post_text):
    line = post_text("km", "@chorus")
    (mention,) = find_mentions(line, "mastodon")
    assert mention.text == "@chorus"
    _assert_offsets(line, [mention])
    assert find_mentions(line, "bluesky") == []  # not a domain handle


# --- links ------------------------------------------------------------------------------------


def test_bluesky_links_include_bare_domains_and_trim_punctuation():
    text = "อ่าน https://th.wikipedia.org/wiki/ประเทศไทย. และ bsky.app/profile (https://a.com/x)"
    links = find_links(text, "bluesky")
    assert [(link.text, link.value) for link in links] == [
        ("https://th.wikipedia.org/wiki/ประเทศไทย", "https://th.wikipedia.org/wiki/ประเทศไทย"),
        ("bsky.app/profile", "https://bsky.app/profile"),
        ("https://a.com/x", "https://a.com/x"),
    ]
    _assert_offsets(text, links)


def test_bluesky_bare_domains_need_an_iana_tld():
    assert find_links("see notes.txt and v1.2.3 and Example.COM", "bluesky") == []
    # .py is Paraguay's TLD, so Bluesky links a file name like this one.
    assert [link.value for link in find_links("main.py", "bluesky")] == ["https://main.py"]


def test_mastodon_links_need_a_protocol():
    text = "visit example.com or https://example.com/a_(b)c. and gemini://gem.example.org/"
    links = find_links(text, "mastodon")
    assert [link.text for link in links] == [
        "https://example.com/a_(b)c",
        "gemini://gem.example.org/",
    ]
    _assert_offsets(text, links)


# --- all together -----------------------------------------------------------------------------


def test_find_entities_orders_and_offsets_mixed_scripts():
    text = (
        "ស្វាគមន៍ 👨\u200d👩\u200d👧 @alice.bsky.social អានបន្ថែម https://example.com/ខ្មែរ "
        "#ប្រព័ន្ធផ្សព្វផ្សាយសង្គម 🇰🇭"
    )
    entities = find_entities(text, "bluesky")
    assert _texts(entities) == [
        ("mention", "@alice.bsky.social", "alice.bsky.social"),
        ("link", "https://example.com/ខ្មែរ", "https://example.com/ខ្មែរ"),
        ("hashtag", "#ប្រព័ន្ធផ្សព្វផ្សាយសង្គម", "ប្រព័ន្ធផ្សព្វផ្សាយសង្គម"),
    ]
    _assert_offsets(text, entities)


def test_find_entities_drops_overlaps_keeping_the_earlier():
    text = "https://example.com/@user/#tag @user@example.com"
    entities = find_entities(text, "mastodon")
    assert _texts(entities) == [
        ("link", "https://example.com/@user/#tag", "https://example.com/@user/#tag"),
        ("mention", "@user@example.com", "user@example.com"),
    ]


def test_unknown_network_is_rejected():
    with pytest.raises(ValueError, match="unknown network"):
        find_links("https://example.com", "myspace")
