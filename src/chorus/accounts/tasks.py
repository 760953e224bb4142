"""Background work for accounts; each task is a thin wrapper around one function."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.accounts.models import Invitation, Notification, User
from chorus.accounts.recipients import moment_text, speaking_to
from chorus.core.site import absolute_url


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
    # The recipient's language and zone if they already use Chorus; else the inviter's
    # language and the workspace's zone.
    recipient = User.objects.filter(email__iexact=invitation.email, is_active=True).first()
    language = invitation.invited_by.language if invitation.invited_by else "en"
    with speaking_to(recipient, invitation.workspace, language=language):
        context = {
            "invitation": invitation,
            "url": invitation_url(invitation),
            "expires": moment_text(invitation.expires_at),
        }
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
    notification = (
        Notification.objects.select_related("user", "workspace").filter(pk=notification_id).first()
    )
    if notification is None or not notification.user.is_active:
        return
    with speaking_to(notification.user, notification.workspace):
        context = {
            "notification": notification,
            "url": absolute_url(notification.url) if notification.url else "",
        }
        subject = render_to_string("accounts/email/notification_subject.txt", context).strip()
        body = render_to_string("accounts/email/notification_body.txt", context)
    send_mail(subject, body, None, [notification.user.email])
