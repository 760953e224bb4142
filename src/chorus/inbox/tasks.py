"""Huey tasks of the inbox: polling accounts and finishing replies. Thin: services decide."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.inbox import ingest


@db_task()
def poll_account(account_id: int) -> None:
    ingest.poll_account(account_id=account_id)


@db_periodic_task(crontab(minute="*"))
def poll_due_accounts() -> None:
    """Every minute: each account whose adaptive interval has run out is polled."""
    for account_id in ingest.accounts_due(timezone.now()):
        poll_account(account_id)


@db_task()
def send_reply(reply_id: int) -> None:
    from chorus.inbox import replies

    replies.reply_deliver(reply_id=reply_id)


@db_periodic_task(crontab(minute="*"))
def reconcile_replies() -> None:
    """Replies left in `sending` (a worker died, an answer was lost) are settled."""
    from chorus.inbox import replies

    for reply_id in replies.replies_to_reconcile(timezone.now()):
        send_reply(reply_id)


@db_periodic_task(crontab(minute="*"))
def warn_response_targets() -> None:
    """Every minute: warn about conversations nearing or past the first-response target."""
    from chorus.inbox import targets

    targets.warn_due(timezone.now())


@db_task()
def auto_send_suggestions(workspace_id: int) -> None:
    """New thank-yous and follow-ups of a workspace that turned auto-send on."""
    from chorus.inbox import thanks

    thanks.auto_send(workspace_id)


@db_periodic_task(crontab(minute="*/10"))
def suggest_follow_ups() -> None:
    """Every ten minutes: follow-ups for conversations closed for the workspace's delay."""
    from chorus.inbox import thanks

    thanks.suggest_follow_ups(timezone.now())
