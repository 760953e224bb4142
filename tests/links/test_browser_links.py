"""The whole path in a real browser: a short link in a post, a landing page on the brand's
site (a local test site carrying Chorus's snippet), a purchase, and the conversion
attributed to the right post and campaign."""

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from chorus.links import selectors, services, shortening
from chorus.links.models import Click, Conversion
from chorus.networks.models import SocialAccount
from chorus.publishing import campaigns
from chorus.publishing import services as publishing
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>Mekong Coffee</title>
<script src="{chorus}/static/links/chorus-conversions.js" data-key="{key}"
        data-endpoint="{chorus}/t/conversion"></script></head>
<body><h1>Rainy season beans</h1>
<button id="buy">Buy</button><p id="result"></p>
<script>
document.getElementById("buy").addEventListener("click", function () {{
  window.chorusq.push(["conversion", {{order_id: "MC-1001", value: 450, currency: "THB"}}])
    .then(function (answer) {{
      document.getElementById("result").textContent = JSON.stringify(answer);
    }});
}});
</script></body></html>"""


@pytest.fixture
def brand_site(live_server):
    """The brand's own site on another origin, serving one landing page."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = pages["landing"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


PERSON = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture
def person(browser, live_server):
    """A browser as a person uses it: headless Chromium names itself HeadlessChrome, which
    the redirect rightly takes for a bot and does not count."""
    context = browser.new_context(base_url=live_server.url, user_agent=PERSON)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_short_link_to_landing_to_conversion_is_attributed(person, live_server, owner, brand_site):
    page = person
    pages, site = brand_site
    link_settings = services.settings_update(
        actor=owner,
        track_links=True,
        utm_medium="social",
        attribution_days=7,
        store_ip=False,
        short_domain="",
    )
    pages["landing"] = LANDING.format(chorus=live_server.url, key=link_settings.site_key)
    account = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="d",
        handle="d@m.example",
        identity={"server_url": "https://m.example"},
    )
    campaign = campaigns.campaign_save(actor=owner, name="Rainy Season")
    post = publishing.post_save(
        actor=owner,
        variants=[publishing.VariantInput(account_id=account.pk, text=f"New! {site}/beans")],
        campaign_id=campaign.pk,
    )
    other = publishing.post_save(
        actor=owner,
        variants=[publishing.VariantInput(account_id=account.pk, text=f"Old {site}/beans")],
    )
    today = timezone.localdate()
    goal = services.goal_save(
        actor=owner,
        name="Rainy season sales",
        metric="conversions",
        campaign_id=campaign.pk,
        starts_on=today,
        deadline=today + dt.timedelta(days=29),
        baseline_mode="entered",
        baseline=0,
        target_kind="absolute",
        target_value=3,
    )
    assert selectors.goal_progress(goal).actual == 0
    variant = post.variants.select_related("post", "account").get()
    link = shortening.link_for(variant, f"{site}/beans", link_settings)
    shortening.link_for(
        other.variants.select_related("post", "account").get(), f"{site}/beans", link_settings
    )

    page.goto(f"{live_server.url}/l/{link.code}")
    assert page.url.startswith(f"{site}/beans?")
    assert f"utm_content=post-{post.pk}" in page.url and "chorus_click=" in page.url
    assert "utm_campaign=rainy-season" in page.url
    page.click("#buy")
    page.wait_for_function("document.getElementById('result').textContent !== ''")
    assert page.text_content("#result") == '{"recorded":true,"attributed":true}'

    conversion = Conversion.objects.get()
    assert conversion.order_id == "MC-1001" and str(conversion.value) == "450.00"
    assert conversion.post_id == post.pk and conversion.campaign_id == campaign.pk
    assert conversion.network == "mastodon" and conversion.account_id == account.pk
    assert conversion.click == Click.objects.get()

    # The thank-you page reloaded: the same order counts once.
    page.click("#buy")
    page.wait_for_function("document.getElementById('result').textContent.includes('false')")
    assert Conversion.objects.count() == 1

    # The campaign's goal moved: its page shows the conversion, one third of the target.
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", owner.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.goto(f"{live_server.url}/goals/{goal.pk}/")
    assert page.text_content("#goal-actual").strip() == "1"
    assert page.get_attribute("progress", "value") == "33"


def test_a_headless_browser_is_redirected_but_not_counted(page, live_server, owner, make_link):
    link = make_link(owner.workspace, target=f"{live_server.url}/login/")
    page.goto(f"/l/{link.code}")
    assert page.url == f"{live_server.url}/login/"  # no click id: not a person's click
    from chorus.links import clicks

    clicks.buffer.flush()
    assert not Click.objects.exists()


def test_an_unknown_short_link_shows_a_page_and_goes_nowhere(page, live_server):
    page.goto(f"{live_server.url}/l/doesNotExist")
    assert page.url == f"{live_server.url}/l/doesNotExist"
    assert "This link does not exist" in page.text_content("#link-unavailable")
