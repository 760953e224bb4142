"""Background work for publishing; each task calls one service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.publishing import outcomes, services
from chorus.publishing.models import Post


@db_task(retries=3, retry_delay=30)
def repeat_evergreen(post_id: int) -> None:
    post = Post.objects.filter(pk=post_id).first()
    if post is not None:
        services.post_repeat_next(post=post)


@db_periodic_task(crontab(minute="*"))
def expire_approvals() -> None:
    """Every minute: hold posts not approved before their time, and tell their authors."""
    from chorus.publishing.approvals import approvals_expire

    approvals_expire()


@db_task(retries=3, retry_delay=30)
def audit_published(variant_ids: list[int]) -> None:
    """The audit entries of posts the dispatcher published (written off its hot path)."""
    outcomes.audit_published(variant_ids=variant_ids)
