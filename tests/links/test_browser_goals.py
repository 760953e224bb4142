"""Planning a campaign step by step, then its goal's page, in a real browser."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from chorus.links.models import Goal
from chorus.publishing.models import Campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_campaign_is_planned_in_order_and_lands_on_its_calendar(signed_in_page, owner):
    page = signed_in_page
    today = timezone.localdate()
    page.goto("/campaigns/")
    page.click("#new-campaign")
    assert page.text_content("#plan-steps li[aria-current=step]").strip() == "Why"
    page.click("#plan-next")  # nothing filled in: the name is asked for, no step skipped
    assert page.locator("#id_name:invalid").count() == 1
    page.fill("#id_name", "Rainy season")
    page.fill("#id_reason", "Sell the new beans before the holidays")
    page.click("#plan-next")
    assert page.text_content("#plan-steps li[aria-current=step]").strip() == "Who for"
    page.fill("#id_audience", "Coffee drinkers in Phnom Penh")
    page.click("#plan-next")
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_ends_on", (today + dt.timedelta(days=30)).isoformat())
    page.click("#plan-next")
    page.fill("#id_budget_amount", "1500")
    page.fill("#id_budget_currency", "usd")
    page.click("#plan-next")

    campaign = Campaign.objects.get(name="Rainy season")
    assert campaign.audience == "Coffee drinkers in Phnom Penh"
    assert (campaign.budget_amount, campaign.budget_currency) == (Decimal(1500), "USD")
    assert campaign.owner_id == owner.pk and campaign.ends_on == today + dt.timedelta(days=30)
    assert page.text_content("#plan-steps li[aria-current=step]").strip() == "Goals"
    assert page.input_value("#id_campaign") == str(campaign.pk)
    assert page.input_value("#id_deadline") == campaign.ends_on.isoformat()
    page.fill("#id_name", "Sales from social")
    page.select_option("#id_metric", "conversions")
    page.select_option("#id_baseline_mode", "entered")
    page.fill("#id_baseline", "10")
    page.select_option("#id_target_kind", "percent")
    page.fill("#id_target_value", "15")
    page.click("#save-goal")
    assert "Sales from social" in page.text_content("#plan-goals")
    goal = Goal.objects.get(campaign=campaign)
    assert goal.target == Decimal("11.50")
    page.click("#plan-done")
    page.wait_for_url(f"**/calendar/?campaign={campaign.pk}*")


def test_a_goal_is_edited_from_its_page_and_a_passed_deadline_is_refused(signed_in_page, owner):
    from chorus.links import services

    page = signed_in_page
    today = timezone.localdate()
    goal = services.goal_save(
        actor=owner,
        name="Clicks up",
        metric="clicks",
        starts_on=today,
        deadline=today + dt.timedelta(days=9),
        baseline_mode="entered",
        baseline=0,
        target_kind="absolute",
        target_value=100,
    )
    page.goto(f"/goals/{goal.pk}/")
    assert page.text_content("#goal-status").strip() in {"On track", "At risk"}
    page.click("#goal-edit")
    page.fill("#id_deadline", (today - dt.timedelta(days=1)).isoformat())
    page.click("#goal-form button[type=submit]")
    assert "The deadline must be on or after the start." in page.text_content("#goal-form")
    page.fill("#id_starts_on", (today - dt.timedelta(days=20)).isoformat())
    page.click("#goal-form button[type=submit]")
    assert "The deadline has passed" in page.text_content("#goal-form")
    page.fill("#id_deadline", (today + dt.timedelta(days=20)).isoformat())
    page.fill("#id_target_value", "250")
    page.click("#goal-form button[type=submit]")
    page.wait_for_url(f"**/goals/{goal.pk}/")
    goal.refresh_from_db()
    assert goal.target == Decimal(250) and goal.deadline == today + dt.timedelta(days=20)
