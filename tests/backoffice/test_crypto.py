"""backoffice.crypto writes its own Fernet tokens: they must be standard ones."""

from __future__ import annotations

import base64
import threading
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from backoffice import crypto

# Empty, ASCII, non-ASCII (2-, 3- and 4-byte UTF-8), every length around the block
# boundaries (the padding table) and a long text.
PLAINTEXTS = [
    "",
    "A",
    "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",
    "clé-ÄÖÜ-ß",
    "ключ-лицензии",
    "許可証キー",
    "🔑 key with emoji 🗝️",
    "line\nbreak\ttab\x00nul",
    *("k" * n for n in range(1, 100)),
    *("é" * n for n in range(1, 40)),
    "x" * 5000,
]


@pytest.fixture
def key(settings) -> str:
    value = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [value, Fernet.generate_key().decode()]
    return value


@pytest.mark.parametrize("plaintext", PLAINTEXTS)
def test_tokens_open_with_cryptography_and_decrypt(key, settings, plaintext):
    token = crypto.encrypt(plaintext)

    assert Fernet(key.encode()).decrypt(token.encode()).decode() == plaintext
    multi = MultiFernet([Fernet(k.encode()) for k in settings.FIELD_ENCRYPTION_KEYS])
    assert multi.decrypt(token.encode()).decode() == plaintext
    assert crypto.decrypt(token) == plaintext


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 31, 32, 47, 48, 63, 64, 65, 200])
def test_tokens_are_byte_for_byte_fernets_for_the_same_time_and_iv(key, size):
    data = bytes(range(256))[:size]
    iv = bytes(range(100, 116))

    writer = crypto._keys((key,))[1]

    assert writer.token(data, 1_700_000_000, iv) == Fernet(key.encode())._encrypt_from_parts(
        data, 1_700_000_000, iv
    )


def test_each_token_has_a_fresh_iv_and_the_current_time(key):
    before = int(time.time())
    tokens = [crypto.encrypt("same text") for _ in range(20)]

    raw = [base64.urlsafe_b64decode(token) for token in tokens]
    assert len({item[9:25] for item in raw}) == 20
    assert all(before <= Fernet(key.encode()).extract_timestamp(t.encode()) for t in tokens)
    assert all(item[0] == 0x80 for item in raw)


def test_a_token_changed_in_any_byte_is_refused(key):
    token = bytearray(base64.urlsafe_b64decode(crypto.encrypt("XXXXX-XXXXX")))
    for index in (0, 5, 20, 30, len(token) - 1):
        changed = token.copy()
        changed[index] ^= 1
        with pytest.raises(InvalidToken):
            crypto.decrypt(base64.urlsafe_b64encode(bytes(changed)).decode())


def test_threads_encrypting_at_once_make_valid_tokens(key):
    texts = [f"KEY-{thread}-{n}-" + "é" * (n % 7) for thread in range(8) for n in range(200)]
    tokens: dict[str, str] = {}

    def work(offset: int) -> None:
        for text in texts[offset::8]:
            tokens[text] = crypto.encrypt(text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(tokens) == len(texts)
    reader = Fernet(key.encode())
    assert all(reader.decrypt(token.encode()).decode() == text for text, token in tokens.items())


def test_reencrypt_moves_a_token_to_the_first_key_and_keeps_its_time(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    token = Fernet(old.encode()).encrypt_at_time("ключ".encode(), 1_600_000_000).decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    moved = crypto.reencrypt(token)

    assert Fernet(new.encode()).decrypt(moved.encode()).decode() == "ключ"
    assert Fernet(new.encode()).extract_timestamp(moved.encode()) == 1_600_000_000
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(moved.encode())


def test_reencrypt_refuses_a_token_no_key_opens(key):
    foreign = Fernet(Fernet.generate_key()).encrypt(b"x").decode()

    with pytest.raises(InvalidToken):
        crypto.reencrypt(foreign)


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_missing_or_malformed_keys_stop_with_a_clear_error(settings, keys):
    settings.FIELD_ENCRYPTION_KEYS = keys

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt("x")


def test_a_changed_key_setting_is_used_from_the_next_call(settings):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [first]
    token = crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = [second]

    assert Fernet(second.encode()).decrypt(crypto.encrypt("y").encode()) == b"y"
    with pytest.raises(InvalidToken):
        crypto.decrypt(token)
