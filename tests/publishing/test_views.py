"""Publishing pages through Django's test client: who may do what, and wall-clock times.

No network is involved: the social accounts here are rows only (scheduling and moving
never call a network; the browser tests publish through the real Mastodon test server).
"""

import datetime as dt
import json
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from tests.publishing import samples

from chorus.accounts.roles import Role
from chorus.core.errors import ServiceError
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import campaigns, services
from chorus.publishing.models import MediaAsset, Post, PostState, QueueSlot, VariantStatus
from chorus.publishing.validation import part_lengths
from chorus.web.views.timeinput import local_to_utc

pytestmark = pytest.mark.django_db

KHMER_THAI = "សួស្តី 👋🏽 สวัสดีครับ 🇰🇭 https://example.com/a/very/long/path/that/is/long"
PNG_2X3 = samples.png(2, 3)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def account(owner):
    return SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="brand",
        handle="brand@mastodon.example",
        identity={"server_url": "https://mastodon.example"},
        status=AccountStatus.ACTIVE,
    )


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def zone(owner, name: str) -> None:
    owner.workspace.timezone = name
    owner.workspace.save()


def compose_data(account, text="Hello", action="save", **extra):
    return {"accounts": [account.pk], "text": text, "action": action, **extra}


def future_day(days=30) -> dt.date:
    return timezone.now().date() + dt.timedelta(days=days)


def last_sunday_of_march(year: int) -> dt.date:
    day = dt.date(year, 3, 31)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


# --------------------------------------------------------------------------- permissions


def test_viewer_cannot_reach_the_composer_but_sees_the_calendar(make_member, owner, account):
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    client = client_for(viewer)
    assert client.get("/posts/new/").status_code == 403
    assert client.post("/posts/new/", compose_data(account)).status_code == 403
    assert client.post("/posts/preview/", compose_data(account)).status_code == 403
    assert client.get("/calendar/").status_code == 200
    assert client.get("/campaigns/").status_code == 200
    assert client.get("/queue/").status_code == 403
    assert not Post.objects.exists()
    nav = client.get("/calendar/").content.decode()
    assert 'href="/calendar/"' in nav and 'href="/posts/new/"' not in nav


def test_contributor_saves_drafts_and_submits_them_for_approval(make_member, owner, account):
    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    account.allowed_members.add(contributor, through_defaults={"publish": True})
    client = client_for(contributor)
    page = client.get("/posts/new/").content.decode()
    assert 'id="save-draft"' in page and 'id="submit-for-approval"' in page
    assert 'id="schedule"' not in page
    assert 'id="publish-now"' not in page and 'href="/queue/"' not in page

    response = client.post("/posts/new/", compose_data(account, "Draft by a contributor"))
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.state == PostState.DRAFT and post.author == contributor.user

    when = {"scheduled_date": future_day().isoformat(), "scheduled_time": "10:00"}
    # "Publish now" cannot wait for an approver: refused, nothing armed.
    response = client.post(f"/posts/{post.pk}/edit/", compose_data(account, "x", "publish"))
    assert response.status_code == 400
    assert "needs approval" in response.content.decode()
    move = client.post(
        f"/posts/{post.pk}/move/", {"date": future_day().isoformat(), "time": "9:00"}
    )
    assert move.status_code == 403
    response = client.post(
        f"/posts/{post.pk}/edit/",
        compose_data(account, "Draft by a contributor", "schedule", **when),
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == PostState.PENDING_APPROVAL
    assert post.variants.get().status == VariantStatus.DRAFT  # not armed until approved


def test_contributor_only_sees_accounts_granted_to_them(make_member, owner, account):
    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    client = client_for(contributor)
    assert account.handle not in client.get("/posts/new/").content.decode()
    response = client.post("/posts/new/", compose_data(account))
    assert response.status_code == 400
    assert "Choose at least one social account" in response.content.decode()


def test_another_workspaces_post_is_not_found(make_member, owner, account):
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="Ours")]
    )
    stranger = make_member(Role.OWNER)  # owner of a workspace of their own
    client = client_for(stranger)
    assert client.get(f"/posts/{post.pk}/").status_code == 404
    assert client.get(f"/posts/{post.pk}/edit/").status_code == 404
    assert client.post(f"/posts/{post.pk}/edit/", compose_data(account)).status_code == 404
    assert client.post(f"/posts/{post.pk}/cancel/").status_code == 404
    assert client.post(f"/posts/{post.pk}/delete/").status_code == 404
    move = client.post(f"/posts/{post.pk}/move/", {"date": "2030-01-01", "time": "10:00"})
    assert move.status_code == 404
    variant = post.variants.get()
    assert client.post(f"/variants/{variant.pk}/retry/").status_code == 404
    autosave = client.post("/posts/autosave/", {**compose_data(account), "post": post.pk})
    assert autosave.status_code == 404
    assert Post.objects.get(pk=post.pk).variants.get().text == "Ours"


def test_media_files_are_private_to_their_workspace(make_member, owner):
    client = client_for(owner)
    upload = SimpleUploadedFile("photo.bin", PNG_2X3, content_type="application/octet-stream")
    response = client.post("/media/upload/", {"upload": upload})
    assert response.status_code == 200
    asset = MediaAsset.objects.get()
    assert (asset.mime_type, asset.width, asset.height) == ("image/png", 2, 3)
    assert f"/media/{asset.pk}/" in response.content.decode()
    served = client.get(f"/media/{asset.pk}/")
    stored = asset.file.open("rb").read()
    assert served.status_code == 200 and b"".join(served.streaming_content) == stored
    assert asset.size == len(stored)
    assert client_for(make_member(Role.OWNER)).get(f"/media/{asset.pk}/").status_code == 404


# --------------------------------------------------------------------------- time zones


def test_local_to_utc_is_dst_correct():
    london = zoneinfo.ZoneInfo("Europe/London")
    change = last_sunday_of_march(2027)
    before, after = change - dt.timedelta(days=1), change + dt.timedelta(days=1)
    assert local_to_utc(before, dt.time(10, 0), london) == dt.datetime(
        before.year, before.month, before.day, 10, 0, tzinfo=dt.UTC
    )
    assert local_to_utc(after, dt.time(10, 0), london) == dt.datetime(
        after.year, after.month, after.day, 9, 0, tzinfo=dt.UTC
    )
    assert local_to_utc(change, dt.time(0, 30), london).hour == 0  # still GMT
    assert local_to_utc(change, dt.time(2, 30), london).hour == 1  # BST
    with pytest.raises(ServiceError, match="does not exist"):
        local_to_utc(change, dt.time(1, 30), london)  # the hour the clocks skip
    autumn = dt.date(2027, 10, 31)  # 01:30 happens twice: the first (BST) is taken
    assert local_to_utc(autumn, dt.time(1, 30), london) == dt.datetime(
        2027, 10, 31, 0, 30, tzinfo=dt.UTC
    )


def test_schedule_is_read_in_phnom_penh_time(owner, account):
    zone(owner, "Asia/Phnom_Penh")
    client = client_for(owner)
    day = future_day(10)
    page = client.get("/posts/new/").content.decode()
    assert "Asia/Phnom_Penh" in page
    response = client.post(
        "/posts/new/",
        compose_data(
            account,
            "Morning in Phnom Penh",
            "schedule",
            scheduled_date=day.isoformat(),
            scheduled_time="09:30",
        ),
    )
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.state == PostState.SCHEDULED
    assert post.scheduled_at == dt.datetime.combine(day, dt.time(2, 30), tzinfo=dt.UTC)
    variant = post.variants.get()
    assert variant.status == VariantStatus.SCHEDULED and variant.due_at == post.scheduled_at
    detail = client.get(f"/posts/{post.pk}/").content.decode()
    assert "09:30" in detail and "Asia/Phnom_Penh" in detail
    edit = client.get(f"/posts/{post.pk}/edit/").content.decode()
    assert f'value="{day.isoformat()}"' in edit and 'value="09:30"' in edit


@pytest.mark.parametrize(
    ("offset_days", "local", "utc_hour"),
    [(-1, "10:00", 10), (0, "00:30", 0), (0, "02:30", 1), (1, "10:00", 9)],
)
def test_schedule_across_the_march_change_in_london(owner, account, offset_days, local, utc_hour):
    zone(owner, "Europe/London")
    day = last_sunday_of_march(timezone.now().year + 1) + dt.timedelta(days=offset_days)
    response = client_for(owner).post(
        "/posts/new/",
        compose_data(
            account, "Spring", "schedule", scheduled_date=day.isoformat(), scheduled_time=local
        ),
    )
    assert response.status_code == 302
    scheduled = Post.objects.get().scheduled_at.astimezone(dt.UTC)
    assert (scheduled.date(), scheduled.hour) == (day, utc_hour)


def test_a_time_the_clocks_skip_is_refused_next_to_the_field(owner, account):
    zone(owner, "Europe/London")
    day = last_sunday_of_march(timezone.now().year + 1)
    response = client_for(owner).post(
        "/posts/new/",
        compose_data(
            account, "Spring", "schedule", scheduled_date=day.isoformat(), scheduled_time="01:30"
        ),
    )
    assert response.status_code == 400
    assert 'id="schedule-error"' in response.content.decode()
    assert "does not exist" in response.content.decode()
    assert Post.objects.get().state == PostState.DRAFT  # the draft itself was kept


def test_a_past_time_is_refused(owner, account):
    response = client_for(owner).post(
        "/posts/new/",
        compose_data(
            account, "Late", "schedule", scheduled_date="2020-01-01", scheduled_time="10:00"
        ),
    )
    assert response.status_code == 400
    assert "Choose a time in the future." in response.content.decode()


def test_calendar_places_posts_at_local_time_and_move_keeps_the_time(owner, account):
    zone(owner, "Asia/Phnom_Penh")
    client = client_for(owner)
    campaign = campaigns.campaign_save(actor=owner, name="Water festival", colour="#e8590c")
    post = services.post_save(
        actor=owner,
        variants=[services.VariantInput(account_id=account.pk, text="Boat race")],
        campaign_id=campaign.pk,
    )
    day = future_day(20)
    services.post_schedule(
        actor=owner, post=post, at=dt.datetime.combine(day, dt.time(1, 15), tzinfo=dt.UTC)
    )
    page = client.get(f"/calendar/?view=month&date={day.isoformat()}").content.decode()
    cell = page.split(f'data-date="{day.isoformat()}"', 1)[1].split("</td>", 1)[0]
    assert "08:15" in cell and "Boat race" in cell and "#e8590c" in cell
    assert f"/posts/{post.pk}/move/" in cell
    week = client.get(f"/calendar/?view=week&date={day.isoformat()}").content.decode()
    slot = week.split(f'data-date="{day.isoformat()}" data-hour="8"', 1)[1].split("</td>", 1)[0]
    assert "Boat race" in slot
    listed = client.get(f"/calendar/?view=list&date={day.isoformat()}&campaign={campaign.pk}")
    assert "Boat race" in listed.content.decode()
    other = client.get(f"/calendar/?view=list&date={day.isoformat()}&status=failed")
    assert "Boat race" not in other.content.decode()

    target = day + dt.timedelta(days=3)
    response = client.post(f"/posts/{post.pk}/move/", {"date": target.isoformat(), "time": "08:15"})
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["time"] == "08:15"
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime.combine(target, dt.time(1, 15), tzinfo=dt.UTC)
    refused = client.post(f"/posts/{post.pk}/move/", {"date": "2020-01-01", "time": "08:15"})
    assert refused.status_code == 400 and "future" in json.loads(refused.content)["error"]


# --------------------------------------------------------------------------- composer


def test_preview_counts_the_mastodon_way_and_names_problems(owner, account):
    client = client_for(owner)
    response = client.post("/posts/preview/", compose_data(account, KHMER_THAI))
    body = response.content.decode()
    expected = part_lengths("mastodon", [KHMER_THAI])[0].count
    assert f'data-count="{expected}"' in body and f"{expected} / 500" in body
    assert 'class="ent ent-link"' in body
    too_long = "ก" * 501
    body = client.post("/posts/preview/", compose_data(account, too_long)).content.decode()
    assert "counter over" in body and "1 too many" in body


def test_preview_marks_the_words_a_policy_objects_to(owner, account):
    from chorus.governance import services as governance

    governance.policy_create(
        actor=owner, name="No discounts", kind="banned_terms", terms=["ส่วนลด"], action="block"
    )
    body = (
        client_for(owner)
        .post("/posts/preview/", compose_data(account, "วันนี้มีส่วนลดพิเศษ"))
        .content.decode()
    )
    assert "<mark>ส่วนลด</mark>" in body and "Blocks" in body


def test_per_account_override_thread_and_poll_are_saved(owner, account):
    client = client_for(owner)
    data = compose_data(
        account,
        "Shared",
        **{
            f"v{account.pk}-text": "Own words",
            f"v{account.pk}-thread": ["Second part", "", "Third part"],
            f"v{account.pk}-cw": "Spoilers",
            f"v{account.pk}-poll": ["Yes", "No", "", ""],
            f"v{account.pk}-poll_duration": "3600",
        },
    )
    assert client.post("/posts/new/", data).status_code == 302
    variant = Post.objects.get().variants.get()
    assert variant.text == "Own words"
    assert variant.thread == ["Second part", "Third part"]
    assert variant.content_warning == "Spoilers"
    assert variant.poll == {"options": ["Yes", "No"], "expires_in": 3600}
    edit = client.get(f"/posts/{variant.post_id}/edit/").content.decode()
    assert "Third part" in edit and 'value="Spoilers"' in edit


def test_invalid_post_problems_are_shown_next_to_the_account(owner, account):
    response = client_for(owner).post(
        "/posts/new/",
        compose_data(account, "x" * 600, "publish"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    problems = body.split(f'id="problems-{account.pk}"', 1)[1].split("</ul>", 1)[0]
    assert "100 too many" in problems


def test_autosave_creates_one_draft_and_then_updates_it(owner, account):
    client = client_for(owner)
    first = client.post("/posts/autosave/", compose_data(account, "Typing"))
    post = Post.objects.get()
    assert first["HX-Replace-Url"] == f"/posts/{post.pk}/edit/"
    assert (
        "Kept as a draft" in first.content.decode()
        and 'hx-swap-oob="true"' in first.content.decode()
    )
    second = client.post(
        "/posts/autosave/", {**compose_data(account, "Typing more"), "post": post.pk}
    )
    assert second.status_code == 200 and "HX-Replace-Url" not in second
    assert Post.objects.count() == 1
    assert post.variants.get().text == "Typing more"
    empty = client.post("/posts/autosave/", compose_data(account, "  "))
    assert "Not saved yet" in empty.content.decode() and Post.objects.count() == 1


def test_post_detail_actions(owner, account):
    client = client_for(owner)
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="Hi")]
    )
    services.post_schedule(actor=owner, post=post, at=timezone.now() + dt.timedelta(days=2))
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert "Scheduled" in page and 'id="unschedule"' in page and 'id="edit-post"' in page
    client.post(f"/posts/{post.pk}/unschedule/")
    post.refresh_from_db()
    assert post.state == PostState.DRAFT
    response = client.post(f"/posts/{post.pk}/duplicate/")
    assert Post.objects.count() == 2 and response.status_code == 302
    client.post(f"/posts/{post.pk}/cancel/")
    post.refresh_from_db()
    assert post.variants.get().status == VariantStatus.CANCELLED
    assert "Cancelled" in client.get(f"/posts/{post.pk}/").content.decode()
    client.post(f"/posts/{post.pk}/delete/")
    assert not Post.objects.filter(pk=post.pk).exists()


# --------------------------------------------------------------------------- campaigns, queue


def test_campaigns_create_edit_and_link_to_the_calendar(owner):
    client = client_for(owner)
    response = client.post(
        "/campaigns/new/",
        {"name": "Launch", "colour": "#2b8a3e", "starts_on": "2030-01-01", "ends_on": "2029-01-01"},
    )
    assert response.status_code == 400 and "ends before it starts" in response.content.decode()
    client.post("/campaigns/new/", {"name": "Launch", "colour": "#2b8a3e"})
    campaign = owner.workspace.campaigns.get()
    client.post(f"/campaigns/{campaign.pk}/", {"name": "Launch 2", "colour": "#123456"})
    campaign.refresh_from_db()
    assert (campaign.name, campaign.colour) == ("Launch 2", "#123456")
    page = client.get("/campaigns/").content.decode()
    assert f"/calendar/?view=list&campaign={campaign.pk}" in page


def test_queue_slots_and_next_free_slot(owner, account):
    zone(owner, "Asia/Phnom_Penh")
    client = client_for(owner)
    response = client.post(f"/queue/{account.pk}/", {"day-0": "09:00, 13:30", "day-4": "18:00"})
    assert response.status_code == 302
    assert sorted((s.weekday, s.time.strftime("%H:%M")) for s in QueueSlot.objects.all()) == [
        (0, "09:00"),
        (0, "13:30"),
        (4, "18:00"),
    ]
    page = client.get("/queue/").content.decode()
    assert 'value="09:00, 13:30"' in page and "Next free slot" in page
    client.post(f"/queue/{account.pk}/", {"day-1": "25:99"})
    assert QueueSlot.objects.count() == 3  # refused, kept as it was
    response = client.post("/posts/new/", compose_data(account, "Queued one", "queue"))
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.via_queue and post.state == PostState.SCHEDULED
    local = timezone.localtime(post.scheduled_at, zoneinfo.ZoneInfo("Asia/Phnom_Penh"))
    assert (local.weekday(), local.strftime("%H:%M")) in {(0, "09:00"), (0, "13:30"), (4, "18:00")}
    assert "Queued one" in client.get("/queue/").content.decode()
    assert "Queued" in client.get(f"/posts/{post.pk}/").content.decode()
