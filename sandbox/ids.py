"""Identifiers and secrets the sandbox hands out.

Runtime identifiers (order ids, licence keys, event ids, webhook secrets) come from
the operating system's randomness rather than the catalog seed: a restarted sandbox
must not reuse an order id or a key that a back-office database already holds.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Container

# Licence-key alphabet: A-Z and 0-9 without the characters people misread when
# typing a key from a screen or a receipt (0/O, 1/I/L, 5/S, 8/B).
KEY_ALPHABET = "ACDEFGHJKMNPQRTUVWXYZ234679"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def licence_key() -> str:
    """A ``XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`` key; uniqueness is enforced by the caller."""
    chars = "".join(secrets.choice(KEY_ALPHABET) for _ in range(25))
    return "-".join(chars[i : i + 5] for i in range(0, 25, 5))


def ulid() -> str:
    """A 26-character ULID: 48-bit millisecond time + 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    out = []
    for _ in range(26):
        out.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(out))


def event_id() -> str:
    return "evt_" + ulid()


def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def unique(make: Callable[[], str], taken: Container[str]) -> str:
    """Draw from ``make`` until the value is not in ``taken`` (short id spaces collide)."""
    while True:
        value = make()
        if value not in taken:
            return value


def order_id() -> str:
    return "ord-" + secrets.token_hex(3)


def webhook_id() -> str:
    return "wh-" + secrets.token_hex(2)
