"""Encryption at rest for network tokens and client secrets (Fernet, with key rotation).

Keys come from CHORUS_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first); without
it, one key is generated once into the data directory. To rotate: put a new key first,
keep the old ones after it, run `chorus manage rotate_encryption_keys`, then drop the old.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionFailed(Exception):
    """No configured key opens this value: a key was removed before rotating."""


@cache
def _fernet() -> MultiFernet:
    """Keys were validated when settings loaded (chorus.config.encryption_keys)."""
    return MultiFernet([Fernet(key.encode()) for key in settings.ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed(
            "A stored secret cannot be decrypted with CHORUS_ENCRYPTION_KEYS; "
            "restore the key it was written with."
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key (decrypting with any configured key)."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed("A stored secret cannot be decrypted with any key.") from exc


def reset_cache() -> None:
    """Forget the loaded keys (after settings change, e.g. in tests)."""
    _fernet.cache_clear()
