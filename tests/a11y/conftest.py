"""The accessibility tests reuse the publishing tests' connected Mastodon account."""

from tests.publishing.conftest import mastodon_account  # noqa: F401
