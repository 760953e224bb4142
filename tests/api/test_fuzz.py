"""Fuzzing the whole API (issue 10.6): no server error and no undocumented status code.

Schemathesis reads the OpenAPI schema from the Django app itself (WSGI, in-process) and sends
generated requests, valid and invalid, to every operation with a token holding every scope,
in a workspace with some data to act on. It fails on any 5xx, on a status code the schema
does not list, on an answer that does not match its documented schema or content type.

Excluded: the two connect operations, which fetch the address given in their body (a name
would be looked up in DNS, and nothing but loopback may be contacted from the tests; the
outbound guard refuses such addresses anyway, see tests/networks/test_outbound_guard.py).
The workspace's social account points at a documentation address (192.0.2.1) that the guard
refuses before connecting, so operations that call the network contact nothing.

Bounded in time: FUZZ_EXAMPLES examples per operation (30 by default, set CHORUS_FUZZ_EXAMPLES
to change), a fixed seed so CI runs the same cases each time, no shrinking deadline.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

FUZZ_EXAMPLES = int(os.environ.get("CHORUS_FUZZ_EXAMPLES", "30"))
EXCLUDED = r"^/api/v1/social-accounts/connect/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_workspace(db, owner, settings):
    """A workspace with a member, a team, a policy, a social account, posts and a token."""
    from chorus.accounts import services as accounts
    from chorus.accounts.roles import Role
    from chorus.accounts.scopes import Scope
    from chorus.governance import services as governance
    from chorus.networks.models import AccountStatus, SocialAccount

    settings.CHORUS_OUTBOUND_ALLOW = []  # nothing at all may be contacted
    # As Django's test client does: the WSGI app must not close the test's connection.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    accounts.team_create(actor=owner, name="Social")
    editor_user = accounts.user_sign_up(
        email="fuzz-editor@example.org",
        password="a-Long-and-unusual-passphrase-42",
        workspace_name="Elsewhere",
    )
    from chorus.accounts.models import Membership

    Membership.objects.create(user=editor_user, workspace=owner.workspace, role=Role.EDITOR)
    governance.policy_create(
        actor=owner, name="No spoilers", kind="banned_terms", terms=["spoiler"], action="block"
    )
    account = SocialAccount(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="1",
        handle="brand@mastodon.test",
        identity={"server_url": "https://192.0.2.1", "account_id": "1"},
        server="192.0.2.1",
        status=AccountStatus.ACTIVE,
        connected_by=owner.user,
    )
    account.secrets = {"access_token": "unused"}
    account.save()
    _token, raw = accounts.api_token_create(
        membership=owner, name="fuzz", scopes=list(Scope.values)
    )
    yield raw
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _load_schema():
    """The schema as the app serves it (no database needed to build it)."""
    from django.core.wsgi import get_wsgi_application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


schema = _load_schema().exclude(path_regex=EXCLUDED)
# The coverage phase (boundary values of every parameter, hundreds of cases per operation)
# takes about half an hour here: run it on demand with CHORUS_FUZZ_COVERAGE=1.
schema.config.phases.coverage.enabled = os.environ.get("CHORUS_FUZZ_COVERAGE") == "1"


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_only_documented_answers(case, fuzz_workspace):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_workspace}"}, checks=CHECKS)
