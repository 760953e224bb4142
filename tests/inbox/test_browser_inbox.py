"""The inbox in a real Chromium against the Mastodon test server: open a conversation, assign
it with the keyboard, reply, and see a new message arrive without reloading."""

from __future__ import annotations

import pytest

from chorus.inbox import ingest
from chorus.inbox.models import Conversation, PollState
from chorus.networks import services as network_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _poll(account):
    PollState.objects.filter(account=account).update(next_poll_at="2000-01-01T00:00:00Z")
    return ingest.poll_account(account_id=account.pk)


def test_assign_reply_and_live_update(signed_in_page, owner, mastodon_server):
    page = signed_in_page
    username, _ = mastodon_server.new_user("brand")
    url = network_services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    account = network_services.oauth_complete(actor=owner, state=state, code=code)
    _fan, token = mastodon_server.new_user("fan")
    with mastodon_server.client(token) as fan:
        status = fan.post(
            "/api/v1/statuses", data={"status": f"@{username} where is my parcel?"}
        ).json()
    _poll(account)

    page.goto("/inbox/")
    page.wait_for_selector(".conversation-row:has-text('where is my parcel')")
    page.keyboard.press("j")  # opens the first conversation
    page.wait_for_selector("#conversation")
    page.keyboard.press("a")  # assign to me
    page.wait_for_selector("#conversation:has-text('Assigned to')")
    assert Conversation.objects.get(account=account).assignee_id == owner.pk

    page.keyboard.press("r")
    page.keyboard.type("It left the warehouse today.")
    page.click("#reply-send")
    page.wait_for_selector(".timeline .ours:has-text('It left the warehouse today.')")
    with mastodon_server.client(token) as fan:
        context = fan.get(f"/api/v1/statuses/{status['id']}/context").json()
    assert [s["in_reply_to_id"] for s in context["descendants"]] == [status["id"]]

    with mastodon_server.client(token) as fan:
        fan.post("/api/v1/statuses", data={"status": f"@{username} also, hello from Bangkok"})
    _poll(account)
    # no reload: the list refreshes itself every few seconds
    page.wait_for_selector(".conversation-row:has-text('hello from Bangkok')", timeout=20_000)
