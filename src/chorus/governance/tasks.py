"""Background work for governance; each task is a thin wrapper around one service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/30"))
def purge_old_login_failures() -> None:
    """Forget failed sign-ins once they can no longer count towards a limit."""
    from chorus.governance.services import login_failures_purge

    login_failures_purge()
