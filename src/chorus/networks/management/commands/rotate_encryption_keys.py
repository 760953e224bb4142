"""Re-encrypt stored network secrets with the newest CHORUS_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError

from chorus.core.crypto import DecryptionFailed
from chorus.networks.services import secrets_rotate


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        try:
            count = secrets_rotate()
        except DecryptionFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Re-encrypted {count} stored secrets with the newest key.")
