"""Posts carry their language: detected from the text, or the author's choice, sent to the
network (Mastodon `language`, Bluesky `langs`) and shown in the composer."""

import pytest
from tests.publishing.test_dispatcher_bluesky import bluesky_account, record  # noqa: F401
from tests.text import corpus

from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus

pytestmark = pytest.mark.django_db

KHMER = corpus.post_with("km", "អាជីវកម្ម").text
SWAHILI = corpus.post_with("sw", "Mitandao").text


def compose(owner, account, text, **extra):
    return services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text=text, **extra)]
    )


def publish(owner, post):
    services.post_publish_now(actor=owner, post=post)
    assert Dispatcher(concurrency=1).run_once() == 1
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    return variant


def test_detected_language_is_sent_to_mastodon(owner, mastodon_account, statuses_of):
    publish(owner, compose(owner, mastodon_account, KHMER))
    assert statuses_of(mastodon_account)[0]["language"] == "km"


def test_the_authors_choice_wins_over_detection(owner, mastodon_account, statuses_of):
    post = compose(owner, mastodon_account, SWAHILI, language="en")
    assert post.variants.get().language == "en"
    publish(owner, post)
    assert statuses_of(mastodon_account)[0]["language"] == "en"


def test_unknown_language_code_is_refused_naming_the_field(owner, mastodon_account):
    post = compose(owner, mastodon_account, SWAHILI, language="klingon")  # a draft may hold it
    with pytest.raises(services.InvalidPost) as error:
        services.post_publish_now(actor=owner, post=post)
    (problem,) = error.value.problems[mastodon_account.pk]
    assert problem.field == "language" and "klingon" in problem.message


def test_composer_shows_the_detected_language_and_keeps_the_choice(owner, mastodon_account):
    from tests.publishing.test_views import client_for

    client = client_for(owner)
    data = {"accounts": [mastodon_account.pk], "text": KHMER, "action": "save"}
    body = client.post("/posts/preview/", data).content.decode()
    assert "Sent as ខ្មែរ (detected)" in body
    data[f"v{mastodon_account.pk}-language"] = "th"
    body = client.post("/posts/preview/", data).content.decode()
    assert "Sent as ไทย" in body and "(detected)" not in body
    client.post("/posts/new/", data)
    variant = Variant.objects.get(account=mastodon_account)
    assert variant.language == "th"
    page = client.get(f"/posts/{variant.post_id}/edit/").content.decode()
    assert '<option value="th" selected>' in page


def test_detected_language_goes_into_the_bluesky_record(
    owner,
    bluesky_account,  # noqa: F811
    bluesky_server,
):
    variant = publish(owner, compose(owner, bluesky_account, KHMER, thread=[SWAHILI]))
    parts = [record(bluesky_server, part["id"]) for part in variant.parts_published]
    assert [part["langs"] for part in parts] == [["km"], ["km"]]  # the variant's language


def test_api_takes_and_returns_a_variants_language(api, owner, mastodon_account, api_token_for):
    token = api_token_for(owner)
    payload = {
        "accounts": [mastodon_account.pk],
        "text": SWAHILI,
        "variants": [{"account": mastodon_account.pk, "language": "sw"}],
    }
    created = api.post("/posts", payload, token=token)
    assert created.status_code == 201, created.json()
    assert created.json()["variants"][0]["language"] == "sw"
    payload["variants"][0]["language"] = "xx-nope"
    payload["schedule"] = "now"
    refused = api.post("/posts", payload, token=token)
    assert refused.status_code == 400 and "xx-nope" in str(refused.json())
