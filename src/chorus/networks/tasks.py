"""Background checks of connected accounts' health."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from chorus.networks import services
from chorus.networks.models import SocialAccount


@db_task()
def check_account(account_id: int) -> None:
    account = SocialAccount.objects.filter(pk=account_id).first()
    if account is not None:
        services.account_check(account=account)


@db_periodic_task(crontab(minute="*/30"))
def check_quiet_accounts() -> None:
    """Accounts nothing has used for six hours get a health check, so trouble shows early."""
    for account_id in services.accounts_due_for_check(older_than=timedelta(hours=6)).values_list(
        "pk", flat=True
    ):
        check_account(account_id)
