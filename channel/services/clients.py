"""API clients: create, change, rotate the token or callback secret, revoke, authenticate.

A token is shown once: only its keyed hash (backoffice.crypto.keyed_hash) is stored, so
a database read does not give anyone a working token. The callback secret must be read
back to sign callbacks, so it is stored encrypted instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from backoffice import crypto
from backoffice.audit import audit_record
from backoffice.models import AuditEvent
from licendi.webhooks import generate_secret

from ..errors import ChannelError, NotFound, Unauthenticated
from ..models import Action, ApiClient

TOKEN_PREFIX = "chan_"  # noqa: S105 - a format prefix, not a secret
# Hex only: keyed_hash upper-cases what it hashes, which must not merge two tokens.
TOKEN_BYTES = 24
EDITABLE_FIELDS = frozenset(
    {
        "actions",
        "allow_out_of_stock",
        "allow_below_margin",
        "daily_spend_cap",
        "order_spend_cap",
        "margin_floor_percent",
        "approval_threshold",
        "callback_url",
    }
)


@dataclass(frozen=True)
class IssuedClient:
    client: ApiClient
    token: str
    callback_secret: str


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_hex(TOKEN_BYTES)


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown client fields: {sorted(unknown)}")
    actions = fields.get("actions")
    if actions is not None and not set(actions) <= set(Action.values):
        raise ChannelError(
            "invalid_request", f"Unknown actions: {sorted(set(actions) - set(Action.values))}"
        )
    for name in (
        "daily_spend_cap",
        "order_spend_cap",
        "approval_threshold",
        "margin_floor_percent",
    ):
        value = fields.get(name)
        if value is not None and Decimal(value) < 0:
            raise ChannelError("invalid_request", f"{name} cannot be negative")


def _audit(client: ApiClient, summary: str, action: str = AuditEvent.Action.USER_CHANGE) -> None:
    audit_record(
        action=action,
        target=client,
        summary=f"API client {client.name}: {summary}",
        details={"client": client.pk, "token_prefix": client.token_prefix},
    )


def client_create(*, name: str, created_by: Any = None, **fields: Any) -> IssuedClient:
    """A new client with a fresh token and callback secret, both returned once."""
    name = name.strip()
    if not name:
        raise ChannelError("invalid_request", "A client needs a name")
    _check_fields(fields)
    fields.setdefault("actions", list(Action.values))
    token = _new_token()
    callback_secret = generate_secret()
    with transaction.atomic():
        if ApiClient.objects.filter(name=name).exists():
            raise ChannelError("invalid_request", f"A client named {name!r} exists already")
        user = get_user_model().objects.create_user(
            username=f"channel-{secrets.token_hex(3)}-{slugify(name)[:60] or 'client'}",
            password=None,
            is_active=False,
        )
        client = ApiClient.objects.create(
            name=name,
            token_prefix=token[: len(TOKEN_PREFIX) + 6],
            token_hash=crypto.keyed_hash(token),
            callback_secret_encrypted=crypto.encrypt(callback_secret),
            service_user=user,
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
            **fields,
        )
        _audit(client, "created")
    return IssuedClient(client, token, callback_secret)


def _lock(client_id: int) -> ApiClient:
    client = ApiClient.objects.select_for_update().filter(pk=client_id).first()
    if client is None:
        raise NotFound("not_found", f"API client {client_id} does not exist")
    return client


def client_update(*, client_id: int, **fields: Any) -> ApiClient:
    _check_fields(fields)
    with transaction.atomic():
        client = _lock(client_id)
        for name, value in fields.items():
            setattr(client, name, value)
        client.save(update_fields=list(fields))
        _audit(client, "settings changed: " + ", ".join(sorted(fields)))
    return client


def client_token_rotate(*, client_id: int) -> str:
    """A new token; the old one stops working at once (and answers `token_rotated`)."""
    token = _new_token()
    with transaction.atomic():
        client = _lock(client_id)
        if client.is_revoked:
            raise ChannelError("token_revoked", "A revoked client gets no new token")
        client.previous_token_hash = client.token_hash
        client.token_hash = crypto.keyed_hash(token)
        client.token_prefix = token[: len(TOKEN_PREFIX) + 6]
        client.token_rotated_at = timezone.now()
        client.save(
            update_fields=["previous_token_hash", "token_hash", "token_prefix", "token_rotated_at"]
        )
        _audit(client, "token rotated", AuditEvent.Action.SECRET_ROTATION)
    return token


def client_callback_secret_rotate(*, client_id: int) -> str:
    secret = generate_secret()
    with transaction.atomic():
        client = _lock(client_id)
        client.callback_secret_encrypted = crypto.encrypt(secret)
        client.save(update_fields=["callback_secret_encrypted"])
        _audit(client, "callback secret rotated", AuditEvent.Action.SECRET_ROTATION)
    return secret


def client_revoke(*, client_id: int, reason: str) -> ApiClient:
    """Every later call with the client's token answers 401 `token_revoked` and the reason."""
    reason = reason.strip()
    if not reason:
        raise ChannelError("invalid_request", "Say why the client is revoked")
    with transaction.atomic():
        client = _lock(client_id)
        if client.is_revoked:
            return client
        client.revoked_at = timezone.now()
        client.revoked_reason = reason[:300]
        client.save(update_fields=["revoked_at", "revoked_reason"])
        _audit(client, f"revoked: {reason}"[:200])
    return client


def client_authenticate(*, token: str) -> ApiClient:
    """The client holding `token`, or Unauthenticated naming why not."""
    token = token.strip()
    if not token:
        raise Unauthenticated("missing_token", "Send Authorization: Bearer <token>")
    hashed = crypto.keyed_hash(token)
    client = ApiClient.objects.filter(token_hash=hashed).first()
    if client is None:
        if ApiClient.objects.filter(previous_token_hash=hashed).exists():
            raise Unauthenticated("token_rotated", "This token was replaced by a newer one")
        raise Unauthenticated("invalid_token", "The token is not valid")
    if client.is_revoked:
        raise Unauthenticated("token_revoked", f"This client was revoked: {client.revoked_reason}")
    return client


def client_callback_secret(client: ApiClient) -> str:
    return crypto.decrypt(client.callback_secret_encrypted)
