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


@db_task()
def refresh_server_limits_of(provider_key: str, server: str) -> None:
    """One server's limits, after an account on it was connected."""
    services.server_limits_refresh(provider_key=provider_key, server=server)


@db_periodic_task(crontab(minute="23", hour="*/6"))
def refresh_server_limits() -> None:
    """Every six hours: each server's own limits (characters, media, polls) for the composer."""
    services.server_limits_refresh()
