"""Conversions: the API and the site beacon, idempotent per order, last-click attribution
within the workspace's window, unattributed ones kept and counted apart."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from chorus.links import clicks, selectors, services
from chorus.links.models import Click, Conversion, ConversionSource, LinkSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_link(owner, make_link):
    from chorus.networks.models import SocialAccount
    from chorus.publishing import campaigns
    from chorus.publishing import services as publishing

    account = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="b",
        handle="b@m.example",
        identity={"server_url": "https://m.example"},
    )
    campaign = campaigns.campaign_save(actor=owner, name="Rainy season")
    post = publishing.post_save(
        actor=owner,
        variants=[publishing.VariantInput(account_id=account.pk, text="New beans")],
        campaign_id=campaign.pk,
    )
    return make_link(owner.workspace, post=post, account=account, post_label="New beans")


def click_on(link, *, at=None, token="tok"):
    return Click.objects.create(link=link, token=token, at=at or timezone.now())


def record(owner, **details):
    return services.conversion_record(
        workspace=owner.workspace, source=ConversionSource.API, **details
    )


def test_a_conversion_is_attributed_to_the_clicked_post_campaign_account_and_network(
    owner, post_link
):
    click_on(post_link)
    conversion, created = record(
        owner, order_id="A-1", value="25.50", currency="thb", click_token="tok"
    )
    assert created and conversion.attributed
    assert conversion.click.token == "tok" and conversion.link == post_link
    assert conversion.post == post_link.post and conversion.campaign == post_link.campaign
    assert conversion.account == post_link.account and conversion.network == "mastodon"
    assert (conversion.value, conversion.currency) == (Decimal("25.50"), "THB")


def test_an_order_reported_twice_counts_once(owner, post_link):
    first, created = record(owner, order_id="A-2", value=10, currency="THB")
    again, created_again = record(owner, order_id="A-2", value=99, currency="THB")
    assert created and not created_again and again.pk == first.pk
    assert Conversion.objects.count() == 1 and again.value == Decimal("10.00")


def test_the_window_is_the_workspaces_and_defaults_to_seven_days(owner, post_link):
    now = timezone.now()
    click_on(post_link, at=now - dt.timedelta(days=6, hours=23), token="recent")
    click_on(post_link, at=now - dt.timedelta(days=7, hours=1), token="old")
    inside, _ = record(owner, order_id="in", click_token="recent")
    outside, _ = record(owner, order_id="out", click_token="old")
    assert inside.attributed
    assert not outside.attributed and outside.unattributed_reason == services.OUTSIDE_WINDOW
    services.link_settings_for(owner.workspace)
    LinkSettings.objects.filter(workspace=owner.workspace).update(attribution_days=30)
    from chorus.links import shortening

    shortening.forget_settings(owner.workspace_id)
    assert services.conversion_reattribute(conversion=outside).attributed


def test_utm_parameters_attribute_to_the_last_click_on_that_post_and_network(owner, post_link):
    now = timezone.now()
    click_on(post_link, at=now - dt.timedelta(days=2), token="earlier")
    click_on(post_link, at=now - dt.timedelta(hours=1), token="later")
    utm = {"utm_source": "mastodon", "utm_content": f"post-{post_link.post_id}"}
    conversion, _ = record(owner, order_id="u-1", utm=utm)
    assert conversion.click.token == "later"
    other_network, _ = record(owner, order_id="u-2", utm={**utm, "utm_source": "bluesky"})
    assert not other_network.attributed and other_network.unattributed_reason == "no_click"


def test_an_unknown_click_id_is_kept_unattributed_and_attributed_once_the_click_lands(
    owner, post_link
):
    conversion, _ = record(owner, order_id="late", click_token="notyet")
    assert not conversion.attributed
    assert conversion.unattributed_reason == services.UNKNOWN_CLICK
    # The click was still in another process's buffer; when it is written, it is matched.
    services.clicks_write(
        [clicks.PendingClick(post_link.pk, "notyet", timezone.now(), "", "mobile", None)]
    )
    conversion.refresh_from_db()
    assert conversion.attributed and conversion.post == post_link.post


def test_unattributed_conversions_are_counted_apart(owner, post_link):
    click_on(post_link)
    record(owner, order_id="a", value=10, currency="THB", click_token="tok")
    record(owner, order_id="b", value=5, currency="THB")
    summary = selectors.conversion_summary(owner)
    assert (summary["attributed"], summary["unattributed"]) == (1, 1)
    assert summary["values"] == [
        {"currency": "THB", "attributed": Decimal("10.00"), "unattributed": Decimal("5.00")}
    ]


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"value": "-1", "currency": "THB"}, "value"),
        ({"value": "abc", "currency": "THB"}, "value"),
        ({"value": "NaN", "currency": "THB"}, "value"),
        ({"value": "10"}, "currency"),
        ({"value": "10", "currency": "baht"}, "currency"),
        ({"order_id": "has space"}, "order_id"),
    ],
)
def test_bad_conversions_are_refused_with_the_field(owner, details, field):
    from chorus.core.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        record(owner, **details)
    assert refused.value.field == field
    assert Conversion.objects.count() == 0


def test_hostile_utm_values_are_dropped_not_stored(owner):
    conversion, _ = record(
        owner,
        utm={"utm_campaign": "<script>alert(1)</script>", "utm_medium": "social", "evil": "x"},
    )
    assert conversion.utm == {"utm_medium": "social"}


# --------------------------------------------------------------------------- API


def test_the_api_records_once_per_order_with_a_scoped_token(owner, api, api_token_for, post_link):
    click_on(post_link, token="api-click")
    token = api_token_for(owner, ["conversions:write"])
    body = {"order_id": "W-9", "value": "12.00", "currency": "USD", "click_id": "api-click"}
    first = api.post("/conversions", body, token=token)
    assert first.status_code == 201, first.content
    assert first.json()["attributed"] and first.json()["post_id"] == post_link.post_id
    assert api.post("/conversions", body, token=token).status_code == 200
    assert Conversion.objects.count() == 1
    reader = api_token_for(owner, ["links:read"])
    assert api.post("/conversions", body, token=reader).status_code == 403
    listed = api.get("/conversions?attributed=true", token=reader).json()
    assert [c["order_id"] for c in listed["items"]] == ["W-9"]


def test_the_api_refuses_oversized_and_malformed_payloads(owner, api, api_token_for):
    token = api_token_for(owner, ["conversions:write"])
    huge = {"order_id": "x" * 5000}
    assert api.post("/conversions", huge, token=token).status_code == 422
    bad = api.post("/conversions", {"value": "-3", "currency": "THB"}, token=token)
    assert bad.status_code == 422
    assert (
        api.post("/conversions", {"utm": {"utm_source": "y" * 200}}, token=token).status_code == 422
    )
    assert Conversion.objects.count() == 0


# --------------------------------------------------------------------------- beacon


def beacon(client, payload, **extra):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post("/t/conversion", data=body, content_type="text/plain", **extra)


def test_the_site_beacon_records_with_the_site_key_only(client, owner, post_link):
    site_key = services.link_settings_for(owner.workspace).site_key
    click_on(post_link, token="site-click")
    payload = {
        "key": site_key,
        "order_id": "S-1",
        "value": 30,
        "currency": "THB",
        "click": "site-click",
    }
    response = beacon(client, payload)
    assert response.status_code == 201 and response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {"recorded": True, "attributed": True}
    assert beacon(client, payload).status_code == 200  # the thank-you page reloaded
    assert beacon(client, {**payload, "key": "site_wrong"}).status_code == 403
    assert Conversion.objects.get().source == ConversionSource.SNIPPET


def test_the_beacon_refuses_malformed_and_oversized_bodies(client, owner):
    site_key = services.link_settings_for(owner.workspace).site_key
    assert beacon(client, b"not json").status_code == 400
    assert beacon(client, b"[1, 2]").status_code == 400
    assert beacon(client, {"key": site_key, "order_id": "o" * 5000}).status_code == 413
    assert beacon(client, {"key": site_key, "value": "x", "currency": "THB"}).status_code == 400
    assert client.get("/t/conversion").status_code == 405
    assert Conversion.objects.count() == 0


def test_the_periodic_task_attributes_conversions_whose_click_came_later(owner, post_link):
    from chorus.links.tasks import attribute_waiting_conversions

    conversion, _ = record(owner, order_id="wait", click_token="written-later")
    Click.objects.create(link=post_link, token="written-later", at=timezone.now())
    attribute_waiting_conversions.call_local()
    conversion.refresh_from_db()
    assert conversion.attributed and conversion.campaign == post_link.campaign
