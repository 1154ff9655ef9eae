"""State-changing actions of the sales channel; one small module per concern.

- ../errors.py (channel.errors): ChannelError and the stable error codes, re-exported.
- clients.py: create, change, rotate, revoke and authenticate API clients.
- offers.py: the change markers of the offers feed, refreshed from the catalog.
- fulfilments.py: a shop order turned into keys within the client's spend guard.
- purchasing.py: every call into orders (customers, stock keys, purchase orders).
- callbacks.py: signed callbacks to the shop, retries and resend.
- calls.py: the audit trail of API calls.
"""

from ..errors import (
    ERROR_CODES,
    ChannelError,
    Conflict,
    Forbidden,
    NotFound,
    Refused,
    Unauthenticated,
)
from .callbacks import (
    CallbackFailed,
    callback_give_up,
    callback_queue,
    callback_resend,
    callback_send,
)
from .calls import call_record, calls_prune
from .clients import (
    IssuedClient,
    client_authenticate,
    client_callback_secret,
    client_callback_secret_rotate,
    client_create,
    client_revoke,
    client_token_rotate,
    client_update,
)
from .fulfilments import (
    Answer,
    FulfilmentRequest,
    LineRequest,
    fulfilment_create,
    fulfilment_po_changed,
    fulfilment_sync,
    fulfilments_sync_pending,
)
from .offers import offers_changed, offers_refresh

__all__ = [
    "ERROR_CODES",
    "Answer",
    "CallbackFailed",
    "ChannelError",
    "Conflict",
    "Forbidden",
    "FulfilmentRequest",
    "IssuedClient",
    "LineRequest",
    "NotFound",
    "Refused",
    "Unauthenticated",
    "call_record",
    "callback_give_up",
    "callback_queue",
    "callback_resend",
    "callback_send",
    "calls_prune",
    "client_authenticate",
    "client_callback_secret",
    "client_callback_secret_rotate",
    "client_create",
    "client_revoke",
    "client_token_rotate",
    "client_update",
    "fulfilment_create",
    "fulfilment_po_changed",
    "fulfilment_sync",
    "fulfilments_sync_pending",
    "offers_changed",
    "offers_refresh",
]
