"""The one registry of every value stored encrypted, and what key rotation does with it.

`manage.py rotate_keys` re-encrypts exactly what is listed here, and `rotate_keys --check`
reads it all back, so a value missing from REGISTRY would be left under a key that is
about to be dropped. A test fails when a model has a column named `*_encrypted` that is
not listed (the naming rule for an encrypted text column); a JSON column holding tokens
is listed with the function that walks its tokens.

Entries name their model by label and their walker by dotted path: this module is read
by the command and the tests, and imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils.module_loading import import_string

from . import crypto

# A walker: `walk(value, transform)` returns the value with `transform` applied to each
# token in it (webhooks.payloads.map_tokens has this shape).
TokenWalker = Callable[[Any, Callable[[str], str]], Any]


@dataclass(frozen=True)
class EncryptedValues:
    kind: str  # what the report calls them
    model: str  # "app_label.ModelName"
    field: str
    # Dotted path of a TokenWalker for a JSON column; empty: the column is one token.
    walker: str = ""

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def tokens(self, value: Any, transform: Callable[[str], str]) -> Any:
        if self.walker:
            walk: TokenWalker = import_string(self.walker)
            return walk(value, transform)
        if isinstance(value, str) and value:
            return transform(value)
        return value


REGISTRY: tuple[EncryptedValues, ...] = (
    EncryptedValues("licence keys", "orders.LicenceKey", "key_encrypted"),
    EncryptedValues("unexpected licence keys", "orders.UnexpectedKey", "key_encrypted"),
    EncryptedValues(
        "order answers kept for review", "orders.PurchaseOrder", "upstream_answer_encrypted"
    ),
    EncryptedValues("webhook endpoint secrets", "webhooks.WebhookEndpoint", "secret_encrypted"),
    EncryptedValues(
        "webhook event payloads",
        "webhooks.WebhookEvent",
        "payload",
        walker="webhooks.payloads.map_tokens",
    ),
    EncryptedValues(
        "sales-channel callback secrets", "channel.ApiClient", "callback_secret_encrypted"
    ),
)

ENCRYPTED_FIELD_SUFFIX = "_encrypted"


def unregistered_encrypted_fields() -> list[str]:
    """`app.Model.field` of every `*_encrypted` column that REGISTRY does not list."""
    listed = {(entry.model.lower(), entry.field) for entry in REGISTRY}
    missing = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            named_encrypted = field.name.endswith(ENCRYPTED_FIELD_SUFFIX)
            if named_encrypted and (model._meta.label_lower, field.name) not in listed:
                missing.append(f"{model._meta.label}.{field.name}")
    return sorted(missing)


@dataclass
class Tally:
    rows: int = 0
    values: int = 0
    unreadable: int = 0


def _walk_rows(
    entry: EncryptedValues, transform: Callable[[str], str], *, write: bool, batch_size: int
) -> Tally:
    model = entry.model_class()
    manager = model._default_manager
    tally = Tally()
    last_pk: Any = None
    while True:
        with transaction.atomic():
            rows = manager.only("pk", entry.field).order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            if write:
                rows = rows.select_for_update()
            batch = list(rows[:batch_size])
            if not batch:
                return tally
            for row in batch:
                counted = 0

                def count(token: str) -> str:
                    nonlocal counted
                    counted += 1
                    return transform(token)

                value = entry.tokens(getattr(row, entry.field), count)
                if counted:
                    tally.rows += 1
                    tally.values += counted
                    setattr(row, entry.field, value)
            if write:
                manager.bulk_update(batch, [entry.field])
            last_pk = batch[-1].pk


def encrypted_values_rotate(*, batch_size: int = 500) -> dict[str, Tally]:
    """Re-encrypt every registered value under the first FIELD_ENCRYPTION_KEYS key.

    In batches, each locked and written in one transaction, so the command can run while
    the back-office serves; running it twice is harmless. Raises InvalidToken (leaving the
    batch in progress untouched) when a value opens with none of the configured keys.
    """
    return {
        entry.kind: _walk_rows(entry, crypto.reencrypt, write=True, batch_size=batch_size)
        for entry in REGISTRY
    }


def encrypted_values_check(*, batch_size: int = 500) -> dict[str, Tally]:
    """Try to decrypt every registered value with the configured keys; count the failures."""
    results = {}
    for entry in REGISTRY:
        unreadable = 0

        def attempt(token: str) -> str:
            nonlocal unreadable
            try:
                crypto.decrypt(token)
            except crypto.InvalidToken:
                unreadable += 1
            return token

        tally = _walk_rows(entry, attempt, write=False, batch_size=batch_size)
        tally.unreadable = unreadable
        results[entry.kind] = tally
    return results
