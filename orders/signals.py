"""Signals other apps listen to (orders imports none of them)."""

from django.dispatch import Signal

# Sent (on commit) with `purchase_order=` whenever a PO gets its upstream id: after a
# submission succeeds, after an unknown outcome is resolved, or when an order is
# imported. Webhook events that arrived before the order was stored wait for it.
purchase_order_known = Signal()

# Sent (on commit) with `purchase_order=` when a submission got a definite outcome
# (placed, or refused): the supplier wallet may have moved, so the wallet refreshes.
purchase_order_settled = Signal()
