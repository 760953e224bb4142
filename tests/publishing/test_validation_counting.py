"""The composer counts as each network counts today: Khmer by Unicode 17, Bluesky's byte cap,
Mastodon's content warning counted with the text."""

import pytest

from chorus.networks.models import SocialAccount
from chorus.publishing.validation import check_variant, part_lengths

KHMER_300 = "ខ្មែរ" * 150  # 300 graphemes for Bluesky today (ICU 72 would say 450)


def fields(problems):
    return [p.field for p in problems]


def test_khmer_post_at_bluesky_limit_is_accepted_and_one_more_refused():
    assert check_variant(provider_key="bluesky", text=KHMER_300) == []
    (problem,) = check_variant(provider_key="bluesky", text=KHMER_300 + "ក")
    assert problem.field == "text" and "301" in problem.message
    assert part_lengths("bluesky", [KHMER_300])[0].count == 300


def test_bluesky_refuses_text_over_3000_bytes_even_within_300_graphemes():
    women = "ស្ត្រី" * 167  # 167 graphemes, 3,006 bytes
    (problem,) = check_variant(provider_key="bluesky", text=women)
    assert problem.field == "text" and "3006" in problem.message.replace(",", "")
    assert check_variant(provider_key="bluesky", text="ស្ត្រី" * 166) == []  # 2,988 bytes
    emoji = "\U0001f600" * 300  # 300 graphemes, 1,200 bytes: fine
    assert check_variant(provider_key="bluesky", text=emoji) == []
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 200  # 200 graphemes, 3,600 bytes
    assert fields(check_variant(provider_key="bluesky", text=family)) == ["text"]


def test_mastodon_counts_the_content_warning_with_the_text():
    text = "a" * 490
    assert check_variant(provider_key="mastodon", text=text, content_warning="b" * 10) == []
    (problem,) = check_variant(provider_key="mastodon", text=text, content_warning="b" * 11)
    assert problem.field == "text" and "501" in problem.message
    lengths = part_lengths("mastodon", [text, "c"], content_warning="b" * 11, warned=1)
    assert [length.count for length in lengths] == [501, 1]


@pytest.mark.django_db
def test_composer_preview_counts_the_content_warning_on_mastodon(owner):
    from tests.publishing.test_views import client_for

    account = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="cw@mastodon.example",
        handle="cw@mastodon.example",
        identity={"server_url": "https://mastodon.example"},
    )
    data = {"accounts": [account.pk], "text": "a" * 490, "action": "save"}
    client = client_for(owner)
    body = client.post("/posts/preview/", data).content.decode()
    assert "490 / 500" in body and "counter over" not in body
    data[f"v{account.pk}-cw"] = "spoilers ahead"  # 14 more: 504
    body = client.post("/posts/preview/", data).content.decode()
    assert "504 / 500" in body and "counter over" in body and "4 too many" in body


@pytest.mark.parametrize("network", ["instagram", "tiktok"])
def test_a_network_of_photos_and_videos_refuses_a_post_without_media(network):
    from chorus.publishing.validation import MediaInfo

    (problem,) = check_variant(provider_key=network, text="Only words")
    assert problem.field == "media" and "photo or a video" in problem.message
    video = MediaInfo(mime_type="video/mp4", size=1_000_000)
    assert check_variant(provider_key=network, text="Words", media=[video]) == []
    assert check_variant(provider_key="facebook", text="Only words") == []


def test_a_first_comment_is_refused_where_apps_cannot_comment():
    from chorus.publishing.validation import MediaInfo

    video = [MediaInfo(mime_type="video/mp4", size=1_000_000)]
    (problem,) = check_variant(
        provider_key="tiktok", text="Words", media=video, first_comment="Link in bio"
    )
    assert problem.field == "first_comment" and "would not be posted" in problem.message
    assert check_variant(provider_key="tiktok", text="Words", media=video) == []
    for network in ("instagram", "facebook", "x", "threads"):
        assert (
            check_variant(
                provider_key=network, text="Words", media=video, first_comment="Link in bio"
            )
            == []
        ), network
