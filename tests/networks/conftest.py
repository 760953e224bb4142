from tests.servers.mastodon_server import mastodon_server  # noqa: F401
