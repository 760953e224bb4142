"""The demo workspace's life: sandbox accounts, a week of posts, a campaign, a policy, a workflow.

`demo_content_ensure` runs after `chorus.accounts.demo.ensure_demo`, with the sandbox
listening. Everything goes through the same services a person's clicks go through: the
accounts connect with the real sign-in flows (Bluesky's app password, Mastodon's OAuth with
the sandbox's consent page answered for the demo owner), posts are written, scheduled,
submitted and approved by the teammates who would do so. Only the past week is written
directly: those posts are published on the sandbox through the real providers now and
recorded at the times they were meant for, so the calendar, the on-time record and the
audience have a history to show from the first minute.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
from django.db import transaction
from django.utils import timezone

from chorus.accounts.demo import BRAND, DEMO_EMAIL
from chorus.accounts.models import Membership
from chorus.governance import services as governance
from chorus.governance.models import PolicyAction, PolicyKind
from chorus.networks import services as networks
from chorus.networks.models import AccessLevel, SocialAccount
from chorus.networks.providers.base import PostDraft
from chorus.publishing import approval_workflows, approvals, campaigns, services
from chorus.publishing.models import Campaign, Post, PostState, Variant, VariantStatus
from chorus.publishing.services import VariantInput

BLUESKY_HANDLE = "mekongcoffee.sandbox"
CAMPAIGN = "Cold brew season"
MASTODON_USERS = ("mekongcoffee", "mekongcoffee_kh")

# (days from today, local time, language, accounts (b = Bluesky, m = Mastodon, k = Khmer
# Mastodon), text, in the campaign)
HISTORY = (
    (
        -6,
        "08:30",
        "en",
        "bm",
        "Good morning, Phnom Penh! Our rainy-season menu starts today ☕🌧️ #MekongCoffee",
        False,
    ),
    (-5, "09:00", "km", "k", "អរុណសួស្តី! កាហ្វេទឹកដោះគោទឹកកកថ្មី រង់ចាំអ្នកនៅហាងយើង ☕", False),
    (-4, "12:15", "th", "bm", "กาแฟดริปจากมณฑลคีรีมาแล้วค่ะ ลองได้ทุกสาขา ☕ #MekongCoffee", False),
    (
        -3,
        "08:00",
        "en",
        "bmk",
        "Cold brew is back! Steeped for 18 hours, served over ice 🧊 #ColdBrewSeason",
        True,
    ),
    (-2, "17:30", "km", "k", "ចុងសប្តាហ៍នេះ តន្ត្រីផ្ទាល់នៅហាងមាត់ទន្លេ ម៉ោង ៧ យប់ 🎶", False),
    (
        -1,
        "10:00",
        "en",
        "bmk",
        "Thank you for 1,000 app orders this month 🙏 You keep us brewing.",
        False,
    ),
)
UPCOMING = (  # (days from today, local time or None for "in a minute", ...)
    (
        0,
        None,
        "en",
        "bmk",
        "Fresh Mondulkiri beans are roasting right now. Come and smell it 😄",
        False,
    ),
    (1, "08:30", "th", "bm", "เช้านี้ลองลาเต้มะพร้าวเย็นหรือยังคะ 🥥 #MekongCoffee", False),
    (2, "09:00", "km", "k", "កាហ្វេត្រជាក់ ១៨ ម៉ោង មានលក់គ្រប់សាខាហើយ 🧊 #ColdBrewSeason", True),
    (3, "12:00", "en", "bm", "Lunch pairing: cold brew and a banana-leaf sticky rice 🍌", True),
    (5, "18:00", "en", "bmk", "Riverside open-mic night this Saturday from 7 pm 🎤", False),
)
FOR_APPROVAL = (  # written by Somchai (contributor): they wait for the owner's approval
    (4, "08:00", "th", "bm", "โคลด์บรูว์สูตรใหม่ หวานน้อย สดชื่นทั้งวัน 🧊 #ColdBrewSeason", True),
    (
        6,
        "09:30",
        "en",
        "bmk",
        "Bring a friend on Sunday: 20% discount on the second cold brew 🧊",
        True,
    ),
)
APPROVED = (  # also Somchai's, already approved by the owner
    (2, "15:00", "th", "bm", "บ่ายนี้มีกาแฟเย็นแจกฟรีที่สาขาริมน้ำ 50 แก้วแรกค่ะ 🧊 #ColdBrewSeason", True),
)


def _owner() -> Membership | None:
    return (
        Membership.objects.filter(user__email=DEMO_EMAIL, workspace__name=BRAND, role="owner")
        .select_related("workspace", "user")
        .first()
    )


def demo_content_ensure(*, sandbox_url: str) -> bool:
    """Fill the demo workspace once (False if it already has sandbox accounts; then only
    schedule the coming days again when nothing is left to go out, e.g. a week later)."""
    owner = _owner()
    if owner is None:
        return False
    if SocialAccount.objects.filter(workspace=owner.workspace, sandbox=True).exists():
        _top_up(owner)
        return False
    accounts = _connect(owner, sandbox_url)
    members = {
        m.user.email.split("@")[0]: m
        for m in Membership.objects.filter(workspace=owner.workspace).select_related("user")
    }
    _grant(owner, accounts, members)
    campaign = campaigns.campaign_save(
        actor=owner,
        name=CAMPAIGN,
        description="Rainy-season cold brew launch across Phnom Penh, Bangkok and online.",
        colour="#1098ad",
        starts_on=timezone.localdate() - timedelta(days=3),
        ends_on=timezone.localdate() + timedelta(days=14),
    )
    governance.policy_create(
        actor=owner,
        name="Offers need sign-off",
        kind=PolicyKind.BANNED_TERMS,
        action=PolicyAction.REQUIRE_APPROVAL,
        terms=["discount", "free", "ส่วนลด", "ฟรี", "បញ្ចុះតម្លៃ", "ឥតគិតថ្លៃ"],
    )
    approval_workflows.workflow_save(
        actor=owner,
        name="Campaign sign-off",
        steps=[approval_workflows.StepInput(role="admin")],
        campaign_id=campaign.pk,
    )
    zone = ZoneInfo(owner.workspace.timezone)
    rng = random.Random(owner.workspace.pk)
    for row in HISTORY:
        _published(owner, accounts, campaign, row, zone, rng)
    for row in UPCOMING:
        _scheduled(owner, accounts, campaign, row, zone)
    for row in FOR_APPROVAL:
        _scheduled(members["somchai"], accounts, campaign, row, zone)
    for row in APPROVED:
        post = _scheduled(members["somchai"], accounts, campaign, row, zone)
        approvals.post_approve(actor=owner, post=post, comment="Good to go 👍")
    services.post_save(
        actor=members["malis"],
        variants=[VariantInput(account_id=accounts["k"].pk, text="ភេសជ្ជៈថ្មីសម្រាប់ខែវស្សា…")],
    )
    with httpx.Client(base_url=sandbox_url, timeout=30) as control:  # a week of reactions
        control.post("/_emulator/audience", json={"act": 60}).raise_for_status()
    return True


def _top_up(owner: Membership) -> None:
    """A demo made long ago has nothing left to publish: schedule the coming days again."""
    workspace = owner.workspace
    if Variant.objects.filter(
        post__workspace=workspace, status=VariantStatus.SCHEDULED, scheduled_at__gte=timezone.now()
    ).exists():
        return
    found = SocialAccount.objects.filter(workspace=workspace, sandbox=True, status="active")
    handles = {
        "b": BLUESKY_HANDLE,
        "m": f"{MASTODON_USERS[0]}@",
        "k": f"{MASTODON_USERS[1]}@",
    }
    accounts = {
        key: next((a for a in found if a.handle == start or a.handle.startswith(start)), None)
        for key, start in handles.items()
    }
    if not all(accounts.values()):
        return  # the owner changed the demo's accounts: leave their workspace alone
    campaign = Campaign.objects.filter(workspace=workspace, name=CAMPAIGN).first()
    for days, clock, language, keys, text, in_campaign in UPCOMING:
        row = (days, clock, language, keys, text, in_campaign and campaign is not None)
        _scheduled(owner, accounts, campaign, row, ZoneInfo(workspace.timezone))


def _connect(owner: Membership, sandbox_url: str) -> dict[str, SocialAccount]:
    """The three sandbox accounts, connected through the real sign-in flows."""
    accounts = {
        "b": networks.account_connect_with_password(
            actor=owner,
            provider_key="bluesky",
            identifier=BLUESKY_HANDLE,
            password="demo-app-password",
            service_url=sandbox_url,
        )
    }
    with httpx.Client(timeout=30) as browser:
        for key, username in zip("mk", MASTODON_USERS, strict=True):
            url = networks.oauth_begin(actor=owner, provider_key="mastodon", server_url=sandbox_url)
            query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            consent = browser.post(
                f"{sandbox_url}/oauth/authorize", data={**query, "username": username}
            )
            back = parse_qs(urlsplit(consent.headers["Location"]).query)
            accounts[key] = networks.oauth_complete(
                actor=owner, state=back["state"][0], code=back["code"][0]
            )
    return accounts


def _grant(owner: Membership, accounts: dict[str, SocialAccount], members: dict) -> None:
    levels = {
        members["malis"]: {AccessLevel.PUBLISH, AccessLevel.REPLY, AccessLevel.ANALYTICS},
        members["somchai"]: {AccessLevel.DRAFT},
        members["anahit"]: {AccessLevel.REPLY},
        members["baraka"]: {AccessLevel.ANALYTICS},
    }
    for account in accounts.values():
        networks.account_set_member_levels(
            actor=owner,
            account=account,
            levels={m: {str(level) for level in chosen} for m, chosen in levels.items()},
        )


def _when(days: int, clock: str | None, zone: ZoneInfo) -> datetime:
    if clock is None:
        return timezone.now() + timedelta(minutes=1)  # goes out while the newcomer looks
    day = timezone.localdate(timezone=zone) + timedelta(days=days)
    hour, minute = (int(part) for part in clock.split(":"))
    moment = datetime.combine(day, time(hour, minute), tzinfo=zone)
    if days >= 0 and moment <= timezone.now() + timedelta(minutes=30):
        moment += timedelta(days=1)  # that time has passed today: the same time tomorrow
    return moment


def _write(actor: Membership, accounts: dict, campaign, row) -> Post:
    _days, _clock, _language, keys, text, in_campaign = row
    return services.post_save(
        actor=actor,
        variants=[VariantInput(account_id=accounts[key].pk, text=text) for key in keys],
        campaign_id=campaign.pk if in_campaign else None,
    )


def _scheduled(actor: Membership, accounts: dict, campaign, row, zone: ZoneInfo) -> Post:
    post = _write(actor, accounts, campaign, row)
    return services.post_schedule(actor=actor, post=post, at=_when(row[0], row[1], zone))


@transaction.atomic
def _published(owner: Membership, accounts: dict, campaign, row, zone, rng) -> Post:
    """Publish on the sandbox now, through the real provider; record it at its past time."""
    post = _write(owner, accounts, campaign, row)
    when = _when(row[0], row[1], zone)
    for variant in post.variants.select_related("account"):
        with networks.provider_for(variant.account) as provider:
            published = provider.publish(
                PostDraft(
                    text=variant.text,
                    idempotency_key=str(variant.idempotency_key),
                    language=row[2],
                )
            )
        ref = published.ref
        variant.status = VariantStatus.PUBLISHED
        variant.scheduled_at = when
        variant.published_at = when + timedelta(seconds=rng.uniform(0.4, 3.5))
        variant.remote_id, variant.remote_url = ref.remote_id, ref.url
        variant.parts_published = [{"id": ref.remote_id, "url": ref.url, "extra": ref.extra}]
        variant.attempts = 1
        variant.save()
    post.state = PostState.SCHEDULED
    post.scheduled_at = when
    post.save(update_fields=["state", "scheduled_at", "updated_at"])
    return post
