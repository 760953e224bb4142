"""Approval e-mails: links on the site's public address, times in the reader's zone."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from tests.publishing.test_approvals import due, grant, submit

from chorus.accounts.models import User
from chorus.accounts.roles import Role
from chorus.publishing import approvals

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8100"


@pytest.fixture
def contributor(owner, make_member, mastodon_account):
    member = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    grant(owner, mastodon_account, member, "publish")
    return member


def test_expiry_notice_shows_the_time_in_the_authors_zone_and_language(
    settings, owner, contributor, mastodon_account, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    User.objects.filter(pk=contributor.user_id).update(language="th", timezone="Asia/Bangkok")
    contributor.user.refresh_from_db()
    at = (timezone.now() + timedelta(days=2)).replace(hour=8, minute=38, second=0, microsecond=0)
    post = submit(contributor, mastodon_account, at=at)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.approvals_expire(now=due(post)) == 1
    (message,) = [m for m in mail.outbox if m.to == [contributor.user.email]]
    assert "15:38 น. (Asia/Bangkok)" in message.body  # 08:38 UTC, read in Bangkok, in Thai
    assert f"{SITE}/posts/{post.pk}/" in message.body


def test_review_link_and_approver_mail_use_the_site_address(
    settings,
    owner,
    contributor,
    mastodon_account,
    api,
    api_token_for,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = SITE
    with django_capture_on_commit_callbacks(execute=True):
        post = submit(contributor, mastodon_account)
    assert any(f"{SITE}/approvals/" in m.body for m in mail.outbox if m.to == [owner.user.email])
    response = api.post(
        f"/posts/{post.pk}/review-link", {"reviewer": "Client"}, token=api_token_for(owner)
    )
    assert response.status_code == 201, response.content
    assert response.json()["url"].startswith(SITE + "/review/")
