"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent (on commit) with `purchase_order=` whenever a PO gets its upstream id: after a
# submission succeeds, after an unknown outcome is resolved, or when an order is
# imported. Webhook events that arrived before the order was stored wait for it.
purchase_order_known = Signal()
