"""The public redirect: people counted, bots and card previews not, only Chorus's links."""

import pytest

from chorus.links import clicks, services
from chorus.links.models import Click

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def follow(client, code, agent=BROWSER, **headers):
    return client.get(f"/l/{code}", HTTP_USER_AGENT=agent, **headers)


def test_a_click_redirects_with_its_click_id_and_is_recorded(client, owner, make_link):
    link = make_link(owner.workspace, target="https://shop.example/item?utm_source=mastodon")
    response = follow(client, link.code, HTTP_REFERER="https://mastodon.example/@brand/1")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://shop.example/item?utm_source=mastodon&chorus_click=")
    assert response["Cache-Control"] == "no-store"
    assert Click.objects.count() == 0  # buffered, not yet written
    assert clicks.buffer.flush() == 1
    click = Click.objects.get()
    assert location.endswith(click.token) and click.link == link
    assert (click.referrer, click.device, click.ip) == ("mastodon.example", "mobile", None)


@pytest.mark.parametrize(
    "agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mastodon/4.2.0 (http.rb/5.1.1; +https://mastodon.social/) Bot",
        "Bluesky Cardyb/1.1",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "",
    ],
)
def test_bots_and_card_previews_are_redirected_but_not_counted(client, owner, make_link, agent):
    link = make_link(owner.workspace)
    response = follow(client, link.code, agent=agent)
    assert response.status_code == 302 and response["Location"] == link.target
    clicks.buffer.flush()
    assert Click.objects.count() == 0


def test_prefetch_and_head_are_not_clicks(client, owner, make_link):
    link = make_link(owner.workspace)
    assert follow(client, link.code, HTTP_SEC_PURPOSE="prefetch").status_code == 302
    assert client.head(f"/l/{link.code}", HTTP_USER_AGENT=BROWSER).status_code == 302
    clicks.buffer.flush()
    assert Click.objects.count() == 0


def test_the_ip_is_kept_only_when_the_workspace_allows_it(client, owner, make_link):
    link = make_link(owner.workspace)
    services.settings_update(
        actor=owner,
        track_links=True,
        utm_medium="social",
        attribution_days=7,
        store_ip=True,
        short_domain="",
    )
    clicks.links.forget(link.code)
    follow(client, link.code, agent=DESKTOP)
    clicks.buffer.flush()
    click = Click.objects.get()
    assert click.ip == "127.0.0.1" and click.device == "desktop"


@pytest.mark.parametrize("code", ["nope123", "x" * 40, "a%3Cb", "..%2Fetc"])
def test_an_unknown_code_shows_a_clear_page_and_no_redirect(client, code):
    response = follow(client, code)
    assert response.status_code == 404
    assert "Location" not in response
    if "%2F" not in code:  # a slash is no code at all: the site's own 404
        assert b"This link does not exist" in response.content


def test_a_disabled_link_stops_redirecting_and_keeps_its_clicks(client, owner, make_link):
    link = make_link(owner.workspace)
    follow(client, link.code)
    clicks.buffer.flush()
    services.link_set_disabled(actor=owner, link=link, disabled=True)
    response = follow(client, link.code)
    assert response.status_code == 410 and "Location" not in response
    assert b"turned off" in response.content
    assert Click.objects.filter(link=link).count() == 1
    services.link_set_disabled(actor=owner, link=link, disabled=False)
    assert follow(client, link.code).status_code == 302


def test_links_keep_working_after_their_post_is_deleted(client, owner, make_link):
    from chorus.networks.models import SocialAccount
    from chorus.publishing import services as publishing

    account = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="a",
        handle="a@m.example",
        identity={"server_url": "https://m.example"},
    )
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text="Buy")]
    )
    link = make_link(owner.workspace, post=post, post_label="Buy")
    publishing.post_delete(actor=owner, post=post)
    assert follow(client, link.code).status_code == 302
    clicks.buffer.flush()
    link.refresh_from_db()
    assert link.post is None and link.post_label == "Buy" and link.clicks.count() == 1


def test_the_rate_limit_answers_429_without_redirecting(client, owner, make_link):
    link = make_link(owner.workspace)
    clicks.limiter.limit, before = 3, clicks.limiter.limit
    try:
        codes = [follow(client, link.code).status_code for _ in range(5)]
    finally:
        clicks.limiter.limit = before
    assert codes == [302, 302, 302, 429, 429]
    clicks.buffer.flush()
    assert Click.objects.count() == 3


def test_clicks_wait_in_the_buffer_while_the_database_is_busy(
    client, owner, make_link, monkeypatch
):
    from django.db import OperationalError

    link = make_link(owner.workspace)
    for _ in range(3):
        follow(client, link.code)

    def busy(pending):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "clicks_write", busy)
    assert clicks.buffer.flush() == 0 and len(clicks.buffer) == 3
    monkeypatch.undo()
    assert clicks.buffer.flush() == 3 and Click.objects.count() == 3


def test_device_classes():
    assert clicks.device_class(BROWSER) == "mobile"
    assert clicks.device_class(DESKTOP) == "desktop"
    ipad = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    assert clicks.device_class(ipad) == "tablet"
    tablet = "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 Chrome/120 Safari/537.36"
    assert clicks.device_class(tablet) == "tablet"
    assert clicks.device_class("curl/8.0") == "other"
