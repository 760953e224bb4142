"""Boards and answering in a real Chromium: from a topic's matched posts, one is saved to a
board with a note and another opened in the inbox, where the reply form waits."""

import pytest

from chorus.inbox.models import Conversation
from chorus.listening import services
from chorus.listening.models import BoardItem
from chorus.networks.models import SocialAccount
from tests.listening.test_topics import incoming

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_save_a_mention_to_a_board_and_open_one_in_the_inbox(signed_in_page, owner):
    topic = services.topic_create(actor=owner, name="Coffee", kind="brand")
    services.query_create(actor=owner, topic=topic, name="Us", text="chorus")
    services.ingest(
        [
            incoming("Chorus made my morning", "at://did:plc:ann/app.bsky.feed.post/1"),
            incoming("Is chorus open on Sunday?", "at://did:plc:bo/app.bsky.feed.post/2"),
        ]
    )
    account = SocialAccount(
        workspace=owner.workspace,
        provider="bluesky",
        remote_id="did:plc:brand",
        handle="brand.example",
        identity={"did": "did:plc:brand", "pds_url": "https://pds.example"},
    )
    account.secrets = {"access_jwt": "a", "refresh_jwt": "r"}
    account.save()
    page = signed_in_page
    page.click("nav >> text=Listening")
    page.click("#boards-link")
    page.fill("#id_name", "Praise to share")
    page.click("#board-new button[type=submit]")
    page.wait_for_selector("h1 >> text=Praise to share")

    page.goto(f"/listening/topics/{topic.pk}/")
    praise = page.locator("#mentions tbody tr", has_text="made my morning")
    praise.get_by_label("Note (optional)").fill("For the newsletter")
    praise.get_by_role("button", name="Save to board").click()
    page.wait_for_selector("text=Saved to “Praise to share”.")
    assert BoardItem.objects.get().note == "For the newsletter"

    question = page.locator("#mentions tbody tr", has_text="open on Sunday")
    question.get_by_label("Answer as").select_option(label="brand.example")
    question.get_by_role("button", name="Answer in the inbox").click()
    page.wait_for_url("**/inbox/?c=*")
    conversation = Conversation.objects.get(account=account)
    assert page.url.endswith(f"/inbox/?c={conversation.pk}")
    page.wait_for_selector("textarea[name=text]")  # the inbox's reply form, for this post
    assert "Is chorus open on Sunday?" in page.content()

    page.click("nav >> text=Listening")
    page.click("#boards-link")
    page.click("#boards >> text=Praise to share")
    assert "Chorus made my morning" in page.inner_text("#board-mentions")
    assert "For the newsletter" in page.inner_text("#board-mentions")
