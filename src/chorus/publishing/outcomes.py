"""What follows a send: the audit entry of each published variant, the author told of a
failed or held one, and posts held for an account released once it is reconnected.
Called after the dispatcher's transaction commits (and by the reconnect signal)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chorus.accounts.services import notify
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.networks.models import SocialAccount
from chorus.publishing.models import PostState, Variant, VariantStatus


def audit_published(*, variant_ids: list[int]) -> None:
    """One `post_published` audit entry per published variant, acted by the system."""
    for variant in Variant.objects.filter(
        pk__in=variant_ids, status=VariantStatus.PUBLISHED
    ).select_related("post__author", "account"):
        audit_record(
            action=AuditAction.POST_PUBLISHED,
            actor=None,
            workspace=variant.post.workspace_id,
            target=variant.post,
            changes={
                "before": None,
                "after": {
                    "account": variant.account.handle,
                    "network": variant.account.provider,
                    "remote_id": variant.remote_id,
                    "url": variant.remote_url,
                    "author": variant.post.author.email,
                },
            },
        )


def release_held_for_account(*, account: SocialAccount) -> int:
    """A reconnected account's posts waiting for it go out now (or are held if too late)."""
    now = timezone.now()
    return Variant.objects.filter(
        account=account, status=VariantStatus.NEEDS_RECONNECT, post__state=PostState.SCHEDULED
    ).update(status=VariantStatus.SCHEDULED, due_at=now, attempts=0)


def tell_author(*, variant_ids: list[int]) -> None:
    """Notify each author (in the app and by email) of variants that failed or were held."""
    for variant in Variant.objects.filter(pk__in=variant_ids).select_related(
        "post__author", "post__workspace", "account"
    ):
        if variant.status == VariantStatus.NEEDS_RECONNECT:
            message = gettext_noop(
                "%(handle)s needs reconnecting: your post is held, nothing is lost."
            )
        elif variant.status == VariantStatus.HELD:
            message = gettext_noop("Your post to %(handle)s was held: %(error)s")
        else:
            message = gettext_noop("Your post to %(handle)s failed: %(error)s")
        params = {"handle": variant.account.handle, "error": variant.last_error}
        notify(
            user=variant.post.author,
            workspace=variant.post.workspace,
            message=lambda message=message, params=params: _(message) % params,  # author's language
            url=f"/posts/{variant.post_id}/",
        )
