"""Fixtures shared by the whole suite: people, workspaces, API clients, a real browser."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.servers.bluesky_server import bluesky_server  # noqa: F401  (real local servers,
from tests.servers.mastodon_server import mastodon_server  # noqa: F401  shared by the session)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests
# The local test servers live on loopback; processes the tests start (a dispatcher, `chorus
# run`) read the outbound guard's exceptions from the environment.
os.environ.setdefault("CHORUS_OUTBOUND_ALLOW", "127.0.0.1")

PASSWORD = "a-Long-and-unusual-passphrase-42"


@pytest.fixture(autouse=True)
def _django_test_mode(request):
    """Tasks run inline (their effects are checkable) and passwords hash fast.

    Skipped when the suite runs without pytest-django (network provider tests alone).
    """
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from huey.contrib.djhuey import HUEY

    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The local test servers and the emulator listen on 127.0.0.1 (any port): the one
    # exception to the outbound guard. Tests of the guard itself set their own list.
    settings.CHORUS_OUTBOUND_ALLOW = ["127.0.0.1"]
    HUEY.immediate = True
    yield
    from django.utils import translation

    translation.deactivate()  # a language a test switched to never leaks into the next one


@pytest.fixture
def make_member(db):
    """Create a user with `role` in `workspace` (and the workspace, if none is given)."""
    from chorus.accounts import services
    from chorus.accounts.models import Membership, User

    counter = iter(range(1000))

    def make(role: str = "owner", workspace=None, email: str | None = None):
        email = email or f"person{next(counter)}-{role}@example.org"
        if workspace is None:
            user = services.user_sign_up(email=email, password=PASSWORD, workspace_name="Acme")
            membership = Membership.objects.get(user=user)
            if role != "owner":
                membership.role = role
                membership.save()
            return membership
        user = User.objects.create_user(email, PASSWORD)
        return Membership.objects.create(user=user, workspace=workspace, role=role)

    return make


@pytest.fixture
def owner(make_member):
    return make_member("owner")


@pytest.fixture
def api_token_for(db):
    """A raw API token for a membership with the given scopes."""
    from chorus.accounts import services
    from chorus.accounts.scopes import Scope

    def make(membership, scopes=None):
        _token, raw = services.api_token_create(
            membership=membership, name="test", scopes=scopes or list(Scope.values)
        )
        return raw

    return make


class Upload:
    """A multipart body for `api.call`: {field: (filename, bytes, content type)}."""

    def __init__(self, **files: tuple[str, bytes, str]):
        self._files = files

    def files(self) -> dict:
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {
            name: SimpleUploadedFile(filename, content, content_type=kind)
            for name, (filename, content, kind) in self._files.items()
        }


@pytest.fixture
def api(client):
    """Call the API with a bearer token: api.get(path, token=raw)."""

    class Api:
        def call(self, method, path, token=None, json=None):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            if isinstance(json, Upload):
                return client.post(f"/api/v1{path}", data=json.files(), **headers)
            kwargs = {"content_type": "application/json"} if json is not None else {}
            func = getattr(client, method)
            if json is not None:
                return func(f"/api/v1{path}", data=json, **kwargs, **headers)
            return func(f"/api/v1{path}", **headers)

        def get(self, path, token=None):
            return self.call("get", path, token)

        def post(self, path, json=None, token=None):
            return self.call("post", path, token, json if json is not None else {})

        def patch(self, path, json=None, token=None):
            return self.call("patch", path, token, json if json is not None else {})

        def put(self, path, json=None, token=None):
            return self.call("put", path, token, json if json is not None else {})

        def delete(self, path, token=None):
            return self.call("delete", path, token)

    return Api()


# --------------------------------------------------------------------------- browser


def chromium_path() -> str:
    path = os.environ.get("CHORUS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(
            f"Chromium not found at {path}: install Debian's `chromium` package "
            "(apt-get install chromium) or set CHORUS_CHROMIUM.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A page of a fresh browser context; any Content-Security-Policy violation fails the test.

    Chromium reports each blocked inline script, event handler or style in the console; a
    test that provokes one on purpose reads and clears `page.csp_violations`.
    """
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    violations: list[str] = []

    def watch(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", watch)
    page = context.new_page()
    page.csp_violations = violations
    yield page
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def signed_in_page(page, owner):
    """A browser page signed in as `owner`."""
    page.goto("/login/")
    page.fill("#id_username", owner.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_url("**/")
    return page
