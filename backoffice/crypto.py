"""Encryption at rest for licence keys and webhook secrets, and the keyed hash.

MultiFernet over FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts,
so a new key can be put first and old rows re-encrypted (`manage.py rotate_keys`)
before the old key is dropped.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "keyed_hash", "reencrypt"]


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64 bytes)"
        ) from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Raises InvalidToken when no configured key opens the token."""
    return _current().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same plaintext under the first (newest) key."""
    return _current().rotate(token.encode()).decode()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 hex of a value: equal keys match without storing them.

    Only surrounding whitespace is trimmed (a transport artefact); case and inner
    characters are kept, because two keys differing only in case are two keys.
    """
    secret = settings.KEY_HASH_SECRET
    if not secret:
        raise ImproperlyConfigured("KEY_HASH_SECRET is empty")
    normalised = value.strip()
    return hmac.new(secret.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def mask(value: str, visible: int = 5) -> str:
    """XXXXX-...-ABCDE style: only the last characters, never enough to use the key."""
    if len(value) <= visible:
        return "•" * len(value)
    return "•••••-" + value[-visible:]


def key_columns(value: str, *, digest: str | None = None) -> dict[str, str]:
    """The three columns a licence key is stored in (LicenceKey, UnexpectedKey): the key
    encrypted, its keyed hash (to find the same key again without decrypting) and its
    masked form (to show). `digest` is `keyed_hash(value)` when the caller already has it."""
    return {
        "key_encrypted": encrypt(value),
        "key_hash": keyed_hash(value) if digest is None else digest,
        "key_masked": mask(value),
    }
