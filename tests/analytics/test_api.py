"""The analytics API answers with the same figures as the pages, within the member's access."""

from datetime import date

import pytest

from chorus.accounts.scopes import Scope
from chorus.networks.models import AccountGrant

pytestmark = pytest.mark.django_db


def test_figures_and_days_of_a_period(api, api_token_for, owner, history):
    token = api_token_for(owner, [Scope.ANALYTICS_READ])
    answer = api.get("/analytics/figures?start=2026-11-01&end=2026-11-30", token=token)
    assert answer.status_code == 200, answer.content
    by_key = {f["key"]: f for f in answer.json()["figures"]}
    assert by_key["engagements"]["value"] == 7 and by_key["engagements"]["previous"] == 0
    assert by_key["impressions"]["value"] is None  # not reported, never zero
    assert by_key["engagement_rate"]["unit"] == "percent"
    days = api.get("/analytics/days?start=2026-11-20&end=2026-11-22", token=token).json()
    assert [d["engagements"] for d in days] == [6, 2, -1]
    assert days[0]["day"] == str(date(2026, 11, 20))


def test_a_member_without_the_analytics_level_is_refused_by_name(
    api, api_token_for, owner, make_member, history
):
    viewer = make_member("viewer", workspace=owner.workspace)
    token = api_token_for(viewer, [Scope.ANALYTICS_READ])
    refused = api.get(f"/analytics/figures?account={history.pk}", token=token)
    assert refused.status_code == 403
    assert "brand@example.social" in refused.json()["error"]["message"]
    empty = api.get("/analytics/figures", token=token).json()
    assert empty["accounts"] == []
    AccountGrant.every.create(socialaccount=history, membership=viewer, analytics=True)
    allowed = api.get(f"/analytics/figures?account={history.pk}", token=token)
    assert allowed.status_code == 200 and allowed.json()["accounts"] == [history.pk]


def test_a_backwards_period_is_a_clear_error(api, api_token_for, owner, history):
    token = api_token_for(owner, [Scope.ANALYTICS_READ])
    answer = api.get("/analytics/figures?start=2026-11-30&end=2026-11-01", token=token)
    assert answer.status_code == 400
    assert "ends before it starts" in answer.json()["error"]["message"]


def test_best_times_say_when_they_are_a_default(api, api_token_for, owner, history):
    token = api_token_for(owner, [Scope.ANALYTICS_READ])
    best = api.get(f"/analytics/best-times?account={history.pk}", token=token).json()
    assert best["is_default"] is True and len(best["suggestions"]) == 3
    assert len(best["grid"]) == 7 and len(best["grid"][0]) == 24
