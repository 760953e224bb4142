"""Each Mastodon-API server's own limits: read once per server, stored, used by the composer."""

from datetime import timedelta

import httpx
import pytest
import respx
from django.utils import timezone

from chorus.networks import selectors, services, tasks
from chorus.networks.models import ServerLimits, SocialAccount
from chorus.networks.providers.mastodon import Mastodon
from chorus.publishing import services as publishing
from chorus.publishing.validation import check_variant, part_lengths

pytestmark = pytest.mark.django_db

BIG = "https://big.example"
ZERO = "https://zero.example"
SHORT_URLS = "https://short-urls.example"
DOWN = "https://down.example"


def mastodon_account(owner, server_url: str, name: str) -> SocialAccount:
    account = SocialAccount(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id=name,
        handle=name,
        identity={"server_url": server_url, "account_id": name, "acct": name},
        connected_by=owner.user,
    )
    account.secrets = {"access_token": f"{name}-token"}
    account.save()
    return account


def instance(max_characters: int, per_url: int = 23) -> dict:
    return {
        "domain": "example",
        "version": "4.3.0",
        "configuration": {
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": per_url,
            },
            "polls": {"max_options": 6, "max_characters_per_option": 80},
        },
    }


@pytest.fixture
def servers():
    with respx.mock(assert_all_called=False) as api:
        big = api.get(f"{BIG}/api/v2/instance").respond(200, json=instance(5000))
        api.get(f"{ZERO}/api/v2/instance").respond(200, json=instance(0))
        api.get(f"{ZERO}/api/v1/instance").respond(404, json={"error": "Not found"})
        api.get(f"{DOWN}/api/v2/instance").respond(503, text="Service Unavailable")
        api.get(f"{SHORT_URLS}/api/v2/instance").respond(200, json=instance(500, per_url=10))
        yield big


def test_the_composer_checks_against_the_servers_own_limits(owner, servers):
    big = [mastodon_account(owner, BIG, f"big{n}") for n in range(3)]
    zero = mastodon_account(owner, ZERO, "zero")
    long_text = "Launch notes " * 100  # 1,300 characters

    assert check_variant(provider_key="mastodon", text=long_text, account=big[0]), (
        "before the server was read, Mastodon's documented 500 applies"
    )
    assert services.server_limits_refresh() == 2
    assert servers.call_count == 1, "one request per server, not per account"

    assert selectors.account_limits(big[1]).max_text == 5000
    assert selectors.account_limits(big[1]).max_poll_options == 6
    assert check_variant(provider_key="mastodon", text=long_text, account=big[2]) == []
    assert part_lengths("mastodon", [long_text], account=big[0])[0].limit == 5000
    assert selectors.account_limits(zero).max_text == 500, "0 falls back to the default"
    problems = check_variant(provider_key="mastodon", text=long_text, account=zero)
    assert problems and "500" in problems[0].message

    when = timezone.now() + timedelta(hours=1)
    for account, allowed in ((big[0], True), (zero, False)):
        post = publishing.post_save(
            actor=owner,
            variants=[publishing.VariantInput(account_id=account.pk, text=long_text)],
        )
        if allowed:
            publishing.post_schedule(actor=owner, post=post, at=when)
            assert post.variants.get().status == "scheduled"
        else:
            with pytest.raises(publishing.InvalidPost):
                publishing.post_schedule(actor=owner, post=post, at=when)


def test_a_server_that_cannot_be_read_keeps_its_last_values_and_says_why(owner, servers):
    account = mastodon_account(owner, DOWN, "down")
    ServerLimits.objects.create(
        provider="mastodon", server="down.example", values={"max_text": 3000}
    )
    assert services.server_limits_refresh() == 0
    row = ServerLimits.objects.get(server="down.example")
    assert row.values == {"max_text": 3000} and "503" in row.last_error
    assert selectors.account_limits(account).max_text == 3000


def test_networks_with_one_set_of_limits_are_not_asked(owner, servers):
    bluesky = SocialAccount(
        workspace=owner.workspace,
        provider="bluesky",
        remote_id="did:plc:x",
        handle="x.test",
        identity={"did": "did:plc:x", "handle": "x.test", "pds_url": "https://pds.example"},
        connected_by=owner.user,
    )
    bluesky.save()
    assert services.server_limits_refresh() == 0
    assert not ServerLimits.objects.exists()
    assert selectors.account_limits(bluesky) == bluesky_limits()


def bluesky_limits():
    from chorus.networks.providers.bluesky import Bluesky

    return Bluesky.limits


def test_the_periodic_task_refreshes_every_server(owner, servers):
    account = mastodon_account(owner, BIG, "big")
    tasks.refresh_server_limits.call_local()
    assert selectors.account_limits(account).max_text == 5000


def test_connecting_an_account_reads_its_servers_limits(
    owner, mastodon_server, django_capture_on_commit_callbacks
):
    username, _token = mastodon_server.new_user("limits")
    url = services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    with django_capture_on_commit_callbacks(execute=True):
        account = services.oauth_complete(actor=owner, state=state, code=code)
    row = ServerLimits.objects.get(provider="mastodon", server=account.server)
    with httpx.Client() as http:
        expected = Mastodon.fetch_limits(account.identity, http=http)
    assert row.refreshed_at and row.values == expected.server_values()
    assert row.values["max_image_bytes"] == 10 * 1024 * 1024  # the mock's own, not 16 MB


def test_the_composer_page_and_preview_show_the_servers_limits(owner, client):
    account = mastodon_account(owner, BIG, "big")
    ServerLimits.objects.create(
        provider="mastodon",
        server="big.example",
        values={"max_text": 5000, "max_poll_options": 6},
    )
    client.force_login(owner.user)
    page = client.get("/posts/new/").content.decode()
    assert "up to 5000 characters" in page
    preview = client.post(
        "/posts/preview/", {"accounts": [account.pk], "text": "x" * 1200, "action": "save"}
    ).content.decode()
    assert "1200 / 5000" in preview and "too many" not in preview


def test_the_account_page_shows_its_servers_limits(owner, client):
    account = mastodon_account(owner, BIG, "big")
    ServerLimits.objects.create(
        provider="mastodon",
        server="big.example",
        values={"max_text": 5000},
        refreshed_at=timezone.now(),
    )
    client.force_login(owner.user)
    page = client.get(f"/social-accounts/{account.pk}/").content.decode()
    assert "up to 5000 characters and 4 attachments per post" in page


def test_a_url_weighs_what_the_server_reserves_for_it(owner, servers):
    short = mastodon_account(owner, SHORT_URLS, "short")
    text = "See https://example.org/a/very/long/path/that/goes/on/and/on/for/ever"
    before = part_lengths("mastodon", [text], account=short)[0].count
    assert before == len("See ") + 23, "Mastodon's documented 23 until the server is read"
    services.server_limits_refresh()
    assert part_lengths("mastodon", [text], account=short)[0].count == len("See ") + 10
