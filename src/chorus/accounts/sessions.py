"""Django's database sessions, refusing a session key that Django could never have issued.

Django checks only a key's length before looking it up, so a cookie such as
`sessionid="\\000…"` (the cookie parser decodes octal escapes) reached PostgreSQL, which
refuses NUL in text, and an anonymous request became a server error. A key of any other
shape is treated as no session at all, as an unknown key already is.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

ISSUED_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(db.SessionStore):
    def _validate_session_key(self, key):
        return bool(super()._validate_session_key(key)) and set(key) <= ISSUED_KEY_CHARS
