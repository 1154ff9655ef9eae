"""State-changing actions on customers, purchase orders and licence keys.

Order placement is an outbox: the PO, its lines and its Idempotency-Key are committed
before Licendi is called, and every call (retry, redelivered task, unknown-outcome
resolution) sends that same stored key, so upstream creates and charges one order.
Only a definite refusal (402/422) fails a PO; anything else leaves it "unknown".

The actions live in small modules; this package re-exports every public name so that
callers write `from orders import services` / `from orders.services import X`:

- errors.py: the domain errors (OrdersError and its subclasses).
- timeline.py: helpers the modules share (locking, status transitions and the timeline,
  numbering, what is queued or announced on commit).
- customers.py: customer_create, customer_update.
- drafts.py: purchase_order_create, purchase_order_update, purchase_order_line_set.
- confirmation.py: confirm, approve, reject, cancel, reconfirm.
- submission.py: the price guard, purchase_order_submit, recording the upstream order.
- keys.py: where keys are stored (keys_store) and keys_deliver / keys_deliver_many.
- importing.py: polling a PO's keys and importing orders placed outside the back-office.
- custody.py: reveal, copy, assign, export, email and rotation of stored keys.
"""

from backoffice.money import CENT

from .confirmation import (
    CANCELLABLE,
    Outcome,
    purchase_order_approve,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_confirm_summary,
    purchase_order_reconfirm,
    purchase_order_reject,
)
from .custody import (
    customer_keys_email,
    customer_keys_email_selected,
    customer_keys_export_rows,
    licence_key_assign,
    licence_key_copied,
    licence_key_reveal,
    licence_keys_assign,
    licence_keys_rotate,
)
from .customers import customer_create, customer_update
from .drafts import (
    MAX_LINE_QUANTITY,
    purchase_order_create,
    purchase_order_line_set,
    purchase_order_lines_add,
    purchase_order_update,
)
from .errors import (
    FourEyesViolation,
    InvalidState,
    KeyEmailNotSent,
    OrdersError,
    PurchaseOrderNotFound,
    SubmissionOutcomeUnknown,
    UnknownCombination,
)
from .importing import (
    IMPORT_LIMIT,
    ImportReport,
    purchase_order_import,
    purchase_order_poll_keys,
    purchase_orders_import,
)
from .keys import DeliveryOutcome, KeyDelivery, keys_deliver, keys_deliver_many
from .resolution import (
    UNRESOLVED,
    purchase_order_check_upstream,
    purchase_order_not_placed_approve,
    purchase_order_not_placed_request,
    unexpected_key_decide,
)
from .submission import (
    LOOKUP_LIMIT,
    SubmitResult,
    purchase_order_details_refresh,
    purchase_order_submit,
)
from .sweeps import (
    SweepReport,
    purchase_order_failure_record,
    purchase_orders_poll_pending,
    purchase_orders_recover,
    purchase_orders_sync_request,
)
from .timeline import Status

__all__ = [
    "CANCELLABLE",
    "CENT",
    "IMPORT_LIMIT",
    "LOOKUP_LIMIT",
    "MAX_LINE_QUANTITY",
    "UNRESOLVED",
    "DeliveryOutcome",
    "FourEyesViolation",
    "ImportReport",
    "InvalidState",
    "KeyDelivery",
    "KeyEmailNotSent",
    "OrdersError",
    "Outcome",
    "PurchaseOrderNotFound",
    "Status",
    "SubmissionOutcomeUnknown",
    "SubmitResult",
    "SweepReport",
    "UnknownCombination",
    "customer_create",
    "customer_keys_email",
    "customer_keys_email_selected",
    "customer_keys_export_rows",
    "customer_update",
    "keys_deliver",
    "keys_deliver_many",
    "licence_key_assign",
    "licence_key_copied",
    "licence_key_reveal",
    "licence_keys_assign",
    "licence_keys_rotate",
    "purchase_order_approve",
    "purchase_order_cancel",
    "purchase_order_check_upstream",
    "purchase_order_confirm",
    "purchase_order_confirm_summary",
    "purchase_order_create",
    "purchase_order_details_refresh",
    "purchase_order_failure_record",
    "purchase_order_import",
    "purchase_order_line_set",
    "purchase_order_lines_add",
    "purchase_order_not_placed_approve",
    "purchase_order_not_placed_request",
    "purchase_order_poll_keys",
    "purchase_order_reconfirm",
    "purchase_order_reject",
    "purchase_order_submit",
    "purchase_order_update",
    "purchase_orders_import",
    "purchase_orders_poll_pending",
    "purchase_orders_recover",
    "purchase_orders_sync_request",
    "unexpected_key_decide",
]
