"""The demo workspace `chorus run` creates on first start, so there is something to explore."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction

from chorus.accounts import services
from chorus.accounts.models import Membership, Team, User
from chorus.accounts.roles import Role

DEMO_EMAIL = "demo@chorus.localhost"
BRAND = "Mekong Coffee Co."  # the workspace chorus.sandbox.demo fills with accounts and posts
CREDENTIALS_FILE = "demo-sign-in.txt"

TEAMMATES = [
    ("malis@chorus.localhost", "Malis Chea", Role.EDITOR, "km", "Social"),
    ("somchai@chorus.localhost", "Somchai Srisuk", Role.CONTRIBUTOR, "th", "Social"),
    ("anahit@chorus.localhost", "Anahit Petrosyan", Role.EDITOR, "hy", "Customer care"),
    ("baraka@chorus.localhost", "Baraka Mwangi", Role.VIEWER, "sw", "Customer care"),
]


def ensure_demo() -> tuple[str, str]:
    """Create the demo user and workspaces once; return the sign-in to print."""
    path = settings.DATA_DIR / CREDENTIALS_FILE
    if User.objects.filter(email=DEMO_EMAIL).exists() and path.exists():
        return DEMO_EMAIL, path.read_text().strip()
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user:
            user.set_password(password)
            user.save(update_fields=["password"])
        else:
            _create(password)
    path.write_text(password)
    path.chmod(0o600)
    return DEMO_EMAIL, password


def _create(password: str) -> None:
    owner = User.objects.create_user(DEMO_EMAIL, password, full_name="Demo Owner")
    brand = services.workspace_create(name=BRAND, owner=owner, workspace_timezone="Asia/Phnom_Penh")
    services.workspace_create(
        name="Client: Yerevan Books", owner=owner, workspace_timezone="Asia/Yerevan"
    )
    teams = {
        name: Team.objects.create(workspace=brand, name=name)
        for name in ("Social", "Customer care")
    }
    for email, name, role, language, team in TEAMMATES:
        mate = User.objects.create_user(
            email, secrets.token_urlsafe(16), full_name=name, language=language
        )
        membership = Membership.objects.create(user=mate, workspace=brand, role=role)
        teams[team].members.add(membership)
