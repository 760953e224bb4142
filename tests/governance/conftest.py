"""Fixtures for governance: corpus posts, a connected social account, raw-SQL tampering."""

import pytest
from django.db import connection

from tests.text import corpus


@pytest.fixture(scope="session")
def seed_text():
    """The first post of the repository's corpus (tests/text/corpus) in `language` that
    contains `needle`."""

    def find(language: str, needle: str) -> str:
        return corpus.post_with(language, needle).text

    return find


THAI = "th"
KHMER = "km"


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
