"""Signals between apps that must not import each other (orders and wallet).

Defined here, beside neither app, so the sender and the receiver both import only this.
"""

from django.dispatch import Signal

# Sent (on commit) by orders with `purchase_order=` when a submission got a definite
# outcome (placed, or refused): the supplier wallet may have moved, so it refreshes.
purchase_order_settled = Signal()
