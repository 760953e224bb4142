"""Background work for accounts; each task is a thin wrapper around one function."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.accounts.models import Invitation, Notification


@db_task(retries=3, retry_delay=30)
def send_invitation_email(invitation_id: int) -> None:
    """Email the invitation link, in the inviter's language."""
    from chorus.accounts.services import invitation_url

    invitation = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_open:
        return
    language = invitation.invited_by.language if invitation.invited_by else "en"
    with translation.override(language):
        context = {"invitation": invitation, "url": invitation_url(invitation)}
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_stale_invitations() -> None:
    """Forget invitations that ended (used, revoked or expired) more than 30 days ago."""
    from chorus.accounts.services import invitations_purge

    invitations_purge(older_than_days=30)


@db_task(retries=3, retry_delay=60)
def send_notification_email(notification_id: int) -> None:
    """Email an in-app notification, in the recipient's language."""
    from django.conf import settings

    notification = (
        Notification.objects.select_related("user", "workspace").filter(pk=notification_id).first()
    )
    if notification is None or not notification.user.is_active:
        return
    with translation.override(notification.user.language or "en"):
        context = {"notification": notification, "site_url": settings.SITE_URL}
        subject = render_to_string("accounts/email/notification_subject.txt", context).strip()
        body = render_to_string("accounts/email/notification_body.txt", context)
    send_mail(subject, body, None, [notification.user.email])
