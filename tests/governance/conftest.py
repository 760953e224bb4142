"""Fixtures for governance: seed texts, a connected social account, raw-SQL tampering."""

from pathlib import Path

import pytest
from django.db import connection

SEEDS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "mission" / "seeds"


@pytest.fixture(scope="session")
def seed_text():
    """The first line of a seed file that contains `needle` (fails if shared/ is absent)."""

    def find(name: str, needle: str) -> str:
        path = SEEDS_DIR / name
        if not path.is_file():
            pytest.fail(f"seed corpus file missing: {path}")
        for line in path.read_text(encoding="utf-8").splitlines():
            if needle in line:
                return line
        pytest.fail(f"no line of {name} contains {needle!r}")

    return find


THAI = "002_f804fe1111210d43.txt"
KHMER = "000_bcce0f13532bbee7.txt"


@pytest.fixture
def social_account(db):
    """A Mastodon account of a workspace, without network calls (needs reconnecting)."""
    from chorus.networks.models import AccountStatus, SocialAccount

    def make(workspace, handle="brand@mastodon.example", status=AccountStatus.NEEDS_RECONNECT):
        return SocialAccount.objects.create(
            workspace=workspace,
            provider="mastodon",
            remote_id=handle,
            handle=handle,
            identity={"server_url": "https://mastodon.example"},
            status=status,
        )

    return make


@pytest.fixture
def tamper(db):
    """Run raw SQL on the audit table past its append-only trigger (inside the test's
    transaction, so the trigger is back afterwards)."""

    def run(sql: str, params=()):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE governance_auditentry DISABLE TRIGGER "
                    "governance_auditentry_append_only"
                )
            else:
                cursor.execute("DROP TRIGGER governance_auditentry_no_update")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE governance_auditentry ENABLE TRIGGER "
                    "governance_auditentry_append_only"
                )

    return run
