"""Signals the catalog sends; apps that must not be imported by catalog listen to them."""

from django.dispatch import Signal

# Sent inside the writing transaction by every writer of combination prices or stock
# (the sync's apply step and pricing_apply) with `combination_ids=`: the ids whose
# figures may have changed, or None when any combination may have (a sync, which also
# retires products by a bulk UPDATE). Receivers must only record or queue work.
combinations_changed = Signal()
