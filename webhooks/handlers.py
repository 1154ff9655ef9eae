"""Signal receivers: they only queue work, the services decide what it means."""

from typing import Any

from . import services


def purchase_order_known(sender: Any, purchase_order: Any, **kwargs: Any) -> None:
    """A PO got its upstream id: apply the events that arrived before it did."""
    services.webhook_events_queue_for_order(
        upstream_id=purchase_order.upstream_id, external_id=purchase_order.external_id
    )
