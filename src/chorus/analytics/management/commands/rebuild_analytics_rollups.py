"""Recompute the dashboards' rollups (per account and day, per account and hour) and the
accounts' languages from the collected rows; for repairs. Collection keeps them current
by itself."""

from django.core.management.base import BaseCommand

from chorus.analytics import rollups


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--account", type=int, action="append", help="only this social account (repeatable)"
        )

    def handle(self, *args, account=None, **options):
        days, hours = rollups.rebuild(account)
        self.stdout.write(
            self.style.SUCCESS(f"Rollups rebuilt: {days} account-day rows, {hours} account-hours.")
        )
