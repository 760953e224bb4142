"""Review links: an outside reviewer (a client, legal) decides one approval step through a
signed, one-time link, valid until the post's time or for 7 days."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import NotAllowed, ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.publishing.approvals import (
    check_comment,
    check_may_approve_at_all,
    decide,
    locked_pending,
    may_approve,
)
from chorus.publishing.models import ApprovalDecision, Post, PostState, ReviewLink

REVIEW_LINK_SALT = "chorus.publishing.review-link"
REVIEW_LINK_MAX_AGE = timedelta(days=7)


class LinkInvalid(ServiceError):
    code = "link_invalid"
    status = 410


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=REVIEW_LINK_SALT)


@transaction.atomic
def review_link_create(
    *, actor: Membership, post: Post, reviewer: str = ""
) -> tuple[ReviewLink, str]:
    """A one-time link for an outside reviewer to decide the post's current step.

    Valid until the post's time or for 7 days, whichever comes first. Only someone who may
    approve the step (or an admin) hands their step to an outsider.
    """
    check_may_approve_at_all(actor)
    post = locked_pending(post, actor)
    if not (may_approve(actor, post) or role_can(actor.role, Capability.MANAGE_APPROVALS)):
        raise NotAllowed(
            _("You are not an approver of step %(n)s of this post.") % {"n": post.approval_step}
        )
    now = timezone.now()
    expires = now + REVIEW_LINK_MAX_AGE
    if post.scheduled_at and post.scheduled_at < expires:
        expires = post.scheduled_at
    link = ReviewLink.objects.create(
        post=post,
        round=post.approval_round,
        step=post.approval_step,
        reviewer=(reviewer or "").strip()[:200],
        created_by=actor.user,
        expires_at=expires,
    )
    token = _signer().sign_object(
        {"l": link.pk, "p": post.pk, "r": link.round, "s": link.step}, compress=True
    )
    audit_record(
        action=AuditAction.REVIEW_LINK_CREATED,
        actor=actor,
        workspace=post.workspace_id,
        target=post,
        changes={
            "before": None,
            "after": {
                "link": link.pk,
                "step": link.step,
                "reviewer": link.reviewer,
                "expires_at": expires.isoformat(),
            },
        },
    )
    return link, token


def review_link_open(token: str, *, lock: bool = False) -> ReviewLink:
    """The link behind a token, if it may still be used; else LinkInvalid saying why."""
    try:
        payload = _signer().unsign_object(token, max_age=REVIEW_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkInvalid(_("This review link has expired.")) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(_("This review link is not valid.")) from exc
    links = ReviewLink.objects.select_related("post", "post__workspace", "post__author")
    if lock:
        links = links.select_for_update(of=("self",))
    link = links.filter(pk=payload.get("l"), post_id=payload.get("p")).first()
    if link is None or (link.round, link.step) != (payload.get("r"), payload.get("s")):
        raise LinkInvalid(_("This review link is not valid."))
    if link.used_at:
        raise LinkInvalid(_("This review link was already used."))
    if timezone.now() >= link.expires_at:
        raise LinkInvalid(_("This review link has expired."))
    post = link.post
    if (
        post.state != PostState.PENDING_APPROVAL
        or post.approval_round != link.round
        or post.approval_step != link.step
    ):
        raise LinkInvalid(
            _(
                "This post changed or this step was decided since the link was sent; ask for a "
                "new link."
            )
        )
    return link


@transaction.atomic
def review_link_decide(*, token: str, approve: bool, comment: str = "") -> Post:
    """The outside reviewer's decision; the link cannot be used again."""
    link = review_link_open(token, lock=True)
    post = locked_pending(link.post)
    if (post.approval_round, post.approval_step) != (link.round, link.step):
        raise LinkInvalid(_("This step was already decided."))
    if not approve:
        check_comment(comment)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    who = link.reviewer or _("outside reviewer")
    return decide(
        post,
        ApprovalDecision.APPROVED if approve else ApprovalDecision.REJECTED,
        comment=comment,
        membership=None,
        reviewer=_("%(who)s (review link)") % {"who": who},
        audit_actor=f"review link {link.pk}: {who}",
        link=link,
    )
