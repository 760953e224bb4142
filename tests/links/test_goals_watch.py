"""Goals in the database: editing with the audit trail, the metrics other apps count,
and at-risk notifications (once per change, to the campaign's owner, in their language)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from chorus.accounts.models import Notification
from chorus.governance.models import AuditEntry
from chorus.links import selectors, services
from chorus.links.models import Click, Goal
from chorus.publishing import campaigns

pytestmark = pytest.mark.django_db


def clicks_on(link, day: dt.date, count: int):
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    Click.objects.bulk_create([Click(link=link, token=f"{day}-{i}", at=at) for i in range(count)])


def clicks_goal(actor, *, campaign=None, target=1000, started_days_ago=4, **extra):
    today = timezone.localdate()
    return services.goal_save(
        actor=actor,
        name="Clicks up",
        metric="clicks",
        campaign_id=campaign.pk if campaign else None,
        starts_on=today - dt.timedelta(days=started_days_ago),
        deadline=today + dt.timedelta(days=10),
        baseline_mode="entered",
        baseline=0,
        target_kind="absolute",
        target_value=target,
        **extra,
    )


def test_editing_a_goal_records_what_changed(owner):
    goal = clicks_goal(owner)
    services.goal_save(
        actor=owner,
        goal=goal,
        name="More clicks",
        metric="clicks",
        starts_on=goal.starts_on,
        deadline=goal.deadline,
        baseline_mode="entered",
        baseline=0,
        target_kind="absolute",
        target_value=1500,
    )
    entries = AuditEntry.objects.filter(target_type="goal", target_id=str(goal.pk))
    changed = entries.order_by("seq").last().changes["goal"]
    assert changed["event"] == "changed"
    assert changed["name"] == ["Clicks up", "More clicks"]
    assert changed["target"] == ["1000", "1500"]
    assert "metric" not in changed  # only what changed
    assert Goal.objects.get(pk=goal.pk).target == Decimal(1500)


def test_a_goal_edited_over_the_web_and_a_viewer_cannot(client, owner, make_member):
    goal = clicks_goal(owner)
    viewer = make_member("viewer", workspace=owner.workspace)
    client.force_login(viewer.user)
    assert client.get(f"/goals/{goal.pk}/edit/").status_code == 403
    client.force_login(owner.user)
    form = client.get(f"/goals/{goal.pk}/edit/")
    assert form.status_code == 200 and b'value="Clicks up"' in form.content
    data = {
        "name": "Renamed",
        "metric": "clicks",
        "campaign": "",
        "starts_on": goal.starts_on.isoformat(),
        "deadline": goal.deadline.isoformat(),
        "baseline_mode": "entered",
        "baseline": "0",
        "target_kind": "absolute",
        "target_value": "800",
    }
    response = client.post(f"/goals/{goal.pk}/edit/", data)
    assert response.status_code == 302 and Goal.objects.get(pk=goal.pk).name == "Renamed"


def test_an_at_risk_goal_notifies_its_campaigns_owner_once_in_their_language(
    owner, make_member, make_link
):
    planner = make_member("editor", workspace=owner.workspace)
    planner.user.language = "th"
    planner.user.save()
    campaign = campaigns.campaign_save(actor=owner, name="Rainy season", owner_id=planner.pk)
    link = make_link(owner.workspace)
    link.campaign = campaign
    link.save()
    clicks_on(link, timezone.localdate() - dt.timedelta(days=2), 3)
    goal = clicks_goal(owner, campaign=campaign)
    assert selectors.goal_progress(goal).status == "at_risk"
    mail.outbox.clear()
    assert services.goals_check() == 1
    assert services.goals_check() == 0  # still at risk: no second notice
    notice = Notification.objects.get(user=planner.user)
    assert notice.url == f"/goals/{goal.pk}/" and "Rainy season" not in notice.message
    assert "Clicks up" in notice.message and "at risk" not in notice.message  # Thai
    assert not Notification.objects.filter(user=owner.user).exists()
    # Back on track, then at risk again: a new change, a new notice.
    clicks_on(link, timezone.localdate(), 2000)
    services.goals_check()
    assert Goal.objects.get(pk=goal.pk).last_status == "achieved"
    Click.objects.filter(at__date=timezone.localdate()).delete()
    assert services.goals_check() == 1
    assert Notification.objects.filter(user=planner.user).count() == 2


def test_a_workspace_goal_notifies_whoever_set_it(owner, make_member):
    editor = make_member("editor", workspace=owner.workspace)
    clicks_goal(editor)
    services.goals_check()
    assert Notification.objects.filter(user=editor.user).count() == 1


def test_share_of_voice_and_followers_are_goal_metrics(owner):
    from chorus.analytics.models import AccountDaily
    from chorus.listening.models import Mention, Query, Topic
    from chorus.networks.models import SocialAccount

    today = timezone.localdate()
    topic = Topic.objects.create(workspace=owner.workspace, name="Coffee", kind="brand")
    ours = Query.objects.create(topic=topic, name="Us", role="brand", text="mekong")
    theirs = Query.objects.create(topic=topic, name="Them", role="competitor", text="rival")
    for i, query in enumerate([ours, ours, ours, theirs]):
        mention = Mention.objects.create(
            workspace=owner.workspace,
            network="bluesky",
            uri=f"at://m/{i}",
            author="someone",
            text="coffee",
            posted_at=timezone.now() - dt.timedelta(minutes=5),
        )
        mention.queries.add(query)
    share = selectors.metric_daily(
        workspace=owner.workspace,
        campaign_id=None,
        metric="share_of_voice",
        first=today,
        last=today,
    )
    assert share == {today: Decimal("75.0")}
    account = SocialAccount.objects.create(
        workspace=owner.workspace, provider="mastodon", remote_id="a", handle="a@m.example"
    )
    for back, followers in ((3, 100), (1, 130)):
        AccountDaily.objects.create(
            account=account,
            day=today - dt.timedelta(days=back),
            followers=followers,
            following=0,
            posts=0,
            collected_at=timezone.now(),
        )
    total = selectors.metric_total(
        workspace=owner.workspace,
        campaign_id=None,
        metric="followers",
        first=today - dt.timedelta(days=4),
        last=today - dt.timedelta(days=1),
    )
    assert total == Decimal(130)  # the latest reading, not a sum


def test_a_response_time_goal_must_aim_below_its_baseline(owner):
    today = timezone.localdate()
    common = {
        "actor": owner,
        "name": "Answer faster",
        "metric": "response_time",
        "starts_on": today,
        "deadline": today + dt.timedelta(days=30),
        "baseline_mode": "entered",
        "baseline": 60,
        "target_kind": "absolute",
    }
    with pytest.raises(services.ServiceError) as refused:
        services.goal_save(target_value=90, **common)
    assert "below the baseline" in refused.value.message
    goal = services.goal_save(**{**common, "target_kind": "percent"}, target_value=50)
    assert goal.target == Decimal(30)
