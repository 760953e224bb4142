"""Competitors: public accounts on Bluesky and Mastodon the workspace compares itself with.

Adding one reads its public profile (no credentials: the providers' `fetch_public_*`
classmethods over the guarded HTTP client). Each day collection reads its counts (one
`CompetitorDaily` row a day: followers over time) and its recent own posts with their
counts. Every read is charged to the server budget of wherever it goes (the public Bluesky
AppView, the competitor's Mastodon server) through `budgets.reserve_server_background`,
so it stops short of the share kept for publishing. A failed read stores only the error;
an account the network says is gone keeps its history and shows as gone.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.analytics.collection import ACCOUNT_EVERY, RETRY_AFTER_FAILURE, Outcome, local_day
from chorus.analytics.models import Competitor, CompetitorDaily, CompetitorPost
from chorus.analytics.reports import check_may_manage
from chorus.analytics.selectors import analytics_accounts
from chorus.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from chorus.networks import budgets
from chorus.networks.http import client
from chorus.networks.providers import PROVIDERS, get_provider
from chorus.networks.providers.base import AccountGone, ProviderError, PublicPost, PublicProfile

POSTS_READ = 40  # recent posts read each day (one request on both networks)
MAX_COMPETITORS = 50  # per workspace


def check_may_read(membership: Membership) -> None:
    """Competitors are compared with the member's own figures: analytics on at least one
    account of the workspace is needed to see them."""
    if not analytics_accounts(membership).exists():
        raise NotAllowed(
            _(
                "You have analytics on no social account of this workspace. Ask an admin to "
                "give you the analytics level on the accounts you report on."
            )
        )


def competitors_of(membership: Membership):
    check_may_read(membership)
    return Competitor.objects.filter(workspace=membership.workspace)


def access_competitor(*, membership: Membership, competitor_id: int) -> Competitor:
    competitor = competitors_of(membership).filter(pk=competitor_id).first()
    if competitor is None:
        raise NotFound(_("No such competitor."))
    return competitor


def networks_with_public_accounts() -> list[tuple[str, str]]:
    """(key, name) of the networks whose public accounts Chorus can read."""
    return sorted(
        ((key, cls.name) for key, cls in PROVIDERS.items() if cls.reads_public_accounts),
        key=lambda pair: pair[1],
    )


def _server(provider_key: str, reader_url: str) -> budgets.Server:
    return (provider_key, urlsplit(reader_url).netloc)


def competitor_add(*, actor: Membership, provider_key: str, address: str) -> Competitor:
    """Follow a public account: read its profile now (a clear answer if there is none),
    then its first counts and posts."""
    check_may_read(actor)
    check_may_manage(actor)
    provider = PROVIDERS.get(provider_key)
    if provider is None or not provider.reads_public_accounts:
        raise ServiceError(
            _("Chorus cannot read public accounts on this network."), field="provider"
        )
    if not address.strip():
        raise ServiceError(_("Enter the account's handle or address."), field="address")
    if Competitor.objects.filter(workspace=actor.workspace).count() >= MAX_COMPETITORS:
        raise ServiceError(
            _("A workspace follows at most %(count)s competitors.") % {"count": MAX_COMPETITORS}
        )
    try:
        with client() as http:
            profile = provider.fetch_public_profile(address, http=http)
    except AccountGone:
        raise ServiceError(
            _("%(network)s has no account %(address)s.")
            % {"network": provider.name, "address": address.strip()},
            field="address",
        ) from None
    except ProviderError as exc:
        raise ServiceError(
            _("%(network)s did not answer as expected: %(reason)s")
            % {"network": provider.name, "reason": exc.message},
            field="address",
        ) from None
    try:
        with transaction.atomic():
            competitor = Competitor.objects.create(
                workspace=actor.workspace,
                provider=provider_key,
                address=profile.address,
                remote_id=profile.remote_id,
                handle=profile.handle,
                reader_url=profile.reader_url,
                added_by=actor,
                next_collect_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict(
            _("%(handle)s is already among the competitors.") % {"handle": profile.handle}
        ) from None
    collect_competitor(competitor, now=timezone.now(), profile=profile)
    return competitor


def competitor_remove(*, actor: Membership, competitor: Competitor) -> None:
    check_may_manage(actor)
    if competitor.workspace_id != actor.workspace_id:
        raise NotFound(_("No such competitor."))
    competitor.delete()


# --------------------------------------------------------------------------- collection


def collect_competitors(*, now: datetime | None = None) -> Outcome:
    """Read every competitor due (daily), within the server budgets."""
    now = now or timezone.now()
    outcome = Outcome()
    due = Competitor.objects.filter(next_collect_at__lte=now, gone_at__isnull=True)
    for competitor in due.select_related("workspace"):
        outcome.add(collect_competitor(competitor, now=now))
    return outcome


def collect_competitor(
    competitor: Competitor, *, now: datetime, profile: PublicProfile | None = None
) -> Outcome:
    """One reading: its profile counts (unless just read) and its recent posts."""
    outcome = Outcome()
    requests = 1 if profile else 2
    retry = budgets.reserve_server_background(
        _server(competitor.provider, competitor.reader_url), requests, now
    )
    if retry is not None:
        Competitor.objects.filter(pk=competitor.pk).update(next_collect_at=retry)
        outcome.deferred = 1
        return outcome
    outcome.requests = requests
    provider = get_provider(competitor.provider)
    try:
        with client() as http:
            profile = profile or provider.fetch_public_profile(competitor.address, http=http)
            posts = provider.fetch_public_posts(profile, http=http, limit=POSTS_READ)
    except AccountGone as exc:
        competitor.gone_at, competitor.next_collect_at = now, None
        competitor.last_error = exc.message[:2000]
        competitor.save(update_fields=["gone_at", "next_collect_at", "last_error"])
        outcome.failed = 1
        return outcome
    except ProviderError as exc:
        competitor.last_error = exc.message[:2000]
        competitor.next_collect_at = now + RETRY_AFTER_FAILURE
        competitor.save(update_fields=["last_error", "next_collect_at"])
        outcome.failed, outcome.errors = 1, [exc.message]
        return outcome
    _record(competitor, profile, posts, now)
    outcome.read = 1
    return outcome


@transaction.atomic
def _record(
    competitor: Competitor, profile: PublicProfile, posts: tuple[PublicPost, ...], now: datetime
) -> None:
    CompetitorDaily.objects.update_or_create(
        competitor=competitor,
        day=local_day(now, competitor.workspace.timezone),
        defaults={
            "followers": profile.followers,
            "following": profile.following,
            "posts": profile.posts,
            "collected_at": now,
        },
    )
    known = {
        p.remote_id: p
        for p in CompetitorPost.objects.filter(
            competitor=competitor, remote_id__in=[p.ref.remote_id for p in posts]
        )
    }
    new = []
    for post in posts:
        counts = {n: getattr(post, n) for n in ("likes", "reposts", "replies", "quotes")}
        row = known.get(post.ref.remote_id)
        if row is None:
            new.append(
                CompetitorPost(
                    competitor=competitor,
                    remote_id=post.ref.remote_id,
                    url=post.ref.url,
                    text=post.text[:5000],
                    published_at=post.published_at,
                    collected_at=now,
                    **counts,
                )
            )
        else:
            CompetitorPost.objects.filter(pk=row.pk).update(collected_at=now, **counts)
    CompetitorPost.objects.bulk_create(new)
    competitor.handle, competitor.display_name = profile.handle, profile.display_name[:300]
    competitor.profile_url = profile.profile_url
    competitor.last_collected_at, competitor.last_error = now, ""
    competitor.next_collect_at = now + ACCOUNT_EVERY
    competitor.save(
        update_fields=[
            "handle",
            "display_name",
            "profile_url",
            "last_collected_at",
            "last_error",
            "next_collect_at",
        ]
    )
