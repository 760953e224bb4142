"""Issue 10.1 and 10.8: a strict Content-Security-Policy on every page, and cookies and HSTS
that follow the site address."""

import pytest
from django.test import Client

from chorus import config

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/", "/posts/new/", "/governance/policies/new/", "/api/v1/docs"])
def test_every_page_forbids_inline_script_and_foreign_origins(owner, path):
    client = Client()
    client.force_login(owner.user)
    response = client.get(path)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_no_template_carries_inline_script_handlers_or_styles(owner):
    """What the policy would block, found in the rendered pages rather than in the browser."""
    client = Client()
    client.force_login(owner.user)
    for path in ["/", "/posts/new/", "/calendar/", "/governance/policies/new/", "/members/"]:
        html = client.get(path).content.decode()
        for forbidden in ("<script>", " onclick=", " onchange=", " onsubmit=", " style=", "hx-on"):
            assert forbidden not in html, f"{path} has {forbidden}"


def test_https_site_gets_secure_cookies_hsts_and_the_proxy_header(monkeypatch):
    for name in ("CHORUS_SECURE_COOKIES", "CHORUS_HSTS_SECONDS", "CHORUS_TRUST_X_FORWARDED_PROTO"):
        monkeypatch.delenv(name, raising=False)
    secure = config.https_settings("https://chorus.example.org")
    assert secure["SESSION_COOKIE_SECURE"] and secure["CSRF_COOKIE_SECURE"]
    assert secure["SECURE_HSTS_SECONDS"] == 31536000
    assert secure["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    plain = config.https_settings("http://127.0.0.1:8000")
    assert not plain["SESSION_COOKIE_SECURE"] and plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["SECURE_PROXY_SSL_HEADER"] is None
    monkeypatch.setenv("CHORUS_HSTS_SECONDS", "soon")
    with pytest.raises(config.ConfigError, match="CHORUS_HSTS_SECONDS"):
        config.https_settings("https://chorus.example.org")
    with pytest.raises(config.ConfigError, match="CHORUS_SITE_URL"):
        config.https_settings("chorus.example.org")


def test_https_requests_get_hsts_and_secure_session_cookies(settings, owner, monkeypatch):
    from tests.conftest import PASSWORD

    for name in ("CHORUS_SECURE_COOKIES", "CHORUS_HSTS_SECONDS", "CHORUS_TRUST_X_FORWARDED_PROTO"):
        monkeypatch.delenv(name, raising=False)
    for name, value in config.https_settings("https://chorus.example.org").items():
        setattr(settings, name, value)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    response = client.post(
        "/login/", {"username": owner.user.email, "password": PASSWORD}, follow=False
    )
    assert response.status_code == 302
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True
    fresh = Client(HTTP_X_FORWARDED_PROTO="https").get("/login/")
    assert fresh.cookies["csrftoken"]["secure"] is True
