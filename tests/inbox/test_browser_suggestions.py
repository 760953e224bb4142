"""Thank-you suggestions in a real Chromium against the Mastodon test server: a fan boosts
our post and praises it; the Suggested view offers a thank-you for each; one is edited and
sent (it appears on the server under our post, mentioning the fan), the other dismissed."""

from __future__ import annotations

import pytest

from chorus.inbox import ingest, services, thanks
from chorus.inbox.models import PollState, Suggestion
from chorus.networks import services as network_services
from chorus.publishing import services as publishing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_suggestion_is_edited_and_sent_and_another_dismissed(
    signed_in_page, owner, mastodon_server
):
    page = signed_in_page
    username, brand_token = mastodon_server.new_user("brand")
    url = network_services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    account = network_services.oauth_complete(actor=owner, state=state, code=code)
    with mastodon_server.client(brand_token) as brand:
        ours = brand.post("/api/v1/statuses", data={"status": "Our new roast is here"}).json()
    post = publishing.post_save(
        actor=owner,
        variants=[publishing.VariantInput(account_id=account.pk, text="Our new roast is here")],
    )
    post.variants.update(remote_id=ours["id"], remote_url=ours["url"])
    services.saved_reply_save(actor=owner, name="Thanks", text="Thank you, {name}! {agent}")
    thanks.thanks_settings_update(
        actor=owner,
        thank_you_reply="Thanks",
        follow_up_reply="",
        follow_up_hours=24,
        auto_send=False,
    )
    fan, fan_token = mastodon_server.new_user("fan")
    _other, other_token = mastodon_server.new_user("kind")
    with mastodon_server.client(fan_token) as client:
        client.post(f"/api/v1/statuses/{ours['id']}/reblog")
    with mastodon_server.client(other_token) as client:
        client.post(
            "/api/v1/statuses",
            data={"status": f"@{username} I love it, thank you!", "in_reply_to_id": ours["id"]},
        )
    PollState.objects.filter(account=account).update(next_poll_at="2000-01-01T00:00:00Z")
    ingest.poll_account(account_id=account.pk)
    repost = Suggestion.objects.get(reason="repost")
    kind = Suggestion.objects.get(reason="positive")

    page.goto("/inbox/")
    page.click("#view-suggested")
    page.wait_for_selector(f"#suggestion-{repost.pk}")
    text = page.locator(f"#suggestion-text-{repost.pk}")
    assert text.input_value().startswith(f"@{repost.contact.handle} Thank you")
    text.fill(f"@{repost.contact.handle} Thanks for sharing our roast!")
    page.click(f"#send-{repost.pk}")
    page.wait_for_selector("text=Reply on its way.")
    page.click(f"#dismiss-{kind.pk}")
    page.wait_for_selector("text=Suggestion dismissed.")
    assert page.locator(".suggestion").count() == 0
    page.wait_for_selector("#no-suggestions")

    repost.refresh_from_db()
    kind.refresh_from_db()
    assert repost.state == "sent" and repost.reply.state == "sent"
    assert kind.state == "dismissed"
    with mastodon_server.client(fan_token) as client:
        context = client.get(f"/api/v1/statuses/{ours['id']}/context").json()
    answers = [s for s in context["descendants"] if s["account"]["username"] == username]
    assert len(answers) == 1 and answers[0]["in_reply_to_id"] == ours["id"]
    assert "Thanks for sharing our roast!" in answers[0]["content"]
    # the reposter is named (Mastodon turns "@name" into a mention; the mock keeps the text)
    assert f"@{fan}" in answers[0]["content"]
