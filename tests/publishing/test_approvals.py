"""Approval workflows end to end: services, the dispatcher against a real Mastodon server,
expiry, outside review links, policies, per-account levels, the web pages and the API.

Each test tries to get a post out without its approval and checks the network stayed quiet.
"""

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from chorus.accounts.models import Notification
from chorus.accounts.roles import Role
from chorus.core.errors import Conflict, NotAllowed, ServiceError
from chorus.governance import services as governance
from chorus.governance.models import AuditAction, AuditEntry
from chorus.networks import services as network_services
from chorus.publishing import approval_workflows, approvals, campaigns, review_links, services
from chorus.publishing.approval_workflows import StepInput
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import (
    ApprovalStatus,
    Post,
    PostApproval,
    PostState,
    ReviewLink,
    Variant,
    VariantStatus,
)

pytestmark = pytest.mark.django_db

SOON = timedelta(minutes=30)


def compose(member, account, text="Hello from Chorus"):
    return services.post_save(
        actor=member, variants=[services.VariantInput(account_id=account.pk, text=text)]
    )


def submit(member, account, text="Hello from Chorus", at=None):
    post = compose(member, account, text)
    return services.post_schedule(actor=member, post=post, at=at or timezone.now() + SOON)


def grant(owner, account, member, *levels):
    network_services.account_set_member_levels(
        actor=owner, account=account, levels={member: set(levels)}
    )


@pytest.fixture
def contributor(owner, make_member, mastodon_account):
    member = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    grant(owner, mastodon_account, member, "publish")
    return member


@pytest.fixture
def admin(owner, make_member):
    return make_member(Role.ADMIN, workspace=owner.workspace)


def due(post):
    """A moment just after the post's time (the dispatcher's clock)."""
    return post.scheduled_at + timedelta(seconds=1)


def actions(workspace, action):
    return list(AuditEntry.objects.filter(workspace=workspace, action=action).order_by("seq"))


# --------------------------------------------------------------------------- the basic flow


def test_contributor_post_waits_unarmed_and_is_not_published_even_when_due(
    owner, contributor, mastodon_account, statuses_of
):
    post = submit(contributor, mastodon_account)
    assert post.state == PostState.PENDING_APPROVAL
    assert post.approval_status == ApprovalStatus.PENDING and post.approval_step == 1
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.DRAFT and variant.due_at is None
    assert variant.scheduled_at == post.scheduled_at
    assert Dispatcher().run_once(now=due(post)) == 0
    # Even if someone arms the variant behind the service's back, the dispatcher holds it.
    Variant.objects.filter(pk=variant.pk).update(
        status=VariantStatus.SCHEDULED, due_at=post.scheduled_at
    )
    Post.objects.filter(pk=post.pk).update(state=PostState.SCHEDULED)
    assert Dispatcher().run_once(now=due(post)) == 1
    variant.refresh_from_db()
    assert variant.status == VariantStatus.HELD and "needs approval" in variant.last_error
    assert statuses_of(mastodon_account) == []
    # the admins were told there is something to approve
    assert Notification.objects.filter(user=owner.user, url="/approvals/").exists()


def test_approved_post_is_published_by_the_dispatcher(
    owner, contributor, mastodon_account, statuses_of
):
    post = submit(contributor, mastodon_account, "Approved words")
    assert [p.pk for p in approvals.approvals_waiting_for(owner)] == [post.pk]
    assert approvals.approvals_waiting_for(contributor) == []  # never one's own
    post = approvals.post_approve(actor=owner, post=post, comment="Good")
    assert post.state == PostState.SCHEDULED and post.approval_status == ApprovalStatus.APPROVED
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.SCHEDULED and variant.due_at == post.scheduled_at
    assert Dispatcher().run_once() == 0  # not before its time
    assert Dispatcher().run_once(now=due(post)) == 1
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED
    assert [s["id"] for s in statuses_of(mastodon_account)] == [variant.remote_id]
    note = Notification.objects.filter(user=contributor.user).latest("pk")
    assert "approved" in note.message and note.url == f"/posts/{post.pk}/"
    entry = actions(owner.workspace, AuditAction.POST_APPROVED)[-1]
    assert entry.actor_id == owner.user_id and entry.changes["after"]["comment"] == "Good"
    assert actions(owner.workspace, AuditAction.POST_CREATED)


def test_editor_schedules_directly_without_approval(owner, make_member, mastodon_account):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    grant(owner, mastodon_account, editor, "publish")
    post = submit(editor, mastodon_account)
    assert post.state == PostState.SCHEDULED and post.approval_status == ""
    assert Variant.objects.get(post=post).status == VariantStatus.SCHEDULED


def test_rejection_notifies_the_author_with_the_comment(owner, contributor, mastodon_account):
    post = submit(contributor, mastodon_account)
    with pytest.raises(ServiceError):
        approvals.post_reject(actor=owner, post=post, comment="  ")  # a reason is required
    post = approvals.post_reject(actor=owner, post=post, comment="Wrong hashtag, use #Spring")
    assert post.state == PostState.REJECTED and post.approval_status == ApprovalStatus.REJECTED
    assert Variant.objects.get(post=post).status == VariantStatus.DRAFT
    note = Notification.objects.filter(user=contributor.user).latest("pk")
    assert "rejected" in note.message and "Wrong hashtag, use #Spring" in note.message
    assert actions(owner.workspace, AuditAction.POST_REJECTED)[-1].changes["after"]["comment"]
    with pytest.raises(Conflict):
        approvals.post_approve(actor=owner, post=post)  # rejected is not pending
    assert Dispatcher().run_once(now=due(post)) == 0
    # The author fixes it and submits again: a new round from step 1.
    post = services.post_save(
        actor=contributor,
        post=post,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Fixed #Spring")],
    )
    post = services.post_schedule(actor=contributor, post=post, at=timezone.now() + SOON)
    assert post.state == PostState.PENDING_APPROVAL and post.approval_round == 2


def test_editing_an_approved_post_sends_it_back_for_approval(
    owner, contributor, mastodon_account, statuses_of
):
    post = submit(contributor, mastodon_account, "Original")
    approvals.post_approve(actor=owner, post=post)
    post = services.post_save(
        actor=contributor,
        post=post,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Sneaky change")],
    )
    post.refresh_from_db()
    assert post.state == PostState.PENDING_APPROVAL and post.approval_round == 2
    assert post.approval_status == ApprovalStatus.PENDING
    assert Variant.objects.get(post=post).status == VariantStatus.DRAFT
    assert Dispatcher().run_once(now=due(post)) == 0
    assert statuses_of(mastodon_account) == []
    assert actions(owner.workspace, AuditAction.POST_EDITED)
    # an autosave that changes nothing does not reset anything
    approvals.post_approve(actor=owner, post=post)
    services.post_save(
        actor=contributor,
        post=post,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Sneaky change")],
    )
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED and post.approval_round == 2


def test_an_admin_editing_an_approved_contributor_post_also_resets_it(
    owner, contributor, mastodon_account
):
    post = submit(contributor, mastodon_account, "Original")
    approvals.post_approve(actor=owner, post=post)
    services.post_save(
        actor=owner,
        post=post,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Admin change")],
    )
    post.refresh_from_db()
    assert post.state == PostState.PENDING_APPROVAL


def test_retrying_or_publishing_now_cannot_skip_approval(owner, contributor, mastodon_account):
    post = compose(contributor, mastodon_account)
    with pytest.raises(ServiceError) as refused:
        services.post_publish_now(actor=contributor, post=post)
    assert refused.value.field == "scheduled_at"
    post = submit(contributor, mastodon_account)
    variant = Variant.objects.get(post=post)
    Variant.objects.filter(pk=variant.pk).update(status=VariantStatus.HELD)
    with pytest.raises(Conflict):
        services.variant_retry(actor=owner, variant=variant)


# --------------------------------------------------------------------------- who approves


def test_two_step_workflow_needs_both_steps_in_order(
    owner, admin, make_member, contributor, mastodon_account, statuses_of
):
    legal = make_member(Role.EDITOR, workspace=owner.workspace)
    approval_workflows.workflow_save(
        actor=owner,
        name="Legal then admin",
        steps=[StepInput(members=[legal.pk]), StepInput(role=Role.ADMIN)],
    )
    post = submit(contributor, mastodon_account)
    assert len(post.approval_plan) == 2
    # the admin cannot approve step 1 (legal's), and legal cannot skip ahead twice
    with pytest.raises(NotAllowed):
        approvals.post_approve(actor=admin, post=post)
    post = approvals.post_approve(actor=legal, post=post)
    assert post.state == PostState.PENDING_APPROVAL and post.approval_step == 2
    with pytest.raises(NotAllowed):
        approvals.post_approve(actor=legal, post=post)  # legal is an editor, step 2 wants admin
    assert Dispatcher().run_once(now=due(post)) == 0
    post = approvals.post_approve(actor=admin, post=post)
    assert post.state == PostState.SCHEDULED
    assert list(PostApproval.objects.filter(post=post).values_list("step", flat=True)) == [1, 2]
    Dispatcher().run_once(now=due(post))
    assert len(statuses_of(mastodon_account)) == 1


def test_campaign_workflow_wins_over_workspace_and_account_workflow_applies_to_all(
    owner, admin, make_member, mastodon_account
):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    grant(owner, mastodon_account, editor, "publish")
    approval_workflows.workflow_save(
        actor=owner,
        name="Brand account",
        account_id=mastodon_account.pk,
        applies_to_all=True,
        steps=[StepInput(members=[admin.pk])],
    )
    post = submit(editor, mastodon_account)  # an editor, yet this account wants approval
    assert post.state == PostState.PENDING_APPROVAL
    assert post.approval_plan[0]["members"] == [admin.pk]
    campaign = campaigns.campaign_save(actor=owner, name="Spring")
    approval_workflows.workflow_save(
        actor=owner,
        name="Spring campaign",
        campaign_id=campaign.pk,
        steps=[StepInput(role=Role.OWNER)],
    )
    in_campaign = services.post_save(
        actor=editor,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Spring!")],
        campaign_id=campaign.pk,
    )
    in_campaign = services.post_schedule(actor=editor, post=in_campaign, at=timezone.now() + SOON)
    assert in_campaign.approval_plan[0]["role"] == "owner"
    with pytest.raises(NotAllowed):
        approvals.post_approve(actor=admin, post=in_campaign)


def test_non_approver_roles_are_refused(owner, contributor, make_member, mastodon_account):
    post = submit(contributor, mastodon_account)
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    other_contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    for who in (viewer, other_contributor, contributor):
        with pytest.raises(NotAllowed):
            approvals.post_approve(actor=who, post=post)
    with pytest.raises(NotAllowed):  # default step: admins; an editor may approve by role
        approvals.post_approve(actor=editor, post=post)  # ... but not an admin-only step
    assert Post.objects.get(pk=post.pk).state == PostState.PENDING_APPROVAL


def test_step_with_no_approver_left_falls_back_to_admins(
    owner, admin, make_member, contributor, mastodon_account
):
    from chorus.accounts import services as account_services

    reviewer = make_member(Role.EDITOR, workspace=owner.workspace)
    approval_workflows.workflow_save(
        actor=owner, name="Only Rae", steps=[StepInput(members=[reviewer.pk])]
    )
    post = submit(contributor, mastodon_account)
    assert [m.pk for m in approvals.approvers_for(post).members] == [reviewer.pk]
    account_services.membership_remove(actor=owner, membership=reviewer)
    post.refresh_from_db()
    fallback = approvals.approvers_for(post)
    assert fallback.fallback and {m.pk for m in fallback.members} == {owner.pk, admin.pk}
    post = approvals.post_approve(actor=admin, post=post)
    assert post.state == PostState.SCHEDULED
    entry = actions(owner.workspace, AuditAction.POST_APPROVED)[-1]
    assert entry.changes["after"]["fallback_to_admins"] is True


def test_a_named_contributor_may_approve_their_step(
    owner, make_member, contributor, mastodon_account
):
    client_rep = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    approval_workflows.workflow_save(
        actor=owner, name="Client", steps=[StepInput(members=[client_rep.pk])]
    )
    post = submit(contributor, mastodon_account)
    approvals.post_approve(actor=client_rep, post=post)
    assert Post.objects.get(pk=post.pk).state == PostState.SCHEDULED


def test_edit_and_approve_in_one_step(owner, contributor, mastodon_account, statuses_of):
    post = submit(contributor, mastodon_account, "Typo heer")
    post = approvals.post_approve(
        actor=owner,
        post=post,
        comment="Fixed the typo",
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Typo here")],
    )
    assert post.state == PostState.SCHEDULED
    assert Variant.objects.get(post=post).text == "Typo here"
    assert PostApproval.objects.get(post=post).edited
    assert actions(owner.workspace, AuditAction.POST_EDITED)[-1].actor_id == owner.user_id
    Dispatcher().run_once(now=due(post))
    assert "Typo here" in statuses_of(mastodon_account)[0]["content"]


# --------------------------------------------------------------------------- expiry


def test_not_approved_in_time_is_held_and_the_author_told(
    owner, contributor, mastodon_account, statuses_of
):
    post = submit(contributor, mastodon_account, at=timezone.now() + timedelta(minutes=5))
    assert approvals.approvals_expire() == 0  # not yet
    assert approvals.approvals_expire(now=due(post)) == 1
    post.refresh_from_db()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.HELD and "Approval expired" in variant.last_error
    assert post.approval_status == ApprovalStatus.EXPIRED and post.state == PostState.DRAFT
    assert (
        "Approval expired"
        in Notification.objects.filter(user=contributor.user).latest("pk").message
    )
    with pytest.raises(Conflict):
        approvals.post_approve(actor=owner, post=post)
    assert Dispatcher().run_once(now=due(post) + timedelta(hours=1)) == 0
    assert statuses_of(mastodon_account) == []


def test_approving_after_the_time_is_refused(owner, contributor, mastodon_account):
    post = submit(contributor, mastodon_account, at=timezone.now() + timedelta(minutes=5))
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict, match="Too late"):
        approvals.post_approve(actor=owner, post=post)


def test_the_periodic_task_expires(owner, contributor, mastodon_account):
    from chorus.publishing.tasks import expire_approvals

    post = submit(contributor, mastodon_account, at=timezone.now() + timedelta(minutes=5))
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    expire_approvals.call_local()
    assert Post.objects.get(pk=post.pk).approval_status == ApprovalStatus.EXPIRED


# --------------------------------------------------------------------------- review links


def test_review_link_approves_once(owner, contributor, mastodon_account, statuses_of):
    post = submit(contributor, mastodon_account)
    link, token = review_links.review_link_create(actor=owner, post=post, reviewer="Ana (client)")
    assert link.expires_at <= post.scheduled_at
    client = Client()  # nobody signed in
    page = client.get(f"/review/{token}/")
    assert page.status_code == 200 and "Hello from Chorus" in page.content.decode()
    response = client.post(f"/review/{token}/", {"decision": "approve", "comment": "Lovely"})
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    approval = PostApproval.objects.get(post=post)
    assert approval.review_link_id == link.pk and approval.membership is None
    entry = actions(owner.workspace, AuditAction.POST_APPROVED)[-1]
    assert entry.actor_id is None and "Ana (client)" in entry.actor_email
    assert actions(owner.workspace, AuditAction.REVIEW_LINK_CREATED)
    again = client.post(f"/review/{token}/", {"decision": "approve"})
    assert again.status_code == 410 and "already used" in again.content.decode()
    Dispatcher().run_once(now=due(post))
    assert len(statuses_of(mastodon_account)) == 1


def test_review_link_reject_needs_a_comment_and_tells_the_author(
    owner, contributor, mastodon_account
):
    post = submit(contributor, mastodon_account)
    _link, token = review_links.review_link_create(actor=owner, post=post, reviewer="Client")
    client = Client()
    assert client.post(f"/review/{token}/", {"decision": "reject"}).status_code == 400
    assert client.post(f"/review/{token}/", {"decision": "reject", "comment": "No"}).status_code
    post.refresh_from_db()
    assert post.state == PostState.REJECTED
    assert "No" in Notification.objects.filter(user=contributor.user).latest("pk").message


def test_expired_tampered_and_stale_review_links_are_refused(owner, contributor, mastodon_account):
    post = submit(contributor, mastodon_account)
    link, token = review_links.review_link_create(actor=owner, post=post)
    client = Client()
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.post(f"/review/{tampered}/", {"decision": "approve"}).status_code == 410
    forged = signing.TimestampSigner(salt="something else").sign_object(
        {"l": link.pk, "p": post.pk, "r": 1, "s": 1}
    )
    assert client.post(f"/review/{forged}/", {"decision": "approve"}).status_code == 410
    ReviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(f"/review/{token}/", {"decision": "approve"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    # a fresh link goes stale once the post is edited (a new round)
    _link, fresh = review_links.review_link_create(actor=owner, post=post)
    services.post_save(
        actor=contributor,
        post=post,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Changed")],
    )
    assert client.post(f"/review/{fresh}/", {"decision": "approve"}).status_code == 410
    assert Post.objects.get(pk=post.pk).state == PostState.PENDING_APPROVAL
    # and a link signed more than 7 days ago is refused by its signature's age
    with pytest.raises(review_links.LinkInvalid, match="expired"):
        from unittest import mock

        later = timezone.now().timestamp() + 8 * 86400
        with mock.patch("time.time", return_value=later):
            review_links.review_link_open(fresh)


def test_only_an_approver_creates_a_review_link(owner, contributor, make_member, mastodon_account):
    post = submit(contributor, mastodon_account)
    with pytest.raises(NotAllowed):
        review_links.review_link_create(actor=contributor, post=post)
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    with pytest.raises(NotAllowed):  # editors approve by role, but this step is for admins
        review_links.review_link_create(actor=editor, post=post)


# --------------------------------------------------------------------------- policies, levels


def test_require_approval_policy_forces_approval_even_for_the_owner(
    owner, admin, mastodon_account, statuses_of
):
    governance.policy_create(
        actor=owner,
        name="Claims",
        kind="banned_terms",
        terms=["guaranteed"],
        action="require_approval",
    )
    post = submit(owner, mastodon_account, "Guaranteed results!")
    assert post.state == PostState.PENDING_APPROVAL
    assert any("Claims" in reason for reason in post.approval_reasons)
    assert [m.pk for m in approvals.approvers_for(post).members] == [admin.pk]
    assert Dispatcher().run_once(now=due(post)) == 0
    clean = submit(owner, mastodon_account, "Good results")
    assert clean.state == PostState.SCHEDULED


def test_block_policy_refuses_submission_with_the_violations(owner, contributor, mastodon_account):
    governance.policy_create(
        actor=owner,
        name="No competitors",
        kind="banned_terms",
        terms=["rivalco"],
        action="block",
    )
    post = compose(contributor, mastodon_account, "Better than RivalCo")
    with pytest.raises(approvals.PolicyBlocked) as refused:
        services.post_schedule(actor=contributor, post=post, at=timezone.now() + SOON)
    assert "No competitors" in refused.value.message
    assert refused.value.violations[mastodon_account.pk][0].policy.name == "No competitors"
    post.refresh_from_db()
    assert post.state == PostState.DRAFT
    # an approver cannot slip the term in while approving either
    ok = submit(contributor, mastodon_account, "Fine")
    with pytest.raises(approvals.PolicyBlocked):
        approvals.post_approve(
            actor=owner,
            post=ok,
            variants=[services.VariantInput(account_id=mastodon_account.pk, text="rivalco")],
        )
    assert Post.objects.get(pk=ok.pk).state == PostState.PENDING_APPROVAL


def test_draft_level_needs_approval_and_publish_level_does_not(
    owner, make_member, mastodon_account
):
    from chorus.networks.selectors import account_levels, accounts_usable_by

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    grant(owner, mastodon_account, editor, "draft", "reply")
    assert list(accounts_usable_by(editor)) == [mastodon_account]
    assert account_levels(editor, mastodon_account) == {"draft", "reply"}
    assert account_levels(owner, mastodon_account) == {"publish", "draft", "reply", "analytics"}
    post = submit(editor, mastodon_account)
    assert post.state == PostState.PENDING_APPROVAL
    assert any("only draft" in reason for reason in post.approval_reasons)
    grant(owner, mastodon_account, editor, "publish")
    assert submit(editor, mastodon_account).state == PostState.SCHEDULED


def test_reply_or_analytics_only_cannot_post_and_is_refused_at_send_time(
    owner, make_member, mastodon_account, statuses_of
):
    from chorus.networks.selectors import accounts_usable_by

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    grant(owner, mastodon_account, editor, "publish")
    post = submit(editor, mastodon_account)
    grant(owner, mastodon_account, editor, "reply", "analytics")
    assert list(accounts_usable_by(editor)) == []
    with pytest.raises(Exception):  # noqa: B017 - NotFound: not an account they may post as
        compose(editor, mastodon_account)
    Dispatcher().run_once(now=due(post))
    assert Variant.objects.get(post=post).status == VariantStatus.HELD
    assert statuses_of(mastodon_account) == []


def test_the_old_members_call_grants_publish(owner, make_member, mastodon_account):
    from chorus.networks.models import AccountGrant

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    network_services.account_set_members(
        actor=owner, account=mastodon_account, memberships=[editor]
    )
    assert AccountGrant.every.get(membership=editor).levels == {"publish"}


# --------------------------------------------------------------------------- API


def test_api_pending_approve_and_non_approver_refused(
    api, api_token_for, owner, contributor, make_member, mastodon_account, statuses_of
):
    post = submit(contributor, mastodon_account)
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    mine = api.get("/approvals", token=api_token_for(owner)).json()
    assert [p["id"] for p in mine] == [post.pk] and mine[0]["approval_steps"] == 1
    assert api.get("/approvals", token=api_token_for(contributor)).json() == []
    for who in (contributor, editor):  # a contributor by role, an editor not in this step
        refused = api.post(f"/posts/{post.pk}/approve", {"comment": "me"}, token=api_token_for(who))
        assert refused.status_code == 403, who.role
    no_scope = api.post(
        f"/posts/{post.pk}/approve", {}, token=api_token_for(owner, ["posts:write"])
    )
    assert no_scope.status_code == 403 and "approvals:write" in no_scope.json()["error"]["message"]
    assert Post.objects.get(pk=post.pk).state == PostState.PENDING_APPROVAL
    done = api.post(f"/posts/{post.pk}/approve", {"comment": "ok"}, token=api_token_for(owner))
    assert done.status_code == 200
    assert done.json()["state"] == "scheduled" and done.json()["approval_status"] == "approved"
    again = api.post(f"/posts/{post.pk}/approve", {}, token=api_token_for(owner))
    assert again.status_code == 409
    Dispatcher().run_once(now=due(post))
    assert len(statuses_of(mastodon_account)) == 1


def test_api_reject_edit_approve_and_review_link(
    api, api_token_for, owner, contributor, mastodon_account
):
    token = api_token_for(owner)
    post = submit(contributor, mastodon_account)
    assert api.post(f"/posts/{post.pk}/reject", {"comment": ""}, token=token).status_code == 400
    rejected = api.post(f"/posts/{post.pk}/reject", {"comment": "Off-brand"}, token=token)
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    other = submit(contributor, mastodon_account, "Colour")
    edited = api.post(
        f"/posts/{other.pk}/edit-approve", {"text": "Colour (UK spelling)"}, token=token
    )
    assert edited.status_code == 200
    assert edited.json()["variants"][0]["text"] == "Colour (UK spelling)"
    third = submit(contributor, mastodon_account, "For the client")
    link = api.post(f"/posts/{third.pk}/review-link", {"reviewer": "Client"}, token=token)
    assert link.status_code == 201 and "/review/" in link.json()["url"]
    path = "/review/" + link.json()["url"].split("/review/", 1)[1]
    assert Client().post(path, {"decision": "approve"}).status_code == 200
    assert Post.objects.get(pk=third.pk).state == PostState.SCHEDULED


def test_api_workflow_crud_and_validation(api, api_token_for, owner, make_member, mastodon_account):
    token = api_token_for(owner)
    legal = make_member(Role.EDITOR, workspace=owner.workspace)
    body = {
        "name": "Brand",
        "account": mastodon_account.pk,
        "applies_to_all": True,
        "steps": [{"members": [legal.pk]}, {"role": "admin"}],
    }
    created = api.post("/approval-workflows", body, token=token)
    assert created.status_code == 201
    data = created.json()
    assert data["scope"] == "account" and len(data["steps"]) == 2
    assert data["steps"][0]["members"] == [legal.pk] and data["steps"][1]["role"] == "admin"
    assert api.post("/approval-workflows", body, token=token).status_code == 409  # one per account
    four = dict(body, account=None, steps=[{"role": "admin"}] * 4)
    assert api.post("/approval-workflows", four, token=token).status_code == 422
    bad_role = dict(body, account=None, steps=[{"role": "contributor"}])
    assert api.post("/approval-workflows", bad_role, token=token).status_code == 400
    empty_step = dict(body, account=None, steps=[{}])
    assert api.post("/approval-workflows", empty_step, token=token).status_code == 400
    pk = data["id"]
    changed = api.put(
        f"/approval-workflows/{pk}", dict(body, steps=[{"role": "owner"}]), token=token
    )
    assert changed.status_code == 200 and changed.json()["steps"][0]["role"] == "owner"
    editor_token = api_token_for(legal)
    assert api.delete(f"/approval-workflows/{pk}", token=editor_token).status_code == 403
    assert api.get("/approval-workflows", token=editor_token).status_code == 200
    assert api.delete(f"/approval-workflows/{pk}", token=token).status_code == 204
    assert api.get("/approval-workflows", token=token).json() == []
    assert actions(owner.workspace, AuditAction.WORKFLOW_CHANGED)


def test_api_member_levels_new_and_old_body(
    api, api_token_for, owner, make_member, mastodon_account
):
    token = api_token_for(owner)
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    helper = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    response = api.put(
        f"/social-accounts/{mastodon_account.pk}/members",
        [
            {"member": editor.pk, "draft": True, "reply": True},
            {"member": helper.pk, "analytics": True},
        ],
        token=token,
    )
    assert response.status_code == 200
    data = response.json()
    assert data["allowed_members"] == [editor.pk]  # analytics alone does not post
    levels = {row["member"]: row for row in data["members"]}
    assert levels[editor.pk] == {
        "member": editor.pk,
        "publish": False,
        "draft": True,
        "reply": True,
        "analytics": False,
    }
    assert levels[helper.pk]["analytics"] and not levels[helper.pk]["draft"]
    entry = actions(owner.workspace, AuditAction.ACCOUNT_ACCESS_CHANGED)[-1]
    assert entry.changes["after"]["levels"][editor.user.email] == ["draft", "reply"]
    old = api.put(
        f"/social-accounts/{mastodon_account.pk}/members", {"members": [helper.pk]}, token=token
    )
    assert old.status_code == 200 and old.json()["allowed_members"] == [helper.pk]


# --------------------------------------------------------------------------- web


def web(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_web_queue_approve_reject_and_non_approver_refused(
    owner, contributor, make_member, mastodon_account
):
    post = submit(contributor, mastodon_account, "Web words")
    page = web(owner).get("/approvals/").content.decode()
    assert f'id="pending-{post.pk}"' in page and "Web words" in page
    assert f'id="approve-{post.pk}"' in page and 'class="preview-card"' in page
    contributor_page = web(contributor).get("/approvals/").content.decode()
    assert f'id="pending-{post.pk}"' not in contributor_page  # but listed among theirs
    assert f'href="/posts/{post.pk}/"' in contributor_page
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    for who in (contributor, editor):
        assert web(who).post(f"/approvals/{post.pk}/approve/").status_code == 403
        assert web(who).get(f"/approvals/{post.pk}/edit/").status_code == 403
    assert Post.objects.get(pk=post.pk).state == PostState.PENDING_APPROVAL
    response = web(owner).post(f"/approvals/{post.pk}/reject/", {"comment": "Not today"})
    assert response.status_code == 302
    assert Post.objects.get(pk=post.pk).state == PostState.REJECTED
    detail = web(contributor).get(f"/posts/{post.pk}/").content.decode()
    assert "Not today" in detail and "Rejected" in detail


def test_web_edit_and_approve(owner, contributor, mastodon_account):
    post = submit(contributor, mastodon_account, "Teh typo")
    client = web(owner)
    assert client.get(f"/approvals/{post.pk}/edit/").status_code == 200
    response = client.post(
        f"/approvals/{post.pk}/edit/",
        {f"text-{mastodon_account.pk}": "The typo", "comment": "fixed"},
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED and post.variants.get().text == "The typo"


def test_web_account_levels_checkboxes(owner, make_member, mastodon_account):
    from chorus.networks.selectors import account_levels

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    client = web(owner)
    page = client.get(f"/social-accounts/{mastodon_account.pk}/").content.decode()
    assert f'name="level-{editor.pk}" value="draft"' in page
    response = client.post(
        f"/social-accounts/{mastodon_account.pk}/members/",
        {f"level-{editor.pk}": ["draft", "analytics"]},
    )
    assert response.status_code == 302
    assert account_levels(editor, mastodon_account) == {"draft", "analytics"}
    assert (
        web(editor)
        .post(
            f"/social-accounts/{mastodon_account.pk}/members/", {f"level-{editor.pk}": ["publish"]}
        )
        .status_code
        == 403
    )
    assert account_levels(editor, mastodon_account) == {"draft", "analytics"}


def test_web_workflow_pages(owner, admin, make_member):
    client = web(owner)
    assert client.get("/approvals/workflows/new/").status_code == 200
    response = client.post(
        "/approvals/workflows/new/",
        {"name": "Two steps", "scope": "", "step-1-members": [admin.pk], "step-2-role": "owner"},
    )
    assert response.status_code == 302
    listing = client.get("/approvals/workflows/").content.decode()
    assert "Two steps" in listing and admin.user.display_name in listing
    refused = client.post("/approvals/workflows/new/", {"name": "None", "scope": ""})
    assert refused.status_code == 400
    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    assert web(contributor).get("/approvals/workflows/new/").status_code == 403


def test_a_policy_added_after_submission_blocks_approval_and_publishing(
    owner, contributor, mastodon_account, statuses_of
):
    """Policies are enforced again on approval and at publish time, not only on submit."""
    pending = submit(contributor, mastodon_account, "วันนี้มีส่วนลดพิเศษ")
    scheduled = submit(owner, mastodon_account, "ส่วนลด for everyone")
    assert scheduled.state == PostState.SCHEDULED
    governance.policy_create(
        actor=owner, name="No promos", kind="banned_terms", terms=["ส่วนลด"], action="block"
    )
    with pytest.raises(approvals.PolicyBlocked):
        approvals.post_approve(actor=owner, post=pending)
    assert Post.objects.get(pk=pending.pk).state == PostState.PENDING_APPROVAL
    Dispatcher().run_once(now=due(scheduled))
    variant = Variant.objects.get(post=scheduled)
    assert variant.status == VariantStatus.HELD and "No promos" in variant.last_error
    assert statuses_of(mastodon_account) == []
