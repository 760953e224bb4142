import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from chorus.core import crypto
from chorus.networks.models import SocialAccount


@pytest.fixture
def keys(settings):
    def use(*keys):
        settings.ENCRYPTION_KEYS = list(keys)
        crypto.reset_cache()

    yield use
    crypto.reset_cache()


def test_round_trip_and_no_plaintext(keys):
    keys(Fernet.generate_key().decode())
    sealed = crypto.encrypt("token-123")
    assert "token-123" not in sealed
    assert crypto.decrypt(sealed) == "token-123"


def test_wrong_key_gives_a_clear_error(keys):
    keys(Fernet.generate_key().decode())
    sealed = crypto.encrypt("x")
    keys(Fernet.generate_key().decode())
    with pytest.raises(crypto.DecryptionFailed, match="CHORUS_ENCRYPTION_KEYS"):
        crypto.decrypt(sealed)


@pytest.mark.django_db
def test_rotation_command_re_encrypts_so_the_old_key_can_go(keys, owner):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    account = SocialAccount(workspace=owner.workspace, provider="mastodon", remote_id="1")
    account.secrets = {"access_token": "secret-token"}
    account.save()
    keys(new, old)
    call_command("rotate_encryption_keys")
    keys(new)
    account.refresh_from_db()
    assert account.secrets == {"access_token": "secret-token"}
