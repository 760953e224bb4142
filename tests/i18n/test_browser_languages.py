"""Switching to Khmer or Thai in a real browser: navigation and forms, with no English left."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words that stay Latin in every language: product and format names, the test's own data.
ALLOWED = {"Chorus", "API", "CSV", "UTC", "CW", "Acme", "example", "com", "org", "https", "http"}


def english_left(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z'’]+", text))
    return {w for w in words if w not in ALLOWED and not w.startswith("person")}


@pytest.mark.parametrize(
    ("lang", "saved", "policy_heading"),
    [
        ("km", "បានរក្សាទុកចំណូលចិត្ត។", "គោលការណ៍ថ្មី"),
        ("th", "บันทึกการตั้งค่าแล้ว", "นโยบายใหม่"),
    ],
)
def test_switch_language_then_navigation_and_forms_are_fully_translated(
    signed_in_page, lang, saved, policy_heading
):
    page = signed_in_page
    assert "Overview" in page.inner_text("nav")
    page.goto("/me/")
    page.select_option("#id_language", lang)
    page.click("main form button[type=submit]")
    page.wait_for_selector(f'html[lang="{lang}"]')

    assert saved in page.inner_text(".messages")
    nav = page.inner_text("nav")
    assert len(nav.split()) >= 8
    assert not english_left(nav), nav
    sidebar = page.inner_text("aside")
    assert not english_left(sidebar), sidebar
    # The preferences form itself: its labels, help texts and button.
    labels = " ".join(
        page.locator("main label, main .muted, main button, main h1").all_inner_texts()
    )
    assert not english_left(labels), labels

    # A form with help texts, choices and a validation error.
    page.goto("/governance/policies/new/")
    assert policy_heading in page.inner_text("main h1")
    form = page.inner_text("main form")
    assert not english_left(form), form
    page.click("main form button[type=submit]")
    page.wait_for_selector(".errorlist")
    errors = page.inner_text("main form")
    assert not english_left(errors), errors
