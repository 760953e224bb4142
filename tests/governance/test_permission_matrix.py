"""Every web page and every API operation, for every role: allowed or refused as declared.

Web views declare who may open them (`member_required(capability)`, `signed_in_required`,
`public`, in web/views/common.py); Django's own views are listed in DJANGO_VIEWS below. The
API declares a scope per operation, while the role check lives in services, so the expected
role rule of each operation is kept here in API_RULES. A page or operation added without a
rule makes `test_every_*_has_a_rule` fail: add the rule (and, for the API, a request body).
"""

import datetime as dt
import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from chorus.accounts import services as accounts
from chorus.accounts.roles import Capability, Role, role_can
from chorus.accounts.scopes import Scope
from chorus.analytics import reports as analytics_reports
from chorus.analytics import schedules as report_schedules
from chorus.analytics import sharing as report_sharing
from chorus.analytics.models import Competitor, TrackedPost
from chorus.api.auth import operation_scope
from chorus.api.urls import api
from chorus.governance import services as governance
from chorus.links.models import Goal, ShortLink
from chorus.listening import alerts as listening_alerts
from chorus.listening import boards as listening_boards
from chorus.listening import services as listening
from chorus.listening.models import Mention
from chorus.networks.models import AccountGrant
from chorus.publishing import approval_workflows, campaigns
from chorus.publishing import services as publishing
from chorus.publishing.models import MediaAsset
from chorus.web.views.common import PUBLIC, SIGNED_IN
from tests.conftest import Upload
from tests.publishing import samples

pytestmark = pytest.mark.django_db

API_NAMESPACE = "api-v1"

# Views that come from Django itself, with the rule they enforce.
DJANGO_VIEWS = {
    "login": PUBLIC,
    "logout": PUBLIC,
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    "set_language": PUBLIC,
}
# The API's own documentation pages (operations are checked through API_RULES).
API_DOCS = {"openapi-json", "openapi-view", "api-root"}

ANY_MEMBER = None  # any role of the workspace
GOAL_BODY = {
    "name": "More clicks",
    "metric": "clicks",
    "starts_on": dt.date.today().isoformat(),
    "deadline": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
    "baseline_mode": "entered",
    "baseline": "0",
    "target_value": "10",
}
# (method, path) → (role rule, JSON body or None). Bodies are valid, so a refusal can only
# come from the permission check. Ids in {braces} are filled from the objects made below.
API_RULES = {
    ("GET", "/workspace"): (ANY_MEMBER, None),
    ("GET", "/members"): (ANY_MEMBER, None),
    ("PATCH", "/members/{member_id}"): (Capability.MANAGE_MEMBERS, {"role": "editor"}),
    ("DELETE", "/members/{member_id}"): (Capability.MANAGE_MEMBERS, None),
    ("GET", "/invitations"): (Capability.MANAGE_MEMBERS, None),
    ("POST", "/invitations"): (
        Capability.MANAGE_MEMBERS,
        {"email": "new@example.org", "role": "viewer"},
    ),
    ("DELETE", "/invitations/{invitation_id}"): (Capability.MANAGE_MEMBERS, None),
    ("GET", "/teams"): (ANY_MEMBER, None),
    ("POST", "/teams"): (Capability.MANAGE_TEAMS, {"name": "Fresh team"}),
    ("PUT", "/teams/{team_id}/members"): (Capability.MANAGE_TEAMS, {"members": []}),
    ("DELETE", "/teams/{team_id}"): (Capability.MANAGE_TEAMS, None),
    ("GET", "/tokens"): (ANY_MEMBER, None),
    ("POST", "/tokens"): (ANY_MEMBER, {"name": "mine", "scopes": ["workspace:read"]}),
    ("DELETE", "/tokens/{token_id}"): (ANY_MEMBER, None),  # one's own token
    ("GET", "/networks"): (ANY_MEMBER, None),
    ("GET", "/social-accounts"): (ANY_MEMBER, None),
    ("GET", "/social-accounts/{account_id}"): (ANY_MEMBER, None),
    ("POST", "/social-accounts/{account_id}/check"): (ANY_MEMBER, None),
    ("POST", "/social-accounts/connect/password"): (
        Capability.MANAGE_ACCOUNTS,
        {"provider": "no-such-network", "identifier": "me", "password": "x"},
    ),
    ("POST", "/social-accounts/connect/oauth"): (
        Capability.MANAGE_ACCOUNTS,
        {"provider": "no-such-network", "server_url": "mastodon.example"},
    ),
    ("PUT", "/social-accounts/{account_id}/members"): (
        Capability.MANAGE_ACCOUNTS,
        {"members": []},
    ),
    ("DELETE", "/social-accounts/{account_id}"): (Capability.MANAGE_ACCOUNTS, None),
    ("GET", "/audit"): (Capability.VIEW_AUDIT_LOG, None),
    ("GET", "/audit/export.csv"): (Capability.VIEW_AUDIT_LOG, None),
    ("GET", "/audit/verify"): (Capability.VIEW_AUDIT_LOG, None),
    ("GET", "/policies"): (ANY_MEMBER, None),
    ("GET", "/policies/{policy_id}"): (ANY_MEMBER, None),
    ("POST", "/policies/check"): (ANY_MEMBER, {"text": "hello"}),
    ("POST", "/policies"): (
        Capability.MANAGE_POLICIES,
        {"name": "New", "kind": "banned_terms", "terms": ["x"]},
    ),
    ("PATCH", "/policies/{policy_id}"): (Capability.MANAGE_POLICIES, {"name": "Renamed"}),
    ("DELETE", "/policies/{policy_id}"): (Capability.MANAGE_POLICIES, None),
    ("GET", "/posts"): (ANY_MEMBER, None),
    ("GET", "/posts/{post_id}"): (ANY_MEMBER, None),
    ("POST", "/posts"): (Capability.CREATE_POSTS, {"accounts": [1], "text": "Hi"}),
    ("POST", "/posts/validate"): (ANY_MEMBER, {"accounts": [1], "text": "Hi"}),
    ("POST", "/posts/import"): (
        Capability.PUBLISH_POSTS,
        Upload(file=("posts.csv", b"account,text,scheduled_at\n", "text/csv")),
    ),
    ("POST", "/media"): (
        Capability.CREATE_POSTS,
        Upload(file=("dot.png", samples.png(), "image/png")),
    ),
    ("PUT", "/posts/{post_id}"): (Capability.CREATE_POSTS, {"accounts": [1], "text": "Hi"}),
    ("DELETE", "/posts/{post_id}"): (Capability.CREATE_POSTS, None),
    # Without publish_posts, scheduling submits the post for approval instead.
    ("POST", "/posts/{post_id}/schedule"): (
        Capability.CREATE_POSTS,
        {"scheduled_at": "2030-01-01T10:00:00Z"},
    ),
    ("POST", "/posts/{post_id}/publish-now"): (Capability.CREATE_POSTS, None),
    ("POST", "/posts/{post_id}/queue"): (Capability.CREATE_POSTS, None),
    ("POST", "/posts/{post_id}/unschedule"): (Capability.CREATE_POSTS, None),
    ("POST", "/posts/{post_id}/cancel"): (Capability.CREATE_POSTS, None),
    ("POST", "/posts/{post_id}/duplicate"): (Capability.CREATE_POSTS, None),
    ("POST", "/variants/{variant_id}/retry"): (Capability.PUBLISH_POSTS, None),
    ("POST", "/variants/{variant_id}/delete-remote"): (Capability.PUBLISH_POSTS, None),
    ("GET", "/campaigns"): (ANY_MEMBER, None),
    ("POST", "/campaigns"): (Capability.PUBLISH_POSTS, {"name": "Launch"}),
    ("PUT", "/campaigns/{campaign_id}"): (Capability.PUBLISH_POSTS, {"name": "Relaunch"}),
    ("GET", "/social-accounts/{account_id}/slots"): (ANY_MEMBER, None),
    ("PUT", "/social-accounts/{account_id}/slots"): (Capability.PUBLISH_POSTS, []),
    ("GET", "/on-time"): (ANY_MEMBER, None),
    ("GET", "/links"): (ANY_MEMBER, None),
    ("PATCH", "/links/{link_id}"): (Capability.PUBLISH_POSTS, {"disabled": True}),
    ("POST", "/conversions"): (
        Capability.PUBLISH_POSTS,
        {"order_id": "o-1", "value": "10", "currency": "THB"},
    ),
    ("GET", "/conversions"): (ANY_MEMBER, None),
    ("GET", "/goals"): (ANY_MEMBER, None),
    ("POST", "/goals"): (Capability.PUBLISH_POSTS, GOAL_BODY),
    ("GET", "/goals/{goal_id}"): (ANY_MEMBER, None),
    ("PUT", "/goals/{goal_id}"): (  # the goal made below: its passed deadline kept
        Capability.PUBLISH_POSTS,
        {**GOAL_BODY, "starts_on": "2026-01-01", "deadline": "2026-01-31"},
    ),
    ("DELETE", "/goals/{goal_id}"): (Capability.PUBLISH_POSTS, None),
    ("GET", "/value"): (ANY_MEMBER, None),
    # Approvals: acting on a post also needs being an approver of its current step (service).
    ("GET", "/approvals"): (ANY_MEMBER, None),
    ("POST", "/posts/{post_id}/approve"): (Capability.APPROVE_POSTS, {"comment": "ok"}),
    ("POST", "/posts/{post_id}/edit-approve"): (
        Capability.APPROVE_POSTS,
        {"comment": "ok", "text": "Hi"},
    ),
    ("POST", "/posts/{post_id}/reject"): (Capability.APPROVE_POSTS, {"comment": "no"}),
    ("POST", "/posts/{post_id}/review-link"): (Capability.APPROVE_POSTS, {"reviewer": "Client"}),
    ("GET", "/approval-workflows"): (ANY_MEMBER, None),
    ("GET", "/approval-workflows/{workflow_id}"): (ANY_MEMBER, None),
    ("POST", "/approval-workflows"): (
        Capability.MANAGE_APPROVALS,
        {"name": "Two", "steps": [{"role": "admin"}]},
    ),
    ("PUT", "/approval-workflows/{workflow_id}"): (
        Capability.MANAGE_APPROVALS,
        {"name": "Renamed", "steps": [{"role": "editor"}]},
    ),
    ("DELETE", "/approval-workflows/{workflow_id}"): (Capability.MANAGE_APPROVALS, None),
    ("GET", "/listening/topics"): (ANY_MEMBER, None),
    ("POST", "/listening/topics"): (Capability.MANAGE_LISTENING, {"name": "Rivals"}),
    ("GET", "/listening/topics/{topic_id}"): (ANY_MEMBER, None),
    ("PATCH", "/listening/topics/{topic_id}"): (Capability.MANAGE_LISTENING, {"is_active": True}),
    ("DELETE", "/listening/topics/{topic_id}"): (Capability.MANAGE_LISTENING, None),
    ("GET", "/listening/topics/{topic_id}/queries"): (ANY_MEMBER, None),
    ("POST", "/listening/topics/{topic_id}/queries"): (
        Capability.MANAGE_LISTENING,
        {"name": "Rival", "role": "competitor", "text": "rival OR #rival"},
    ),
    ("PATCH", "/listening/queries/{query_id}"): (Capability.MANAGE_LISTENING, {"name": "Us"}),
    ("DELETE", "/listening/queries/{query_id}"): (Capability.MANAGE_LISTENING, None),
    ("POST", "/listening/preview"): (ANY_MEMBER, {"text": "chorus"}),
    ("GET", "/listening/topics/{topic_id}/mentions"): (ANY_MEMBER, None),
    ("GET", "/listening/topics/{topic_id}/volume"): (ANY_MEMBER, None),
    ("GET", "/listening/topics/{topic_id}/share-of-voice"): (ANY_MEMBER, None),
    ("GET", "/listening/topics/{topic_id}/top-hashtags"): (ANY_MEMBER, None),
    ("GET", "/listening/topics/{topic_id}/top-terms"): (ANY_MEMBER, None),
    ("GET", "/listening/topics/{topic_id}/breakdown"): (ANY_MEMBER, None),
    ("GET", "/listening/retention"): (ANY_MEMBER, None),
    ("PUT", "/listening/retention"): (Capability.MANAGE_LISTENING, {"retention_days": 30}),
    ("GET", "/listening/sources"): (ANY_MEMBER, None),
    ("GET", "/listening/alerts"): (ANY_MEMBER, None),
    ("GET", "/listening/topics/{topic_id}/alert-rules"): (ANY_MEMBER, None),
    ("POST", "/listening/topics/{topic_id}/alert-rules"): (
        Capability.MANAGE_LISTENING,
        {"kind": "volume"},
    ),
    ("DELETE", "/listening/alert-rules/{alert_rule_id}"): (Capability.MANAGE_LISTENING, None),
    ("GET", "/listening/boards"): (ANY_MEMBER, None),
    ("POST", "/listening/boards"): (Capability.MANAGE_LISTENING, {"name": "Praise"}),
    ("PATCH", "/listening/boards/{board_id}"): (Capability.MANAGE_LISTENING, {"name": "Kind"}),
    ("DELETE", "/listening/boards/{board_id}"): (Capability.MANAGE_LISTENING, None),
    ("GET", "/listening/boards/{board_id}/mentions"): (ANY_MEMBER, None),
    ("POST", "/listening/boards/{board_id}/mentions"): (
        Capability.MANAGE_LISTENING,
        {"mention_id": 1, "note": "n"},
    ),
    ("DELETE", "/listening/boards/{board_id}/mentions/{mention_id}"): (
        Capability.MANAGE_LISTENING,
        None,
    ),
    # Answering needs the account's reply level (admins and owners have it)
    ("POST", "/listening/mentions/{mention_id}/open-in-inbox"): (
        Capability.MANAGE_ACCOUNTS,
        {"account_id": 1},
    ),
    # Analytics: any member, limited to the accounts they hold the analytics level on.
    ("GET", "/analytics/figures"): (ANY_MEMBER, None),
    ("GET", "/analytics/days"): (ANY_MEMBER, None),
    ("GET", "/analytics/posts/{tracked_id}"): (ANY_MEMBER, None),
    ("GET", "/analytics/best-times"): (ANY_MEMBER, None),
    ("GET", "/analytics/reports"): (ANY_MEMBER, None),
    ("GET", "/analytics/reports/{report_id}/csv"): (ANY_MEMBER, None),
    ("GET", "/analytics/reports/{report_id}/pdf"): (ANY_MEMBER, None),
    ("GET", "/analytics/competitors"): (ANY_MEMBER, None),
    ("GET", "/analytics/competitors/compare"): (ANY_MEMBER, None),
    # A valid body the service refuses (400) once the role is allowed: no network is read.
    ("POST", "/analytics/competitors"): (
        Capability.MANAGE_REPORTS,
        {"network": "bluesky", "address": "not a handle"},
    ),
    ("DELETE", "/analytics/competitors/{competitor_id}"): (Capability.MANAGE_REPORTS, None),
    # Inbox: replying also needs the account's reply level (admins and owners have it)
    ("GET", "/inbox/conversations"): (ANY_MEMBER, None),
    ("GET", "/inbox/conversations/{conversation_id}"): (ANY_MEMBER, None),
    ("GET", "/inbox/replies/{reply_id}"): (ANY_MEMBER, None),
    ("GET", "/inbox/figures"): (ANY_MEMBER, None),
    ("POST", "/inbox/conversations/{conversation_id}/reply"): (
        Capability.MANAGE_ACCOUNTS,
        {"text": "Thanks!"},
    ),
    ("POST", "/inbox/conversations/{conversation_id}/assign"): (
        Capability.WORK_INBOX,
        {"assignee": None},
    ),
    ("POST", "/inbox/conversations/{conversation_id}/status"): (
        Capability.WORK_INBOX,
        {"status": "closed"},
    ),
    ("POST", "/inbox/conversations/{conversation_id}/tags"): (
        Capability.WORK_INBOX,
        {"add": ["x"]},
    ),
    ("POST", "/inbox/conversations/{conversation_id}/notes"): (
        Capability.WORK_INBOX,
        {"text": "n"},
    ),
    ("POST", "/inbox/bulk"): (Capability.WORK_INBOX, {"ids": [1], "action": "close"}),
    ("GET", "/inbox/suggestions"): (ANY_MEMBER, None),
    ("POST", "/inbox/suggestions/{suggestion_id}/send"): (
        Capability.MANAGE_ACCOUNTS,  # the reply level (admins and owners have it)
        {"text": "Thanks!"},
    ),
    ("POST", "/inbox/suggestions/{suggestion_id}/dismiss"): (Capability.WORK_INBOX, None),
}
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # POST /media stores a file


# --------------------------------------------------------------------------- discovery


def web_patterns():
    """(name, route, view) of every named URL outside the API namespace."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif isinstance(pattern, URLPattern):
                yield namespace, pattern.name, prefix + str(pattern.pattern), pattern.callback

    return list(walk(get_resolver().url_patterns))


def view_rule(name, view):
    declared = getattr(view, "access_rule", None)
    listed = DJANGO_VIEWS.get(name)
    assert not (declared and listed), f"{name} declares a rule and is also listed in the test"
    return declared or listed


def api_operations():
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, path, operation


def test_every_web_page_has_a_rule():
    patterns = web_patterns()
    assert len(patterns) > 30
    missing = []
    for namespace, name, route, view in patterns:
        if namespace == API_NAMESPACE:
            continue
        assert name, f"URL {route} has no name"
        if view_rule(name, view) is None:
            missing.append(f"{name} ({route})")
    assert not missing, f"views without a declared access rule: {missing}"


def test_api_namespace_holds_only_operations_and_docs():
    operation_names = {op.view_func.__name__ for _m, _p, op in api_operations()}
    for namespace, name, route, _view in web_patterns():
        if namespace == API_NAMESPACE:
            assert name in operation_names | API_DOCS, f"unknown API URL {route}"


def test_every_api_operation_has_a_rule():
    found = {(method, path) for method, path, _op in api_operations()}
    assert not found - API_RULES.keys(), f"operations without a rule: {found - API_RULES.keys()}"
    assert not API_RULES.keys() - found, f"rules for missing operations: {API_RULES.keys() - found}"


# --------------------------------------------------------------------------- a workspace


def workspace_for(role, make_member, social_account):
    """A workspace where `subject` has `role`, with one of everything to point URLs at."""
    owner = make_member(Role.OWNER)
    subject = owner if role == Role.OWNER else make_member(role, workspace=owner.workspace)
    target = make_member(Role.VIEWER, workspace=owner.workspace)
    team = accounts.team_create(actor=owner, name="Care")
    invitation = accounts.invitation_create(actor=owner, email="invitee@example.org", role="viewer")
    spare_token, _raw = accounts.api_token_create(
        membership=subject, name="spare", scopes=["workspace:read"]
    )
    account = social_account(owner.workspace, handle=f"brand-{role}@m.example")
    policy = governance.policy_create(actor=owner, name="P", kind="banned_terms", terms=["x"])
    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text="Hello")]
    )
    campaign = campaigns.campaign_save(actor=owner, name="Launch")
    workflow = approval_workflows.workflow_save(
        actor=owner, name="Default", steps=[approval_workflows.StepInput(role="admin")]
    )
    topic = listening.topic_create(actor=owner, name="Brand")
    query = listening.query_create(actor=owner, topic=topic, name="Us", text="chorus")
    alert_rule = listening_alerts.rule_create(actor=owner, topic=topic, kind="volume")
    board = listening_boards.board_create(actor=owner, name="Praise")
    mention = Mention.objects.create(
        workspace=owner.workspace,
        network="mastodon",
        uri="https://m.example/users/fan/statuses/1",
        author="fan@m.example",
        text="chorus",
        posted_at=timezone.now(),
    )
    listening_boards.board_save_mention(actor=owner, board=board, mention=mention)
    AccountGrant.every.update_or_create(
        socialaccount=account, membership=subject, defaults={"analytics": True}
    )
    tracked = TrackedPost.objects.create(
        account=account, remote_id="1", published_at=timezone.now()
    )
    conversation, rule, saved, reply, suggestion = inbox_objects(owner, account)
    report = analytics_reports.report_save(
        actor=owner, name="Monthly", sections=["likes"], period="last_28", account_ids=[]
    )
    report_schedule = report_schedules.schedule_save(
        actor=owner,
        report=report,
        frequency="weekly",
        local_time=dt.time(9),
        outside_emails=["client@example.org"],
    )
    share_link, _share_token = report_sharing.share_link_create(actor=owner, report=report)
    competitor = Competitor.objects.create(
        workspace=owner.workspace,
        provider="bluesky",
        address="rival.test",
        remote_id="did:plc:rival",
        handle="rival.test",
        reader_url="https://public.api.bsky.app",
    )
    asset = MediaAsset.objects.create(
        workspace=owner.workspace, file="media/none.png", mime_type="image/png", size=1
    )
    link = ShortLink.objects.create(
        workspace=owner.workspace,
        code="permLink",
        target="https://example.org/",
        original_url="https://example.org/",
    )
    goal = Goal.objects.create(
        workspace=owner.workspace,
        name="Clicks",
        metric="clicks",
        starts_on=dt.date(2026, 1, 1),
        deadline=dt.date(2026, 1, 31),
        target_input=10,
        target=10,
    )
    ids = {
        "membership_id": target.pk,
        "member_id": target.pk,
        "team_id": team.pk,
        "invitation_id": invitation.pk,
        "token_id": spare_token.pk,
        "account_id": account.pk,
        "policy_id": policy.pk,
        "post_id": post.pk,
        "variant_id": post.variants.get().pk,
        "campaign_id": campaign.pk,
        "workflow_id": workflow.pk,
        "asset_id": asset.pk,
        "topic_id": topic.pk,
        "query_id": query.pk,
        "alert_rule_id": alert_rule.pk,
        "board_id": board.pk,
        "mention_id": mention.pk,
        "link_id": link.pk,
        "goal_id": goal.pk,
        "step": "audience",  # the campaign plan's steps
        "code": link.code,
        "tracked_id": tracked.pk,
        "conversation_id": conversation.pk,
        "rule_id": rule.pk,
        "saved_id": saved.pk,
        "reply_id": reply.pk,
        "suggestion_id": suggestion.pk,
        "report_id": report.pk,
        "schedule_id": report_schedule.pk,
        "share_id": share_link.pk,
        "competitor_id": competitor.pk,
        "provider": "mastodon",
        "filename": "none.png",  # media_file_for_network (404 without a valid link)
        "token": signing.dumps(invitation.pk, salt=accounts.INVITATION_SALT),
    }
    return subject, ids


def inbox_objects(owner, account):
    """A conversation (with a failed reply), a routing rule and a saved reply."""
    from django.utils import timezone

    from chorus.inbox import ingest, services
    from chorus.inbox.models import Reply, Suggestion
    from chorus.networks.providers.base import Interaction, InteractionPage

    message = Interaction(
        kind="mention", remote_id="m1", author_handle="fan@x", created_at=timezone.now(), text="Hi"
    )
    ingest.store_page(account, InteractionPage(items=(message,), cursor="1"), now=timezone.now())
    conversation = account.conversations.get()
    rule = services.rule_save(actor=owner, data={"name": "All"})
    saved = services.saved_reply_save(actor=owner, name="Thanks", text="Thanks {name}")
    reply = Reply.objects.create(conversation=conversation, author=owner, text="x", state="failed")
    suggestion = Suggestion.objects.create(
        workspace=owner.workspace,
        account=account,
        key="follow:matrix",
        kind="follow_up",
        reason="closed",
        contact=conversation.contact,
        conversation=conversation,
        text="All good?",
        created_at=timezone.now(),
    )
    return conversation, rule, saved, reply, suggestion


def web_url(name, route, ids, user):
    if name == "password_reset_confirm":
        values = {
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        }
    else:
        values = ids
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: placeholder(values, m.group(1), name), route)
    return "/" + url


def placeholder(values: dict, key: str, where: str) -> str:
    if key not in values:
        pytest.fail(f"{where}: no object for <{key}>; create one in workspace_for()")
    return str(values[key])


def to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


def expected_allowed(rule, role) -> bool:
    if rule in (PUBLIC, SIGNED_IN, ANY_MEMBER):
        return True
    return role_can(role, Capability(rule))


# --------------------------------------------------------------------------- web


@pytest.mark.parametrize("role", list(Role))
def test_web_pages_allow_and_refuse_each_role_as_declared(role, make_member, social_account):
    subject, ids = workspace_for(role, make_member, social_account)
    client = Client()
    client.force_login(subject.user)
    wrong = []
    for namespace, name, route, view in web_patterns():
        if namespace == API_NAMESPACE:
            continue
        rule = view_rule(name, view)
        response = client.get(web_url(name, route, ids, subject.user))
        allowed = expected_allowed(rule, role)
        refused = response.status_code == 403 or to_login(response)
        if allowed == refused:
            wrong.append(f"{name}: rule {rule}, got {response.status_code}")
    assert not wrong, f"{role}: {wrong}"


def test_signed_out_visitors_reach_public_pages_only(make_member, social_account):
    subject, ids = workspace_for(Role.OWNER, make_member, social_account)
    client = Client()
    wrong = []
    for namespace, name, route, view in web_patterns():
        if namespace == API_NAMESPACE:
            continue
        rule = view_rule(name, view)
        response = client.get(web_url(name, route, ids, subject.user))
        if (rule == PUBLIC) == to_login(response) or response.status_code == 403:
            wrong.append(f"{name}: rule {rule}, got {response.status_code}")
    assert not wrong, wrong


# --------------------------------------------------------------------------- API


def fill(path, ids):
    return re.sub(r"{(\w+)}", lambda m: placeholder(ids, m.group(1), path), path)


def ordered_operations():
    return sorted(api_operations(), key=lambda item: (METHOD_ORDER[item[0]], item[1]))


@pytest.mark.parametrize("role", list(Role))
def test_api_operations_allow_and_refuse_each_role_as_declared(
    role, api, api_token_for, make_member, social_account
):
    subject, ids = workspace_for(role, make_member, social_account)
    token = api_token_for(subject)  # every scope: only the role can refuse
    wrong = []
    for method, path, _operation in ordered_operations():
        if (method, path) not in API_RULES:
            pytest.fail(f"{method} {path} has no entry in API_RULES")
        rule, body = API_RULES[(method, path)]
        response = api.call(method.lower(), fill(path, ids), token, body)
        allowed = expected_allowed(rule, role)
        assert response.status_code != 401, f"{method} {path}: token not accepted"
        assert response.status_code != 422, f"{method} {path}: body {body} is not valid"
        if allowed == (response.status_code == 403):
            wrong.append(f"{method} {path}: rule {rule}, got {response.status_code}")
    assert not wrong, f"{role}: {wrong}"


def test_api_operations_refuse_a_token_without_their_scope(
    api, api_token_for, owner, social_account
):
    from chorus.networks.models import AccountStatus

    ids = {
        "member_id": 0,
        "team_id": 0,
        "invitation_id": 0,
        "token_id": 0,
        "account_id": social_account(owner.workspace, status=AccountStatus.NEEDS_RECONNECT).pk,
        "policy_id": 0,
        "post_id": 0,
        "variant_id": 0,
        "campaign_id": 0,
        "workflow_id": 0,
        "topic_id": 0,
        "query_id": 0,
        "alert_rule_id": 0,
        "board_id": 0,
        "mention_id": 0,
        "link_id": 0,
        "goal_id": 0,
        "tracked_id": 0,
        "conversation_id": 0,
        "reply_id": 0,
        "suggestion_id": 0,
        "report_id": 0,
        "competitor_id": 0,
    }
    wrong = []
    for method, path, operation in api_operations():
        scope = operation_scope(operation.auth_callbacks)
        token = api_token_for(owner, [s for s in Scope.values if s != scope])
        _rule, body = API_RULES.get((method, path), (None, None))
        response = api.call(method.lower(), fill(path, ids), token, body)
        message = response.json()["error"]["message"] if response.status_code == 403 else ""
        if response.status_code != 403 or scope not in message:
            wrong.append(f"{method} {path} without {scope}: {response.status_code}")
    assert not wrong, wrong


def test_signed_out_api_calls_are_refused(api):
    wrong = []
    for method, path, _operation in api_operations():
        _rule, body = API_RULES.get((method, path), (None, None))
        ids = {name: 1 for name in re.findall(r"{(\w+)}", path)}
        response = api.call(method.lower(), fill(path, ids), None, body)
        if response.status_code != 401:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong
