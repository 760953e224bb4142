"""Every e-mailed link starts with the site's one public address; times are the recipient's."""

import datetime as dt
import os

import pytest
from django.core import mail

from chorus.accounts import services
from chorus.accounts.models import Invitation, User
from chorus.accounts.roles import Role

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8100"


def links_in(body: str) -> list[str]:
    return [word for word in body.split() if "://" in word]


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    return SITE


def invite(owner, email, capture):
    with capture(execute=True):
        invitation = services.invitation_create(actor=owner, email=email, role=Role.EDITOR)
    expires = dt.datetime(2026, 12, 9, 8, 38, tzinfo=dt.UTC)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=expires)
    mail.outbox.clear()
    from chorus.accounts.tasks import send_invitation_email

    send_invitation_email.call_local(invitation.pk)
    (message,) = mail.outbox
    return message


@pytest.fixture(autouse=True)
def _far_from_expiry(monkeypatch):
    """The fixed expiry above is in the future for the invitation to be open."""
    monkeypatch.setattr(
        Invitation, "is_open", property(lambda self: not self.accepted_at and not self.revoked_at)
    )


def test_invitation_link_and_expiry_for_a_newcomer(site, owner, django_capture_on_commit_callbacks):
    owner.workspace.timezone = "Asia/Phnom_Penh"
    owner.workspace.save()
    message = invite(owner, "new@example.org", django_capture_on_commit_callbacks)
    assert [link.startswith(SITE + "/invitations/") for link in links_in(message.body)] == [True]
    # the workspace's zone (a newcomer has none yet), named, in the app's one date format;
    # one full stop at the end (Django's "p.m." used to give "p.m..")
    assert "until Wed 9 Dec 2026, 15:38 (Asia/Phnom_Penh).\n" in message.body
    assert ".." not in message.body


def test_invitation_to_a_chorus_user_uses_their_language_and_zone(
    site, owner, make_member, django_capture_on_commit_callbacks
):
    other = make_member("owner", email="mali@example.org")  # in another workspace
    User.objects.filter(pk=other.user_id).update(language="th", timezone="Asia/Bangkok")
    message = invite(owner, "mali@example.org", django_capture_on_commit_callbacks)
    assert "15:38" in message.body and "(Asia/Bangkok)" in message.body
    assert "ธ.ค. 2026" in message.body  # December, in Thai (the app's Thai date format)


def test_notification_and_password_reset_links_use_the_site_address(
    site, owner, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(user=owner.user, workspace=owner.workspace, message="Look", url="/posts/8/")
    assert links_in(mail.outbox[-1].body) == [SITE + "/posts/8/"]
    client.post("/password/reset/", {"email": owner.user.email}, HTTP_HOST="localhost")
    (link,) = links_in(mail.outbox[-1].body)
    assert link.startswith(SITE + "/password/reset/")


def test_chorus_run_defaults_the_site_address_to_what_it_serves(monkeypatch):
    from chorus.cli import default_site_url

    monkeypatch.delenv("CHORUS_SITE_URL", raising=False)
    default_site_url("127.0.0.1", 8100)
    assert os.environ["CHORUS_SITE_URL"] == "http://127.0.0.1:8100"
    monkeypatch.delenv("CHORUS_SITE_URL")
    default_site_url("::", 8100)
    assert os.environ["CHORUS_SITE_URL"] == "http://[::1]:8100"
    monkeypatch.setenv("CHORUS_SITE_URL", "https://chorus.example.org")
    default_site_url("0.0.0.0", 8100)  # noqa: S104
    assert os.environ["CHORUS_SITE_URL"] == "https://chorus.example.org"
