"""The demo workspace on the sandbox network: its week of published posts and its accounts
are read by the collector, so a fresh `chorus run` shows figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.analytics import collection
from chorus.analytics.models import AccountDaily, TrackedPost
from tests.sandbox.conftest import demo, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_demo_weeks_posts_and_accounts_are_collected(demo):  # noqa: F811
    later = timezone.now() + timedelta(hours=2)
    outcome = collection.collect_all(now=later)
    assert outcome.failed == 0, outcome.errors
    assert outcome.deleted == 0
    tracked = TrackedPost.objects.filter(account__workspace=demo.workspace)
    assert tracked.count() >= 6 and outcome.read >= tracked.count()
    assert AccountDaily.objects.filter(account__workspace=demo.workspace).count() == 3
