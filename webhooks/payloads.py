"""Licence keys inside event bodies: encrypted before storage, decrypted to apply.

A delivery body is stored for the event log, but no licence key may sit in clear in
any table. Every string under a field named `key` (at any depth, so unknown event
types are covered too) is replaced by its Fernet token before the row is written.
"""

from __future__ import annotations

from typing import Any

from backoffice import crypto
from licendi import DeliveredKey

KEY_FIELD = "key"
ENCRYPTED_MARK = "keysEncrypted"


def encrypt_keys(value: Any) -> tuple[Any, int]:
    """A copy of `value` with every `key` string encrypted, and how many there were."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        count = 0
        for name, item in value.items():
            if name == KEY_FIELD and isinstance(item, str):
                out[name] = crypto.encrypt(item)
                count += 1
            else:
                out[name], found = encrypt_keys(item)
                count += found
        return out, count
    if isinstance(value, list):
        items = [encrypt_keys(item) for item in value]
        return [item for item, _ in items], sum(found for _, found in items)
    return value, 0


def stored_keys(payload: dict[str, Any]) -> list[DeliveredKey]:
    """The keys of a stored `key.assigned` / `order.delivered` body, decrypted."""
    data = payload.get("data")
    if not isinstance(data, dict):
        return []
    if isinstance(data.get(KEY_FIELD), str):
        entries = [data]
    else:
        entries = [entry for entry in data.get("keys") or [] if isinstance(entry, dict)]
    return [
        DeliveredKey(
            sku=str(entry.get("sku", "")),
            key=crypto.decrypt(entry[KEY_FIELD]),
            name=str(entry.get("name") or ""),
        )
        for entry in entries
        if isinstance(entry.get(KEY_FIELD), str)
    ]


def masked_keys(payload: dict[str, Any]) -> list[dict[str, str]]:
    """sku, name and masked key of each stored key, for the event detail page."""
    return [
        {"sku": key.sku, "name": key.name, "masked": crypto.mask(key.key)}
        for key in stored_keys(payload)
    ]
