"""The sandbox network: practice Bluesky, Mastodon and Telegram servers on loopback, with an
audience.

`chorus run` starts it for the demo (see `chorus.sandbox.server`), so a newcomer can connect
accounts, publish and watch people reply, like and write in five languages, with no
internet. It speaks the real wire protocols, so the unchanged providers talk to it.

    voices.py     who the audience is and what they say (en, th, km, hy, sw)
    mastodon.py   Mastodon: OAuth sign-in, notifications, conversations, context, accounts
    bluesky.py    Bluesky: listNotifications, getPosts, getPostThread, getProfile
    app.py        the ASGI app (the emulator plus the two above) and the audience's pace
    server.py     running it: `python -m chorus.sandbox`, `SandboxServer` for tests and the CLI
    demo.py       the demo workspace's accounts, posts, campaign, policy and workflow
"""
