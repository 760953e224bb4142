"""Live update in a real Chromium: what is stored while the page is open shows without a
reload, in the list and in the open conversation, and a reply being typed stays."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.models import Conversation
from tests.inbox.conftest import item, page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SOONER_THAN_THE_SAFETY_REFRESH = 10_000  # ms: the list's own timer is 15 s, the timeline's 30 s


def test_a_message_stored_while_the_page_is_open_appears(signed_in_page, account):
    ingest.store_page(account, page(item(1, text="Is the shop open?")), now=timezone.now())
    conversation = Conversation.objects.get()
    browser_page = signed_in_page
    browser_page.goto(f"/inbox/?c={conversation.pk}")
    browser_page.wait_for_selector("#timeline:has-text('Is the shop open?')")
    browser_page.fill("#reply-text", "We open at nine")

    newcomer = item(2, author="bo@example.org", text="Do you ship to Yerevan?", minutes_ago=0)
    ingest.store_page(account, page(newcomer, cursor="c2"), now=timezone.now())
    browser_page.wait_for_selector(
        ".conversation-row:has-text('Do you ship to Yerevan?')",
        timeout=SOONER_THAN_THE_SAFETY_REFRESH,
    )

    again = item(3, text="Also on Sundays?", minutes_ago=0)
    ingest.store_page(account, page(again, cursor="c3"), now=timezone.now())
    browser_page.wait_for_selector(
        "#timeline:has-text('Also on Sundays?')", timeout=SOONER_THAN_THE_SAFETY_REFRESH
    )
    assert browser_page.input_value("#reply-text") == "We open at nine"
