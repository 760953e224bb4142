"""Listening in a real Chromium: a topic, a query previewed while it is typed (the error with
its column, then the recent posts it matches), saved, and its matched posts on the page."""

import datetime as dt

import pytest
from django.utils import timezone

from chorus.listening import services
from chorus.listening.matcher import ListeningPost
from chorus.listening.models import Query
from chorus.listening.services import IncomingPost

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_topic_query_preview_and_matched_posts(signed_in_page, owner):
    services.ingest(
        [
            IncomingPost(
                post=ListeningPost.from_text(
                    "ร้านกาแฟของเราเปิดสาขาใหม่แล้ว",
                    network="bluesky",
                    lang="th",
                    author="shop.example",
                ),
                uri="at://did:plc:x/app.bsky.feed.post/1",
                posted_at=timezone.now() - dt.timedelta(hours=1),
                author_followers=321,
            )
        ]
    )
    page = signed_in_page
    page.click("nav >> text=Listening")
    page.fill("#id_name", "Coffee")
    page.click("#topic-new button[type=submit]")
    page.wait_for_selector("#queries")

    page.fill("#id_name", "Us")
    page.locator("#id_text").press_sequentially("กาแฟ NEAR/", delay=20)
    page.wait_for_selector("#query-preview .error")
    assert "column 11" in page.inner_text("#query-preview .error")
    page.fill("#id_text", "กาแฟ")
    page.locator("#id_text").press("End")
    page.locator("#id_text").press_sequentially(" OR #coffee", delay=20)
    page.wait_for_selector("#query-preview .preview-posts li")
    assert "ร้านกาแฟของเราเปิดสาขาใหม่แล้ว" in page.inner_text("#query-preview")

    page.click("#query-new button[type=submit]")
    page.wait_for_selector("#queries >> text=Us")
    assert Query.objects.get().text == "กาแฟ OR #coffee"
    services.ingest(
        [
            IncomingPost(
                post=ListeningPost.from_text(
                    "กาแฟเย็นอร่อยมาก", network="mastodon", lang="th", author="ann@social.example"
                ),
                uri="https://social.example/@ann/1",
                posted_at=timezone.now(),
            )
        ]
    )
    page.reload()
    rows = page.locator("#mentions tbody tr")
    assert rows.count() == 1  # the earlier post was seen before the query existed
    assert "กาแฟเย็นอร่อยมาก" in rows.first.inner_text()
