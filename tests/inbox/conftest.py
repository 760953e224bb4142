from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.networks.providers.base import Interaction, InteractionPage, RemoteRef


@pytest.fixture
def account(owner):
    """A connected Mastodon account (no network calls unless a test makes them)."""
    from chorus.networks.models import SocialAccount

    account = SocialAccount(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="brand",
        handle="brand@mastodon.example",
        identity={"server_url": "https://mastodon.example", "account_id": "1"},
    )
    account.secrets = {"access_token": "t"}
    account.save()
    return account


def item(
    remote_id,
    kind="reply",
    author="ana@example.org",
    text="Hello there",
    minutes_ago=1,
    subject="100",
    conversation_id="",
    **extra,
):
    return Interaction(
        kind=kind,
        remote_id=str(remote_id),
        author_handle=author,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        author_name=extra.get("name", "Ana"),
        text=text,
        url=f"https://mastodon.example/@x/{remote_id}",
        subject=RemoteRef(subject) if subject else None,
        conversation_id=conversation_id,
    )


def page(*items, cursor="c1"):
    return InteractionPage(items=tuple(items), cursor=cursor)
