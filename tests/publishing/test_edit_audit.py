"""Moving a submitted post to another campaign or another day is audited as an edit."""

import datetime as dt

import pytest
from tests.publishing.test_views import account, client_for, future_day  # noqa: F401

from chorus.governance.models import AuditAction, AuditEntry
from chorus.publishing import campaigns, services

pytestmark = pytest.mark.django_db


def edits(owner):
    return list(
        AuditEntry.objects.filter(workspace=owner.workspace, action=AuditAction.POST_EDITED)
    )


@pytest.fixture
def scheduled(owner, account):  # noqa: F811
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="Boat race")]
    )
    at = dt.datetime.combine(future_day(20), dt.time(1, 15), tzinfo=dt.UTC)
    return services.post_schedule(actor=owner, post=post, at=at)


def test_changing_the_campaign_is_an_audited_edit(owner, account, scheduled):  # noqa: F811
    campaign = campaigns.campaign_save(actor=owner, name="Water festival", colour="#e8590c")
    assert edits(owner) == []
    services.post_save(
        actor=owner,
        post=scheduled,
        variants=[services.VariantInput(account_id=account.pk, text="Boat race")],
        campaign_id=campaign.pk,
    )
    (entry,) = edits(owner)
    assert entry.changes["campaign"] == {"before": None, "after": "Water festival"}


def test_dragging_to_another_day_is_an_audited_edit(owner, scheduled):
    day = future_day(22)
    response = client_for(owner).post(
        f"/posts/{scheduled.pk}/move/", {"date": day.isoformat(), "time": "08:15"}
    )
    assert response.status_code == 200, response.content
    (entry,) = edits(owner)
    (before,) = entry.changes["before"]["scheduled_at"].values()
    (after,) = entry.changes["after"]["scheduled_at"].values()
    assert before.startswith(future_day(20).isoformat()) and after.startswith(day.isoformat())


def test_the_audit_log_names_things_as_a_person_would(owner, account, scheduled):  # noqa: F811
    services.post_save(
        actor=owner,
        post=scheduled,
        variants=[services.VariantInput(account_id=account.pk, text="Boat race at dawn")],
    )
    page = client_for(owner).get("/governance/audit/").content.decode()
    assert "publishing.post" not in page and "networks.socialaccount" not in page
    row = page.split('data-action="post_edited"', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="/posts/{scheduled.pk}/">Boat race at dawn</a>' in row
    assert '<span class="muted">Post</span>' in row
