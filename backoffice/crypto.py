"""Encryption at rest for licence keys and webhook secrets, and the keyed hash.

MultiFernet over FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts,
so a new key can be put first and old rows re-encrypted (`manage.py rotate_keys`)
before the old key is dropped.

Tokens are made here (`_TokenWriter`), not by `Fernet.encrypt`: the same Fernet
format (version byte, timestamp, random IV, AES-128-CBC of the PKCS7-padded text,
HMAC-SHA256 over all of it, url-safe base64), which cryptography's Fernet and
MultiFernet decrypt, but without the objects cryptography builds for every token (a
padder, a cipher context, an HMAC object): the webhook receiver encrypts every key
of every delivery, and those objects cost it more than the cryptography itself.
"""

import base64
import hashlib
import hmac
import os
import time
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = ["InvalidToken", "decrypt", "encrypt", "keyed_hash", "reencrypt"]

_VERSION = b"\x80"
_BLOCK = 16
# PKCS7: n bytes of value n complete the last block (a whole block when already full).
_PADDING = tuple(bytes([n]) * n for n in range(_BLOCK + 1))


class _TokenWriter:
    """Fernet tokens under one Fernet key.

    The key is split once and the HMAC keyed with its signing half is copied for each
    token; AES-128-CBC is cryptography's own, with a fresh IV from os.urandom for every
    token. The chaining and the padding check are left to cryptography, not re-done here.
    """

    def __init__(self, key: bytes) -> None:
        raw = base64.urlsafe_b64decode(key)
        self._signing = HMAC(raw[:16], hashes.SHA256())
        self._aes = algorithms.AES(raw[16:])

    def _cbc(self, iv: bytes, padded: bytes) -> bytes:
        context = Cipher(self._aes, modes.CBC(iv)).encryptor()
        return context.update(padded) + context.finalize()

    def token(self, data: bytes, at: int, iv: bytes) -> bytes:
        """The token of `data` made at Unix time `at` with this IV (16 random bytes)."""
        padded = data + _PADDING[_BLOCK - len(data) % _BLOCK]
        parts = _VERSION + at.to_bytes(8, "big") + iv + self._cbc(iv, padded)
        mac = self._signing.copy()
        mac.update(parts)
        return base64.urlsafe_b64encode(parts + mac.finalize())

    def encrypt(self, data: bytes, at: int | None = None) -> bytes:
        return self.token(data, int(time.time()) if at is None else at, os.urandom(16))


@cache
def _keys(keys: tuple[str, ...]) -> tuple[MultiFernet, _TokenWriter]:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key")
    try:
        fernets = [Fernet(key.strip().encode()) for key in keys]
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64 bytes)"
        ) from exc
    return MultiFernet(fernets), _TokenWriter(keys[0].strip().encode())


# The keys of FIELD_ENCRYPTION_KEYS, kept so that encrypting reads no setting (a settings
# read is a lazy-object lookup, a sizeable part of encrypting one licence key).
_loaded: tuple[MultiFernet, _TokenWriter] | None = None


def _current() -> tuple[MultiFernet, _TokenWriter]:
    global _loaded
    loaded = _loaded
    if loaded is None:
        loaded = _loaded = _keys(tuple(settings.FIELD_ENCRYPTION_KEYS))
    return loaded


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: object) -> None:
    """Settings change at run time only in tests; the next call reads the new keys."""
    global _loaded
    if setting == "FIELD_ENCRYPTION_KEYS":
        _loaded = None


def encrypt(plaintext: str) -> str:
    """A Fernet token of `plaintext` under the first key of FIELD_ENCRYPTION_KEYS."""
    return _current()[1].encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Raises InvalidToken when no configured key opens the token."""
    return _current()[0].decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same plaintext under the first (newest) key, with the token's timestamp (as
    MultiFernet.rotate keeps it). Raises InvalidToken when no configured key opens it."""
    readers, writer = _current()
    encoded = token.encode()
    plaintext = readers.decrypt(encoded)
    return writer.encrypt(plaintext, at=readers.extract_timestamp(encoded)).decode()


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
