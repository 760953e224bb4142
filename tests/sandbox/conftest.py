"""A sandbox network per test, and the demo workspace filled through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus.sandbox.server import SandboxServer


@pytest.fixture
def sandbox(tmp_path) -> Iterator[SandboxServer]:
    """A quiet sandbox (its audience acts only when told), in a thread of the test process."""
    with SandboxServer(pace_s=0, seed=7, state=tmp_path / "sandbox.pickle") as running:
        yield running


@pytest.fixture
def demo(db, sandbox, settings, tmp_path):
    """The demo workspace as `chorus run` leaves it; returns the owner's membership."""
    from chorus.accounts.demo import ensure_demo
    from chorus.sandbox.demo import _owner, demo_content_ensure

    settings.DATA_DIR = tmp_path
    settings.CHORUS_SANDBOX_URL = sandbox.base_url
    ensure_demo()
    assert demo_content_ensure(sandbox_url=sandbox.base_url)
    return _owner()
