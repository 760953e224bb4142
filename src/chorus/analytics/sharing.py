"""Read-only share links to saved reports: signed, expiring, revocable.

The token is signed (django.core.signing, never longer than MAX_DAYS) and names a stored
link whose own expiry and revocation are checked on every visit, so a link can be cut
before it runs out. A visitor sees what the link's author may read at that moment.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.analytics.models import Report, ReportShareLink
from chorus.analytics.reports import BadReport, check_may_manage
from chorus.core.errors import ServiceError
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction

SALT = "chorus.analytics.share"
MAX_DAYS = 30


class ShareLinkInvalid(ServiceError):
    status = 410


def share_link_create(*, actor: Membership, report: Report, days: int = 7):
    """A link valid for `days` (1 to 30); returns (link, token). Editors and up."""
    check_may_manage(actor)
    if not 1 <= days <= MAX_DAYS:
        raise BadReport(
            _("A share link lasts 1 to %(days)d days.") % {"days": MAX_DAYS}, field="days"
        )
    link = ReportShareLink.objects.create(
        report=report, created_by=actor, expires_at=timezone.now() + timedelta(days=days)
    )
    audit_record(
        action=AuditAction.REPORT_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=report,
        changes={"event": "shared", "link": link.pk, "expires_at": link.expires_at.isoformat()},
    )
    return link, token_of(link)


def token_of(link: ReportShareLink) -> str:
    return signing.dumps({"l": link.pk, "r": link.report_id}, salt=SALT, compress=True)


def share_link_revoke(*, actor: Membership, link: ReportShareLink) -> None:
    check_may_manage(actor)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditAction.REPORT_CHANGED,
            actor=actor,
            workspace=actor.workspace,
            target=link.report,
            changes={"event": "share_revoked", "link": link.pk},
        )


def share_link_open(token: str) -> ReportShareLink:
    """The link behind a token if it may still be used; else ShareLinkInvalid saying why."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=timedelta(days=MAX_DAYS))
    except signing.SignatureExpired as exc:
        raise ShareLinkInvalid(_("This share link has expired.")) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ShareLinkInvalid(_("This share link is not valid.")) from exc
    link = (
        ReportShareLink.objects.select_related(
            "report__workspace", "report__campaign", "created_by__workspace"
        )
        .filter(pk=payload.get("l"), report_id=payload.get("r"))
        .first()
    )
    if link is None or link.created_by is None:
        raise ShareLinkInvalid(_("This share link is not valid."))
    if link.revoked_at is not None:
        raise ShareLinkInvalid(_("This share link was revoked."))
    if timezone.now() >= link.expires_at:
        raise ShareLinkInvalid(_("This share link has expired."))
    return link
