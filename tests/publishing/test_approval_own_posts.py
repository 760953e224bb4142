"""Who approves a post its only possible approver wrote: a workflow setting, default no."""

import pytest
from django.core import mail
from tests.publishing.test_approvals import submit

from chorus.accounts.roles import Role
from chorus.core.errors import NotAllowed
from chorus.publishing import approval_workflows, approvals
from chorus.publishing.approval_workflows import StepInput
from chorus.publishing.models import PostState

pytestmark = pytest.mark.django_db


def every_post_needs_admin(owner, **options):
    return approval_workflows.workflow_save(
        actor=owner,
        name="Every post",
        steps=[StepInput(role=Role.ADMIN.value)],
        applies_to_all=True,
        **options,
    )


def mail_to(member):
    return [m.subject for m in mail.outbox if m.to == [member.user.email]]


def test_the_approval_request_goes_to_the_approvers_not_the_author(
    owner, make_member, mastodon_account, django_capture_on_commit_callbacks
):
    admin = make_member(Role.ADMIN, workspace=owner.workspace)
    every_post_needs_admin(owner)
    with django_capture_on_commit_callbacks(execute=True):
        post = submit(owner, mastodon_account)
    found = approvals.approvers_for(post)
    assert [m.pk for m in found.members] == [admin.pk]
    assert not found.fallback and not found.only_author
    assert any("waits for your approval" in s for s in mail_to(admin))
    assert mail_to(owner) == []


def test_the_only_admin_is_the_author_told_honestly_and_may_not_approve(
    owner, mastodon_account, client, django_capture_on_commit_callbacks
):
    every_post_needs_admin(owner)
    with django_capture_on_commit_callbacks(execute=True):
        post = submit(owner, mastodon_account)
    found = approvals.approvers_for(post)
    assert found.members == [] and found.only_author and not found.fallback
    (subject,) = mail_to(owner)
    assert "waits for your approval" not in subject and "only you could approve" in subject
    with pytest.raises(NotAllowed, match="authors approve their own"):
        approvals.post_approve(actor=owner, post=post)
    client.force_login(owner.user)
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert 'id="approval-only-author"' in page
    assert "Nobody this step names is still in the workspace" not in page


def test_a_workflow_may_let_authors_approve_their_own_posts(
    owner, mastodon_account, api, api_token_for
):
    every_post_needs_admin(owner, authors_approve_own=True)
    post = submit(owner, mastodon_account)
    assert [m.pk for m in approvals.approvers_for(post).members] == [owner.pk]
    assert approvals.post_approve(actor=owner, post=post).state == PostState.SCHEDULED
    token = api_token_for(owner)
    created = api.post(
        "/approval-workflows",
        {"name": "Self", "steps": [{"role": "admin"}], "authors_approve_own": True},
        token=token,
    )
    assert created.status_code == 409  # one workspace workflow already: the setting is read back
    listed = api.get("/approval-workflows", token=token).json()
    assert [w["authors_approve_own"] for w in listed] == [True]


def test_the_setting_is_off_by_default_and_on_the_form(owner, client):
    client.force_login(owner.user)
    page = client.get("/approvals/workflows/new/").content.decode()
    assert (
        'name="authors_approve_own"' in page
        and "checked" not in page.split('name="authors_approve_own"')[1].split(">")[0]
    )
    response = client.post(
        "/approvals/workflows/new/",
        {"name": "Mine", "step-1-role": "admin", "authors_approve_own": "on"},
    )
    assert response.status_code == 302
    assert approval_workflows.workflows_of(owner).get().authors_approve_own is True
