"""Writes for posts: compose, schedule, queue, unschedule, retry, delete, repeat.

Campaigns and queue slots are written by `campaigns`; what follows a send, by `outcomes`.

Every function takes the acting membership and checks, here and not only in the UI,
that its role may do this and that it may use each social account involved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import Conflict, NotFound, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.networks.models import SocialAccount
from chorus.networks.selectors import accounts_usable_by
from chorus.publishing.models import (
    ApprovalStatus,
    Campaign,
    MediaAsset,
    Post,
    PostState,
    Variant,
    VariantMedia,
    VariantStatus,
)
from chorus.publishing.queues import next_free_slot
from chorus.publishing.validation import MediaInfo, Problem, check_variant

EDITABLE = {
    VariantStatus.DRAFT,
    VariantStatus.SCHEDULED,
    VariantStatus.HELD,
    VariantStatus.FAILED,
    VariantStatus.NEEDS_RECONNECT,
    VariantStatus.CANCELLED,
}
RETRYABLE = {VariantStatus.FAILED, VariantStatus.HELD, VariantStatus.NEEDS_RECONNECT}
# Storage bounds on a draft, far above any network's limits (those are checked when it is
# scheduled): a post is refused, not stored, past them. See docs/security.md.
MAX_PART_CHARACTERS = 10_000
MAX_THREAD_PARTS = 100
MAX_LINK_CHARACTERS = 2_048
MAX_MEDIA_PER_VARIANT = 20


@dataclass
class VariantInput:
    """What the author wrote for one account (the composer merges shared text + overrides)."""

    account_id: int
    text: str = ""
    thread: list[str] = field(default_factory=list)
    first_comment: str = ""
    link: str = ""
    content_warning: str = ""
    poll: dict | None = None
    media: list[tuple[int, str]] = field(default_factory=list)  # (asset id, alt text)
    language: str = ""  # ISO 639-1; blank: detected from the text when sent


class InvalidPost(ServiceError):
    """Some variants break their network's rules; `problems` lists them per account."""

    code = "invalid_post"

    def __init__(self, problems: dict[int, list[Problem]]):
        lines = [p.message for items in problems.values() for p in items]
        super().__init__(" ".join(lines))
        self.problems = problems


# --------------------------------------------------------------------------- compose


def _usable_accounts(actor: Membership, ids: list[int]) -> dict[int, SocialAccount]:
    accounts = {a.pk: a for a in accounts_usable_by(actor).filter(pk__in=ids)}
    if not ids:
        raise ServiceError(_("Choose at least one social account."), field="accounts")
    missing = set(ids) - set(accounts)
    if missing:
        raise NotFound(_("You may not post as one of the chosen accounts."), field="accounts")
    return accounts


def _assets(actor: Membership, inputs: list[VariantInput]) -> dict[int, MediaAsset]:
    ids = {asset_id for item in inputs for asset_id, _alt in item.media}
    assets = {a.pk: a for a in MediaAsset.objects.filter(workspace=actor.workspace, pk__in=ids)}
    if ids - set(assets):
        raise NotFound(_("An attached file is not in this workspace's library."), field="media")
    return assets


def check_draft_bounds(inputs: list[VariantInput]) -> None:
    """Refuse a draft too large to store (1 MB of text, 10,000 thread parts were tried)."""
    too_long = _("%(what)s has %(count)s characters; at most %(limit)s can be saved.")
    for item in inputs:
        if len(item.thread) > MAX_THREAD_PARTS:
            raise ServiceError(
                _("A thread may have at most %(limit)s parts; this one has %(count)s.")
                % {"limit": MAX_THREAD_PARTS, "count": len(item.thread)},
                code="too_long",
                field="thread",
            )
        parts = [("text", _("The text"), item.text)]
        parts += [
            (f"thread.{i + 1}", _("Thread part %(n)s") % {"n": i + 1}, part)
            for i, part in enumerate(item.thread)
        ]
        parts += [
            ("first_comment", _("The first comment"), item.first_comment),
            ("content_warning", _("The content warning"), item.content_warning),
        ]
        for field_name, what, part in parts:
            if len(part) > MAX_PART_CHARACTERS:
                raise ServiceError(
                    too_long % {"what": what, "count": len(part), "limit": MAX_PART_CHARACTERS},
                    code="too_long",
                    field=field_name,
                )
        if len(item.link) > MAX_LINK_CHARACTERS:
            raise ServiceError(
                too_long
                % {"what": _("The link"), "count": len(item.link), "limit": MAX_LINK_CHARACTERS},
                code="too_long",
                field="link",
            )
        if len(item.media) > MAX_MEDIA_PER_VARIANT:
            raise ServiceError(
                _("At most %(limit)s files can be attached.") % {"limit": MAX_MEDIA_PER_VARIANT},
                code="too_long",
                field="media",
            )


def input_problems(
    item: VariantInput, account: SocialAccount, assets: dict[int, MediaAsset]
) -> list[Problem]:
    """What the account's network (its own server's limits) would refuse about one variant
    as written: the composer's live check and scheduling share it."""
    return check_variant(
        provider_key=account.provider,
        text=item.text,
        thread=item.thread,
        first_comment=item.first_comment,
        link=item.link,
        content_warning=item.content_warning,
        language=item.language,
        poll=item.poll,
        media=[
            MediaInfo(asset.mime_type, asset.size, alt or asset.alt_text)
            for i, alt in item.media
            if (asset := assets.get(i)) is not None
        ],
        account=account,
    )


def problems_of(
    inputs: list[VariantInput], accounts: dict[int, SocialAccount], assets: dict[int, MediaAsset]
) -> dict[int, list[Problem]]:
    check_draft_bounds(inputs)
    found = {}
    for item in inputs:
        problems = input_problems(item, accounts[item.account_id], assets)
        if problems:
            found[item.account_id] = problems
    return found


@transaction.atomic
def post_save(
    *,
    actor: Membership,
    variants: list[VariantInput],
    post: Post | None = None,
    campaign_id: int | None = None,
    main_text: str | None = None,
) -> Post:
    """Create a draft, or rewrite an unpublished post's variants (autosave calls this).

    A scheduled post stays scheduled at its time if it is still valid; a post any of
    whose variants is being published or is out cannot be edited. Changing the content of
    a submitted post (pending approval, or scheduled) decides its approval again: an
    approved post goes back for approval (see `approvals.resubmit_after_edit`).
    `main_text` is the composer's main text (the post's title); None keeps it.
    """
    from chorus.publishing import approvals

    check_capability(actor, Capability.CREATE_POSTS)
    check_draft_bounds(variants)
    accounts = _usable_accounts(actor, [v.account_id for v in variants])
    assets = _assets(actor, variants)
    campaign = _campaign(actor, campaign_id)
    created = post is None
    if post is None:
        post = Post.objects.create(
            workspace=actor.workspace, author=actor.user, campaign=campaign, text=main_text or ""
        )
        before = None
    else:
        post = Post.objects.select_for_update().get(pk=post.pk)
        _check_own_workspace(actor, post)
        busy = post.variants.exclude(status__in=EDITABLE)
        if busy.exists():
            raise Conflict(_("This post is being published or is already out; duplicate it."))
        before = content_of(post)
        campaign_before = post.campaign
        post.campaign = campaign
        if main_text is not None:
            post.text = main_text
        post.save(update_fields=["campaign", "text", "updated_at"])
        post.variants.exclude(account_id__in=accounts).delete()
    if post.state in (PostState.SCHEDULED, PostState.PENDING_APPROVAL):
        problems = problems_of(variants, accounts, assets)
        if problems:
            raise InvalidPost(problems)
    write_variants(post, variants, assets)
    if main_text is None and post.text and not post.variants.filter(text=post.text).exists():
        post.text = ""  # rewritten without the composer (API): the title follows the variants
        post.save(update_fields=["text", "updated_at"])
    after = content_of(post)
    if created:
        audit_record(
            action=AuditAction.POST_CREATED,
            actor=actor,
            workspace=actor.workspace,
            target=post,
            changes={"before": None, "after": after},
        )
    elif post.state != PostState.DRAFT and (after != before or campaign_before != post.campaign):
        # Drafts autosave as the author types: only edits of submitted posts are audited.
        changes = {"before": before, "after": after, "state": post.state}
        if campaign_before != post.campaign:
            changes["campaign"] = {
                "before": campaign_before.name if campaign_before else None,
                "after": campaign.name if campaign else None,
            }
        audit_record(
            action=AuditAction.POST_EDITED,
            actor=actor,
            workspace=actor.workspace,
            target=post,
            changes=changes,
        )
        if after != before and post.state in (PostState.SCHEDULED, PostState.PENDING_APPROVAL):
            approvals.resubmit_after_edit(actor=actor, post=post)
    return post


def write_variants(post: Post, variants: list[VariantInput], assets: dict) -> None:
    """Write each account's content onto the post (arming new ones of a scheduled post)."""
    existing = {v.account_id: v for v in post.variants.all()}
    for item in variants:
        variant = existing.get(item.account_id) or Variant(post=post, account_id=item.account_id)
        variant.text = item.text
        variant.thread = [t for t in item.thread if t.strip()]
        variant.first_comment = item.first_comment
        variant.link = item.link
        variant.content_warning = item.content_warning
        variant.language = item.language
        variant.poll = item.poll or None
        if post.state == PostState.SCHEDULED and variant.status != VariantStatus.SCHEDULED:
            variant.status = VariantStatus.SCHEDULED
            variant.scheduled_at = variant.due_at = post.scheduled_at
        elif post.state == PostState.PENDING_APPROVAL and not variant.scheduled_at:
            variant.scheduled_at = post.scheduled_at  # an account added while pending
        variant.last_error = ""
        variant.save()
        VariantMedia.objects.filter(variant=variant).delete()
        VariantMedia.objects.bulk_create(
            [
                VariantMedia(variant=variant, asset=assets[asset_id], order=i, alt_text=alt)
                for i, (asset_id, alt) in enumerate(item.media)
            ]
        )


def content_of(post: Post) -> dict[str, dict]:
    """What the post says, per account handle: compared to notice real edits, audited."""
    return {
        str(v.account_id): {
            "text": v.text,
            "thread": list(v.thread),
            "first_comment": v.first_comment,
            "link": v.link,
            "content_warning": v.content_warning,
            "language": v.language,
            "poll": v.poll,
            "media": [[vm.asset_id, vm.alt_text] for vm in v.variantmedia_set.all()],
        }
        for v in post.variants.prefetch_related("variantmedia_set").order_by("account_id")
    }


def _campaign(actor: Membership, campaign_id: int | None) -> Campaign | None:
    if not campaign_id:
        return None
    campaign = Campaign.objects.filter(workspace=actor.workspace, pk=campaign_id).first()
    if campaign is None:
        raise NotFound(_("No such campaign."), field="campaign")
    return campaign


def _check_own_workspace(actor: Membership, post: Post) -> None:
    if post.workspace_id != actor.workspace_id:
        raise NotFound(_("No such post."))


def _check_not_publishing(post: Post) -> None:
    """A variant the dispatcher has claimed is being sent this very moment: too late."""
    if post.variants.filter(status=VariantStatus.PUBLISHING).exists():
        raise Conflict(_("This post is being published right now; wait a moment."))


def _inputs_of(post: Post) -> list[VariantInput]:
    return [
        VariantInput(
            account_id=v.account_id,
            text=v.text,
            thread=list(v.thread),
            first_comment=v.first_comment,
            link=v.link,
            content_warning=v.content_warning,
            language=v.language,
            poll=v.poll,
            media=[(vm.asset_id, vm.alt_text) for vm in v.variantmedia_set.all()],
        )
        for v in post.variants.prefetch_related("variantmedia_set")
    ]


# --------------------------------------------------------------------------- schedule


@transaction.atomic
def post_schedule(
    *, actor: Membership, post: Post, at: datetime | dict[int, datetime], via_queue: bool = False
) -> Post:
    """Arm every unpublished variant for `at` (one time, or one per account).

    If this submission needs approval (see `approvals.approval_requirement`: a contributor,
    a draft-only account, a policy, a workflow for every post), the post waits in
    pending_approval instead, its variants unarmed until the last approval. A blocking
    policy refuses it (`approvals.PolicyBlocked`).
    """
    from chorus.publishing import approvals

    check_capability(actor, Capability.CREATE_POSTS)
    post = Post.objects.select_for_update().get(pk=post.pk)
    _check_own_workspace(actor, post)
    if post.variants.exclude(status__in=EDITABLE).exists():
        raise Conflict(_("This post is being published or is already out."))
    inputs = _inputs_of(post)
    accounts = _usable_accounts(actor, [i.account_id for i in inputs])
    problems = problems_of(inputs, accounts, _assets(actor, inputs))
    if problems:
        raise InvalidPost(problems)
    times = at if isinstance(at, dict) else {i.account_id: at for i in inputs}
    earliest_allowed = timezone.now() - timedelta(minutes=1)
    if any(when < earliest_allowed for when in times.values()):
        raise ServiceError(_("Choose a time in the future."), field="scheduled_at")
    _audit_new_times(actor, post, times)
    requirement = approvals.approval_requirement(post=post, actor=actor)
    if requirement.required:
        return approvals.submit(
            actor=actor, post=post, times=times, requirement=requirement, via_queue=via_queue
        )
    check_capability(actor, Capability.PUBLISH_POSTS)  # never reached without it: belt and braces
    for variant in post.variants.all():
        when = times[variant.account_id]
        variant.status = VariantStatus.SCHEDULED
        variant.scheduled_at = variant.due_at = when
        variant.last_error = ""
        variant.save(update_fields=["status", "scheduled_at", "due_at", "last_error"])
    post.state = PostState.SCHEDULED
    post.scheduled_at = min(times.values())
    post.via_queue = via_queue
    post.approval_status = ApprovalStatus.NOT_REQUIRED
    post.approval_step = 0
    post.save(
        update_fields=[
            "state",
            "scheduled_at",
            "via_queue",
            "approval_status",
            "approval_step",
            "updated_at",
        ]
    )
    return post


def _audit_new_times(actor: Membership, post: Post, times: dict[int, datetime]) -> None:
    """Moving a submitted post (a new time, e.g. dragged to another day) is an edit."""
    if post.state not in (PostState.SCHEDULED, PostState.PENDING_APPROVAL):
        return
    before = {
        str(v.account_id): v.scheduled_at.isoformat() if v.scheduled_at else None
        for v in post.variants.all()
    }
    after = {str(account_id): when.isoformat() for account_id, when in times.items()}
    if before != after:
        audit_record(
            action=AuditAction.POST_EDITED,
            actor=actor,
            workspace=actor.workspace,
            target=post,
            changes={
                "before": {"scheduled_at": before},
                "after": {"scheduled_at": after},
                "state": post.state,
            },
        )


def post_publish_now(*, actor: Membership, post: Post) -> Post:
    return post_schedule(actor=actor, post=post, at=timezone.now())


def post_add_to_queue(*, actor: Membership, post: Post) -> Post:
    """Each account's next free posting slot (waiting for approval there, if it needs it)."""
    check_capability(actor, Capability.CREATE_POSTS)
    _check_own_workspace(actor, post)
    times = {}
    for variant in post.variants.select_related("account__workspace"):
        slot = next_free_slot(variant.account, after=timezone.now(), exclude_post=post)
        if slot is None:
            raise ServiceError(
                _("%(handle)s has no free queue slot; add posting times first.")
                % {"handle": variant.account.handle},
                field="queue",
            )
        times[variant.account_id] = slot
    return post_schedule(actor=actor, post=post, at=times, via_queue=True)


@transaction.atomic
def post_unschedule(*, actor: Membership, post: Post) -> Post:
    """Back to draft; variants already out stay out."""
    check_capability(actor, Capability.CREATE_POSTS)
    post = Post.objects.select_for_update().get(pk=post.pk)
    _check_own_workspace(actor, post)
    _check_not_publishing(post)
    post.variants.filter(status__in=RETRYABLE | {VariantStatus.SCHEDULED}).update(
        status=VariantStatus.DRAFT, due_at=None
    )
    post.state = PostState.DRAFT
    if post.approval_status == ApprovalStatus.PENDING:  # withdrawn from approval
        post.approval_status = ApprovalStatus.NOT_REQUIRED
    post.save(update_fields=["state", "approval_status", "updated_at"])
    return post


@transaction.atomic
def post_cancel(*, actor: Membership, post: Post) -> Post:
    check_capability(actor, Capability.CREATE_POSTS)
    post = Post.objects.select_for_update().get(pk=post.pk)
    _check_own_workspace(actor, post)
    _check_not_publishing(post)
    post.variants.filter(status__in=EDITABLE).update(status=VariantStatus.CANCELLED, due_at=None)
    post.state = PostState.CANCELLED
    post.save(update_fields=["state", "updated_at"])
    return post


def post_duplicate(*, actor: Membership, post: Post) -> Post:
    _check_own_workspace(actor, post)
    return post_save(actor=actor, variants=_inputs_of(post), campaign_id=post.campaign_id)


@transaction.atomic
def post_delete(*, actor: Membership, post: Post) -> None:
    """Delete a post that never went out (published ones are deleted from the network)."""
    check_capability(actor, Capability.CREATE_POSTS)
    _check_own_workspace(actor, post)
    if post.variants.filter(
        status__in=[VariantStatus.PUBLISHING, VariantStatus.PUBLISHED]
    ).exists():
        raise Conflict(_("Part of this post is out; delete it from the network first."))
    audit_record(
        action=AuditAction.POST_DELETED,
        actor=actor,
        workspace=post.workspace_id,
        target=post,
        changes={"before": content_of(post), "after": None},
    )
    post.delete()


@transaction.atomic
def variant_retry(*, actor: Membership, variant: Variant) -> Variant:
    """Try a failed, held or reconnect-waiting variant again, now."""
    check_capability(actor, Capability.PUBLISH_POSTS)
    variant = Variant.objects.select_for_update().select_related("post").get(pk=variant.pk)
    _check_own_workspace(actor, variant.post)
    _usable_accounts(actor, [variant.account_id])
    if variant.status not in RETRYABLE:
        raise Conflict(_("Only failed or held posts can be retried."))
    if variant.post.needs_approval:
        raise Conflict(
            _("This post needs approval first: choose a new time to submit it for approval.")
        )
    now = timezone.now()
    variant.status = VariantStatus.SCHEDULED
    variant.scheduled_at = variant.due_at = now
    variant.attempts = 0
    variant.last_error = ""
    variant.save(update_fields=["status", "scheduled_at", "due_at", "attempts", "last_error"])
    Post.objects.filter(pk=variant.post_id).update(state=PostState.SCHEDULED)
    return variant


def variant_delete_remote(*, actor: Membership, variant: Variant) -> Variant:
    """Delete every part of a published variant from its network."""
    from chorus.networks.services import provider_for
    from chorus.publishing.sending import ref_of

    check_capability(actor, Capability.PUBLISH_POSTS)
    _check_own_workspace(actor, variant.post)
    _usable_accounts(actor, [variant.account_id])
    if variant.status != VariantStatus.PUBLISHED:
        raise Conflict(_("Only published posts can be deleted from the network."))
    from chorus.networks.providers.base import ProviderError

    try:
        with provider_for(variant.account) as provider:
            for part in reversed(variant.parts_published):
                provider.delete(ref_of(part))
    except ProviderError as exc:
        raise ServiceError(exc.message) from exc
    variant.status = VariantStatus.DELETED
    variant.save(update_fields=["status"])
    audit_record(
        action=AuditAction.POST_DELETED,
        actor=actor,
        workspace=variant.post.workspace_id,
        target=variant.post,
        changes={
            "before": {"account": variant.account.handle, "remote_id": variant.remote_id},
            "after": {"deleted_from_network": True},
        },
    )
    return variant


def post_set_repeat(
    *, actor: Membership, post: Post, every_days: int | None, until: datetime | None = None
) -> Post:
    """Evergreen posts: once out, the same post is scheduled again `every_days` later."""
    check_capability(actor, Capability.PUBLISH_POSTS)
    _check_own_workspace(actor, post)
    if every_days is not None and not 1 <= every_days <= 365:
        raise ServiceError(_("Repeat every 1 to 365 days."), field="repeat_every_days")
    post.repeat_every_days, post.repeat_until = every_days, until
    post.save(update_fields=["repeat_every_days", "repeat_until", "updated_at"])
    return post


@transaction.atomic
def post_repeat_next(*, post: Post) -> Post | None:
    """Schedule the next occurrence of a fully published evergreen post (once)."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if not post.repeat_every_days or post.repeats.exists():
        return None
    if post.variants.exclude(status=VariantStatus.PUBLISHED).exists():
        return None
    at = (post.scheduled_at or timezone.now()) + timedelta(days=post.repeat_every_days)
    while at < timezone.now():
        at += timedelta(days=post.repeat_every_days)
    if post.repeat_until and at > post.repeat_until:
        return None
    copy = Post.objects.create(
        workspace=post.workspace,
        author=post.author,
        campaign=post.campaign,
        state=PostState.SCHEDULED,
        scheduled_at=at,
        repeat_every_days=post.repeat_every_days,
        repeat_until=post.repeat_until,
        repeated_from=post,
    )
    for variant in post.variants.prefetch_related("variantmedia_set"):
        media = list(variant.variantmedia_set.all())
        variant.pk = None
        variant.post = copy
        variant.idempotency_key = uuid.uuid4()
        variant.status = VariantStatus.SCHEDULED
        variant.scheduled_at = variant.due_at = at
        variant.attempts, variant.parts_published = 0, []
        variant.remote_id = variant.remote_url = variant.last_error = ""
        variant.claimed_at = variant.published_at = variant.lease_until = None
        variant.save()
        VariantMedia.objects.bulk_create(
            [
                VariantMedia(
                    variant=variant, asset_id=m.asset_id, order=m.order, alt_text=m.alt_text
                )
                for m in media
            ]
        )
    return copy
