"""Signing up in a language: the page, the saved choice and the welcome all follow it."""

from __future__ import annotations

import pytest

from chorus.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_up(client, *, language, accept, email="ny@example.org"):
    return client.post(
        "/signup/",
        {
            "full_name": "Nyambura",
            "email": email,
            "password": PASSWORD,
            "workspace_name": "Pwani Tea",
            "workspace_timezone": "UTC",
            "language": language,
        },
        HTTP_ACCEPT_LANGUAGE=accept,
        follow=True,
    )


def test_the_sign_up_page_speaks_and_preselects_the_browsers_language(client):
    response = client.get("/signup/", HTTP_ACCEPT_LANGUAGE="km-KH,km;q=0.9,en;q=0.5")
    html = response.content.decode()
    assert "បង្កើតគណនីរបស់អ្នក" in html  # "Create your account"
    assert '<option value="km" selected>' in html
    english = client.get("/signup/", HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    assert '<option value="en" selected>' in english


@pytest.mark.parametrize(
    ("language", "accept", "welcome", "overview"),
    [
        ("th", "en-US,en;q=0.9", "ยินดีต้อนรับสู่ Chorus", "ภาพรวม"),
        ("km", "th-TH", "សូមស្វាគមន៍មកកាន់ Chorus។", "ទិដ្ឋភាពទូទៅ"),
        ("sw", "hy", "Karibu Chorus.", "Muhtasari"),
        ("hy", "sw", "Բարի գալուստ Chorus։", "Ակնարկ"),
    ],
    ids=["th", "km", "sw", "hy"],
)
def test_the_welcome_and_the_first_page_are_in_the_chosen_language(
    client, language, accept, welcome, overview
):
    response = sign_up(client, language=language, accept=accept)
    html = response.content.decode()
    assert User.objects.get(email="ny@example.org").language == language
    assert welcome in html
    assert "Welcome to Chorus" not in html
    assert overview in html  # the navigation, on the page the welcome lands on
    assert f'<html lang="{language}">' in html
