"""Collision detection in two real Chromium pages: each sees the other viewing, then typing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.models import Conversation
from tests.conftest import PASSWORD
from tests.inbox.conftest import item
from tests.inbox.conftest import page as one_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_members_see_each_other(
    signed_in_page, browser, live_server, owner, account, make_member
):
    ana = make_member("admin", workspace=owner.workspace, email="ana@example.org")
    ana.user.full_name = "Ana"
    ana.user.save()
    owner.user.full_name = "Olive"
    owner.user.save()
    ingest.store_page(account, one_page(item(1, text="Is the shop open?")), now=timezone.now())
    conversation = Conversation.objects.get(account=account)

    mine = signed_in_page
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(20_000)
    try:
        hers = context.new_page()
        hers.goto("/login/")
        hers.fill("#id_username", ana.user.email)
        hers.fill("#id_password", PASSWORD)
        hers.click("#login")
        hers.wait_for_url("**/")
        hers.goto(f"/inbox/?c={conversation.pk}")
        mine.goto(f"/inbox/?c={conversation.pk}")
        mine.wait_for_selector("#presence:has-text('Ana is viewing')", timeout=20_000)
        hers.wait_for_selector("#presence:has-text('Olive is viewing')", timeout=20_000)
        hers.click("#reply-text")
        hers.keyboard.type("We open at nine")
        mine.wait_for_selector("#presence:has-text('Ana is typing a reply')", timeout=20_000)
    finally:
        context.close()
