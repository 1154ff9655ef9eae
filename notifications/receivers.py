"""Immediate notifications: receivers of the model signals of the apps being watched.

The watched apps know nothing of notifications (they must not import this app); the
receivers only queue a task on commit, so a failure here can never undo or slow the
change that triggered it. The periodic scan reports anything a receiver missed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save

from backoffice.jobs import enqueue
from catalog.models import SyncRun
from orders.models import PurchaseOrder
from wallet.models import BalanceSnapshot, Gap, SyncFailure

PO_STATUSES = frozenset({PurchaseOrder.Status.AWAITING_APPROVAL, PurchaseOrder.Status.FAILED})


def _status_saved(update_fields: Any) -> bool:
    return update_fields is None or "status" in update_fields


def purchase_order_saved(
    sender: type, instance: PurchaseOrder, update_fields: Any = None, **kwargs: Any
) -> None:
    if instance.status in PO_STATUSES and _status_saved(update_fields):
        enqueue(
            "notifications.tasks.notifications_for_purchase_order",
            purchase_order_id=instance.pk,
        )


def scan_soon(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    enqueue("notifications.tasks.notifications_scan")


def gap_saved(sender: type, instance: Gap, created: bool = False, **kwargs: Any) -> None:
    if created:
        scan_soon(sender, instance)


def snapshot_saved(
    sender: type, instance: BalanceSnapshot, created: bool = False, **kwargs: Any
) -> None:
    if created and instance.balance < settings.LOW_BALANCE_THRESHOLD:
        scan_soon(sender, instance)


def sync_run_saved(
    sender: type, instance: SyncRun, update_fields: Any = None, **kwargs: Any
) -> None:
    if instance.status == SyncRun.Status.FAILED and _status_saved(update_fields):
        scan_soon(sender, instance)


def sync_failure_saved(
    sender: type, instance: SyncFailure, created: bool = False, **kwargs: Any
) -> None:
    if created:
        scan_soon(sender, instance)


def connect() -> None:
    post_save.connect(purchase_order_saved, sender=PurchaseOrder, dispatch_uid="notify-po")
    post_save.connect(gap_saved, sender=Gap, dispatch_uid="notify-gap")
    post_save.connect(snapshot_saved, sender=BalanceSnapshot, dispatch_uid="notify-balance")
    post_save.connect(sync_run_saved, sender=SyncRun, dispatch_uid="notify-catalog-sync")
    post_save.connect(sync_failure_saved, sender=SyncFailure, dispatch_uid="notify-wallet-sync")
