"""Recompute every audit-log hash; exit non-zero naming the first broken entry."""

from django.core.management.base import BaseCommand, CommandError

from chorus.governance.selectors import audit_chain_heads, audit_chain_verify


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--workspace", type=int, help="check only this workspace's chain")
        parser.add_argument(
            "--heads",
            action="store_true",
            help="also print each chain's length and head hash (keep them elsewhere: a later "
            "run that disagrees with them shows the log was rewritten)",
        )

    def handle(self, *args, workspace=None, heads=False, **options):
        report = audit_chain_verify(workspace=workspace)
        if report.problem:
            raise CommandError(f"Audit log is broken at {report.problem}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log intact: {report.entries} entries in {report.chains} chains."
            )
        )
        if heads:
            for head in audit_chain_heads():
                self.stdout.write(f"{head.key}\t{head.length}\t{head.head_hash}")
