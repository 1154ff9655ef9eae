"""Logs that would otherwise grow without end are kept for a number of days, then pruned.

Only logs: the records quarantined by upstream reads and the shop API's call log. Never
the audit trail, the ledger, orders, keys, webhook events, notifications (their rows
decide which conditions were already notified) or anything money or keys depend on.

Each app prunes its own log from a daily task; this module is what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

# Rows deleted per statement: each batch is its own short transaction, so pruning a year
# of backlog never holds one long lock or one huge transaction.
PRUNE_BATCH = 5000


def cutoff(days: int, *, now: datetime | None = None) -> datetime | None:
    """The moment before which rows are pruned; None when `days` keeps them for ever (0)."""
    if days <= 0:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def delete_in_batches(rows: QuerySet[Any], *, batch: int = PRUNE_BATCH) -> int:
    """Delete `rows` a batch of primary keys at a time; returns how many were deleted."""
    model = rows.model
    label = model._meta.label
    deleted = 0
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        _, per_model = model._base_manager.filter(pk__in=ids).delete()
        deleted += per_model.get(label, 0)


def prune(
    days: int, older_than: Callable[[datetime], QuerySet[Any]], *, now: datetime | None = None
) -> int:
    """Delete the rows `older_than(cutoff)` selects, when `days` keeps rows for a limited
    time (0: for ever); returns how many were deleted."""
    before = cutoff(days, now=now)
    return 0 if before is None else delete_in_batches(older_than(before))
