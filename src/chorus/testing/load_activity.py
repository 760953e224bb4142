"""What an agency's accounts hear and measure, at volume, for the pages benchmark (needs Django
set up and `load.seed_agency` run first).

Every row goes through the write path the product uses where that path is fast enough to
seed tens of thousands of rows (the inbox poller's `store_page`, listening's `ingest`, the
goal service); analytics history and clicks are bulk-written in the shape their collectors
write (`analytics.seed`, `links.services.clicks_write`).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chorus.testing.load import TEXTS, Agency

KINDS = ["reply"] * 5 + ["mention"] * 2 + ["quote", "direct_message", "like", "repost", "follow"]
DEVICES = ["mobile", "mobile", "desktop", "tablet"]
REFERRERS = ["mastodon.social", "bsky.app", "", "t.co"]


@dataclass
class Activity:
    """How much `seed_activity` wrote beside the agency's posts."""

    messages: int
    tracked_posts: int
    links: int
    clicks: int
    mentions: int
    goals: int


def seed_activity(
    agency: Agency,
    *,
    interactions: int = 50_000,
    tracked_per_account: int = 200,
    links: int = 2_000,
    clicks: int = 100_000,
    mentions: int = 20_000,
    now: datetime | None = None,
) -> Activity:
    from chorus.networks.models import SocialAccount

    now = now or datetime.now(UTC)
    rng = random.Random(17)
    accounts = list(SocialAccount.objects.filter(pk__in=agency.account_ids).order_by("pk"))
    return Activity(
        messages=_inbox(accounts, interactions, rng, now),
        tracked_posts=_analytics(accounts, tracked_per_account, now),
        links=links,
        clicks=_links(agency, accounts, links, clicks, rng, now),
        mentions=_listening(agency, mentions, rng, now),
        goals=_goals(agency, now),
    )


def _inbox(accounts, count: int, rng: random.Random, now: datetime) -> int:
    """Pages of 500 interactions per account, about five per person, through the poller's
    own write path (contacts, conversations, routing, cursor)."""
    from chorus.inbox import ingest
    from chorus.networks.providers.base import Interaction, InteractionPage, RemoteRef

    stored, page_size = 0, 500
    for first in range(0, count, page_size):
        account = accounts[(first // page_size) % len(accounts)]
        items = []
        for n in range(first, min(count, first + page_size)):
            kind, person = rng.choice(KINDS), n // 5
            silent = kind in ("like", "repost", "follow")
            items.append(
                Interaction(
                    kind=kind,
                    remote_id=f"{kind}-{n}",
                    author_handle=f"fan{person}@example.org",
                    created_at=now - timedelta(minutes=count - n),
                    author_name=f"Fan {person}",
                    text="" if silent else TEXTS[n % len(TEXTS)].format(n=n),
                    subject=RemoteRef(f"post-{person % 300}") if kind != "follow" else None,
                    conversation_id=f"dm-{person}" if kind == "direct_message" else "",
                )
            )
        result = ingest.store_page(
            account, InteractionPage(items=tuple(items), cursor=str(first)), now=now
        )
        stored += result.messages + result.activities
    return stored


def _analytics(accounts, per_account: int, now: datetime) -> int:
    from chorus.analytics.seed import seed_history

    seed_history(accounts, posts_per_account=per_account, days=270, now=now)
    from chorus.analytics.models import TrackedPost

    return TrackedPost.objects.filter(account__in=accounts).count()


def _links(agency: Agency, accounts, count: int, clicks: int, rng, now: datetime) -> int:
    from chorus.links.models import ShortLink
    from chorus.links.services import clicks_write
    from chorus.links.shortening import new_code
    from chorus.publishing.models import Variant, VariantStatus

    variants = list(
        Variant.objects.filter(
            post__workspace_id=agency.owner.workspace_id, status=VariantStatus.PUBLISHED
        )
        .select_related("post", "account")
        .order_by("-pk")[:count]
    )
    made = ShortLink.objects.bulk_create(
        [
            ShortLink(
                workspace_id=agency.owner.workspace_id,
                code=new_code(),
                target=f"https://mekong-coffee.example/item/{v.pk}?utm_medium=social",
                original_url=f"https://mekong-coffee.example/item/{v.pk}",
                post_id=v.post_id,
                variant=v,
                account_id=v.account_id,
                campaign_id=v.post.campaign_id,
                network=v.account.provider,
                post_label=v.post.text[:120],
            )
            for v in variants
        ],
        batch_size=1000,
    )
    written = 0
    while written < clicks:
        batch = [
            _Pending(
                link_id=rng.choice(made).pk,
                token=secrets.token_hex(16),
                at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 90)),
                referrer=rng.choice(REFERRERS),
                device=rng.choice(DEVICES),
                ip=None,
            )
            for _ in range(min(5_000, clicks - written))
        ]
        clicks_write(batch)
        written += len(batch)
    return written


@dataclass
class _Pending:
    """A buffered click, as the redirect hands it to `clicks_write`."""

    link_id: int
    token: str
    at: datetime
    referrer: str
    device: str
    ip: str | None


def _listening(agency: Agency, count: int, rng, now: datetime) -> int:
    """A topic with the brand and a competitor (share of voice), and a stream of posts half of
    which match."""
    from chorus.listening import services
    from chorus.listening.matcher import ListeningPost
    from chorus.listening.models import QueryRole, TopicKind

    owner = agency.owner
    brand = services.topic_create(actor=owner, name="Mekong Coffee", kind=TopicKind.BRAND)
    services.query_create(
        actor=owner, topic=brand, name="brand", text='"mekong coffee" OR กาแฟ OR #spring'
    )
    services.query_create(
        actor=owner,
        topic=brand,
        name="rival",
        text='"rival roasters" OR Karibu',
        role=QueryRole.COMPETITOR,
    )
    words = ["Mekong Coffee is great", "Rival Roasters opened", "Karibu sana", "กาแฟอร่อย"]
    stored, batch = 0, []
    for n in range(count * 2):
        text = f"{rng.choice(words)} {TEXTS[n % len(TEXTS)].format(n=n)}" if n % 2 else f"{n}"
        batch.append(
            services.IncomingPost(
                post=ListeningPost.from_text(text, network="bluesky", author=f"p{n % 997}.test"),
                uri=f"at://did:plc:load{n % 997}/app.bsky.feed.post/{n}",
                posted_at=now - timedelta(seconds=(count * 2 - n) * 30),
                author_followers=rng.randint(10, 50_000),
            )
        )
        if len(batch) == 1000:
            stored += services.ingest(batch)
            batch = []
    return stored + services.ingest(batch)


def _goals(agency: Agency, now: datetime) -> int:
    from chorus.links import services

    today = now.date()
    for metric in ("clicks", "conversions", "conversion_value"):
        services.goal_save(
            actor=agency.owner,
            name=f"More {metric}",
            metric=metric,
            starts_on=today - timedelta(days=30),
            deadline=today + timedelta(days=60),
            target_kind="absolute",
            target_value=100_000,
        )
    return 3
