"""State changes of the webhooks app, by concern: `deliveries` (recording and applying
events) and `endpoints` (registering, deleting, rotating). Callers use this namespace.

Deliveries are at least once and out of order. Two database facts make that safe: an
event id is inserted once (ON CONFLICT DO NOTHING), and the keys an event carries go
through `orders.services.keys_deliver_many`, which stores each key once whatever path
(order response, webhook, polling) delivered it first.
"""

from .deliveries import (
    webhook_event_process,
    webhook_event_process_queued,
    webhook_event_record,
    webhook_events_drain,
    webhook_events_process_waiting,
    webhook_events_queue_for_order,
)
from .endpoints import (
    WebhookEndpointError,
    webhook_endpoint_delete,
    webhook_endpoint_delete_orphan,
    webhook_endpoint_register,
    webhook_endpoint_rotate_finish,
    webhook_endpoint_rotate_start,
    webhook_endpoints_upstream,
)
from .failures import webhook_event_failure_record, webhook_events_failure_record
from .reprocessing import webhook_events_reprocess

__all__ = [
    "WebhookEndpointError",
    "webhook_endpoint_delete",
    "webhook_endpoint_delete_orphan",
    "webhook_endpoint_register",
    "webhook_endpoint_rotate_finish",
    "webhook_endpoint_rotate_start",
    "webhook_endpoints_upstream",
    "webhook_event_failure_record",
    "webhook_event_process",
    "webhook_event_process_queued",
    "webhook_event_record",
    "webhook_events_drain",
    "webhook_events_failure_record",
    "webhook_events_process_waiting",
    "webhook_events_queue_for_order",
    "webhook_events_reprocess",
]
