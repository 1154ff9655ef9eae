"""What of a delivery body is stored: the fields the back-office reads, nothing else in clear.

A delivery body is kept for the event log and for reprocessing, but no licence key may
sit in clear in any table, whatever the field that carries it (`key`, `keys`,
`licenseKey`, `Key`, nested, or a field nobody has seen yet). So the rule is an allow
list, not a deny list: only the envelope (`id`, `type`, `createdAt`) and the fields the
back-office reads to match and describe an event (order ids, skus, product names) stay
readable; every other string, at any depth, is replaced by its Fernet token before the
row is written. Numbers, booleans and null stay as they are (no key is one).

The licence keys themselves are the tokens at the places `stored_keys` reads: `data.key`
and `data.keys[].key` (or `data.keys[]` when a key comes as a bare string).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from backoffice import crypto
from licendi import DeliveredKey

KEY_FIELD = "key"
KEYS_FIELD = "keys"

# Paths kept in clear: a tuple of names, "[]" standing for any list item.
CLEAR_PATHS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("id",),
        ("type",),
        ("createdAt",),
        ("data", "orderId"),
        ("data", "externalId"),
        ("data", "sku"),
        ("data", "name"),
        ("data", KEYS_FIELD, "[]", "sku"),
        ("data", KEYS_FIELD, "[]", "name"),
    }
)
# Paths holding the licence keys the back-office applies (always tokens once stored).
KEY_PATHS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("data", KEY_FIELD),
        ("data", KEYS_FIELD, "[]", KEY_FIELD),
        ("data", KEYS_FIELD, "[]"),
    }
)

Path = tuple[str, ...]


def map_tokens(value: Any, transform: Callable[[str], str], path: Path = ()) -> Any:
    """A copy of a stored payload with `transform` applied to every token in it.

    The one walk over the encrypted values of a payload: key rotation re-encrypts with
    it, and tests read every value back with it.
    """
    if isinstance(value, dict):
        return {name: map_tokens(item, transform, (*path, name)) for name, item in value.items()}
    if isinstance(value, list):
        return [map_tokens(item, transform, (*path, "[]")) for item in value]
    if isinstance(value, str) and path not in CLEAR_PATHS:
        return transform(value)
    return value


class Unstorable(ValueError):
    """A string PostgreSQL cannot store: U+0000, or a lone surrogate (\\ud800)."""


def _storable(text: str) -> str:
    if "\x00" in text:
        raise Unstorable("U+0000 in a string")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Unstorable("a lone surrogate in a string") from None
    return text


class _Place:
    """A place in a body, as CLEAR_PATHS and KEY_PATHS see it: whether a string there is
    kept in clear, whether it is a licence key, and the places below it by name ("[]"
    for a list's items). Built once from the paths, so the walk below looks each step up
    in a dict instead of building and hashing the path of every value."""

    __slots__ = ("below", "clear", "key")

    def __init__(self) -> None:
        self.clear = False
        self.key = False
        self.below: dict[str, _Place] = {}

    @classmethod
    def tree(cls, clear: frozenset[Path], keys: frozenset[Path]) -> _Place:
        root = cls()
        for paths, flag in ((clear, "clear"), (keys, "key")):
            for path in paths:
                place = root
                for name in path:
                    place = place.below.setdefault(name, cls())
                setattr(place, flag, True)
        return root


_PLACES = _Place.tree(CLEAR_PATHS, KEY_PATHS)
# Anywhere outside the paths: encrypted, not a key, nothing below in clear.
_ELSEWHERE = _Place()


class _Walk:
    """One pass over a decoded body: the stored copy and the number of keys in it."""

    def __init__(self, encrypt: Callable[[str], str], check: bool) -> None:
        self.encrypt = encrypt
        self.check = check
        self.keys = 0

    def copy(self, value: Any, place: _Place) -> Any:
        if isinstance(value, str):
            if self.check:
                _storable(value)
            if place.key:
                self.keys += 1
            return value if place.clear else self.encrypt(value)
        if isinstance(value, dict):
            if self.check:
                for name in value:
                    _storable(name)
            below = place.below
            copied = {}
            for name, item in value.items():
                item_place = below.get(name, _ELSEWHERE)
                if type(item) is str and not self.check:
                    # A string member, the most common value, without a call of its own:
                    # what copy() does with it when nothing is checked.
                    if item_place.key:
                        self.keys += 1
                    copied[name] = item if item_place.clear else self.encrypt(item)
                else:
                    copied[name] = self.copy(item, item_place)
            return copied
        if isinstance(value, list):
            item_place = place.below.get("[]", _ELSEWHERE)
            return [self.copy(item, item_place) for item in value]
        if isinstance(value, Decimal):
            # Decoded exactly for the contract check; stored as JSON decodes it by default
            # (the float nearest the digits, as float(text) gives).
            return float(value)
        return value


def encrypt_payload(document: Any) -> tuple[Any, int]:
    """The body as stored (every string outside CLEAR_PATHS encrypted), and its key count."""
    walk = _Walk(crypto.encrypt, check=False)
    return walk.copy(document, _PLACES), walk.keys


# In a UTF-8 body json.loads accepted, U+0000 and surrogates can only come from \u
# escapes (raw control characters are refused by the decoder, raw surrogates are not
# UTF-8), so a body without such an escape needs no check of each string. One that has
# one (a valid pair, or an escaped backslash followed by "u0000"), and a body in UTF-16 or
# UTF-32 (which json.loads also reads: a NUL byte in it), is checked string by string.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def storable_payload(document: Any, body: bytes | None = None) -> tuple[Any, int]:
    """`encrypt_payload` of a delivery body in the same single pass that refuses what the
    database cannot store: raises Unstorable for U+0000 or a lone surrogate in any string
    or name, before that string is encrypted. Decimal numbers are stored as floats.

    `body`, the bytes `document` was decoded from (strictly, by json.loads), lets a body
    without any \\u0000 or \\uD800-\\uDFFF escape skip the check of each string."""
    check = body is None or b"\x00" in body or _UNSTORABLE_ESCAPE.search(body) is not None
    walk = _Walk(crypto.encrypt, check=check)
    return walk.copy(document, _PLACES), walk.keys


def stored_keys(payload: dict[str, Any]) -> list[DeliveredKey]:
    """The keys of a stored `key.assigned` / `order.delivered` body, decrypted."""
    data = payload.get("data")
    if not isinstance(data, dict):
        return []
    if isinstance(data.get(KEY_FIELD), str):
        entries: list[Any] = [data]
    else:
        listed = data.get(KEYS_FIELD)
        entries = listed if isinstance(listed, list) else []
    keys = []
    for entry in entries:
        if isinstance(entry, str):
            keys.append(DeliveredKey(sku="", key=crypto.decrypt(entry), name=""))
        elif isinstance(entry, dict) and isinstance(entry.get(KEY_FIELD), str):
            keys.append(
                DeliveredKey(
                    sku=str(entry.get("sku", "")),
                    key=crypto.decrypt(entry[KEY_FIELD]),
                    name=str(entry.get("name") or ""),
                )
            )
    return keys


def masked_keys(payload: dict[str, Any]) -> list[dict[str, str]]:
    """sku, name and masked key of each stored key, for the event detail page."""
    return [
        {"sku": key.sku, "name": key.name, "masked": crypto.mask(key.key)}
        for key in stored_keys(payload)
    ]
