from tests.servers.bluesky_server import bluesky_server  # noqa: F401
from tests.servers.mastodon_server import mastodon_server  # noqa: F401
