"""Signals other apps listen to (orders imports none of them)."""

from django.dispatch import Signal

from backoffice.signals import purchase_order_settled

# Sent (on commit) with `purchase_order=` whenever a PO gets its upstream id: after a
# submission succeeds, after an unknown outcome is resolved, or when an order is
# imported. Webhook events that arrived before the order was stored wait for it.
purchase_order_known = Signal()

# Sent (on commit) with `purchase_order=` when a submission got a definite outcome; it
# lives in backoffice.signals so that the wallet can listen without importing orders.
__all__ = ["purchase_order_known", "purchase_order_settled"]
