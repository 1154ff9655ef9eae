"""Domain errors of the channel. Each names a stable code the API answers with.

A module of its own so that services, selectors and the API share them without the
selectors importing services.
"""

from __future__ import annotations


class ChannelError(Exception):
    """A refusal with a stable `code` (part of the API contract) and an HTTP status."""

    status = 422

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class Unauthenticated(ChannelError):
    status = 401


class Forbidden(ChannelError):
    status = 403


class NotFound(ChannelError):
    status = 404


class Conflict(ChannelError):
    status = 409


class Refused(ChannelError):
    """A fulfilment the spend guard or the catalog refuses (422)."""

    status = 422


# The stable error codes, documented in docs/channel.md and the OpenAPI document.
ERROR_CODES = {
    "missing_token": "No `Authorization: Bearer <token>` header",
    "invalid_token": "The token matches no client",
    "token_rotated": "The token was replaced by a newer one",
    "token_revoked": "The client was revoked (the reason is in the message)",
    "action_not_allowed": "The client's allow-list lacks this action",
    "invalid_request": "The body or a parameter is malformed",
    "invalid_cursor": "The `since` cursor was not issued by this feed",
    "missing_idempotency_key": "POST /fulfilments needs an Idempotency-Key header",
    "idempotency_key_reused": "The Idempotency-Key was used with another body",
    "duplicate_order": "The shop order id was fulfilled under another Idempotency-Key",
    "unknown_sku": "No sellable combination has this orderSku",
    "out_of_stock": "No key in stock and Licendi has none (client not allowed to wait)",
    "below_margin_floor": "The price paid is below net price plus the client's floor",
    "order_cap_exceeded": "The fulfilment's net cost is above the per-order cap",
    "daily_cap_exceeded": "The day's net cost would go above the daily cap",
    "not_found": "No such fulfilment for this client",
    "keys_unreadable": "Stored keys cannot be decrypted (server configuration): retry later",
}
