"""Rows in the states the to-dos and notifications watch, built without the services."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from backoffice.upstream_problems import quarantine_record
from catalog.models import Combination, PriceChange, SyncRun
from licendi import Rejected
from orders.models import PurchaseOrder
from tests.catalog.factories import CombinationFactory
from tests.wallet.factories import LedgerEntryFactory
from wallet.models import BalanceSnapshot, Gap

S = PurchaseOrder.Status


def po(status: str, *, ago: timedelta = timedelta(0), **fields: Any) -> PurchaseOrder:
    """A back-office PO in `status`, submitted (and last changed) `ago`."""
    when = timezone.now() - ago
    upstream = status in PurchaseOrder.UPSTREAM_STATUSES
    number = fields.pop("external_id", None) or f"PO-T-{uuid.uuid4().hex[:8].upper()}"
    row = PurchaseOrder.objects.create(
        status=status,
        external_id=number,
        idempotency_key=uuid.uuid4(),
        upstream_id=f"ord-{uuid.uuid4().hex[:12]}" if upstream else None,
        total=fields.pop("total", Decimal("750.00")),
        submitted_at=when if upstream else None,
        confirmed_at=when,
        **fields,
    )
    # auto_now cannot be set on create: age the row afterwards.
    PurchaseOrder.objects.filter(pk=row.pk).update(updated_at=when, created_at=when)
    row.refresh_from_db()
    return row


def gap(*, status: str = Gap.Status.OPEN, amount: str = "-69.80", ago=timedelta(0)) -> Gap:
    after = LedgerEntryFactory()
    before = LedgerEntryFactory()
    closed = status == Gap.Status.CLOSED
    return Gap.objects.create(
        after_entry=after,
        before_entry=before,
        kind=Gap.Kind.MISSED,
        amount=Decimal(amount),
        detected_at=timezone.now() - ago,
        status=status,
        closed_at=timezone.now() if closed else None,
    )


def combination(
    *,
    margin_percent: str | None,
    changed_ago: timedelta | None,
    active: bool = True,
    selling: str = "20.00",
) -> Combination:
    combo = CombinationFactory(is_active=active)
    combo.selling_price = Decimal(selling)
    combo.margin_percent = None if margin_percent is None else Decimal(margin_percent)
    combo.margin = Decimal("1.00")
    combo.price_changed_at = None if changed_ago is None else timezone.now() - changed_ago
    combo.save()
    return combo


def price_change(
    combo: Combination,
    *,
    old_net: str,
    old_margin: str,
    new_margin_percent: str,
    run: SyncRun | None = None,
    ago: timedelta = timedelta(hours=1),
) -> PriceChange:
    return PriceChange.objects.create(
        combination=combo,
        sync_run=run,
        changed_at=timezone.now() - ago,
        old_net_price=Decimal(old_net),
        new_net_price=Decimal(old_net) + Decimal("5.00"),
        old_price=Decimal("30.00"),
        new_price=Decimal("30.00"),
        old_margin=Decimal(old_margin),
        new_margin=Decimal("0.50"),
        new_margin_percent=Decimal(new_margin_percent),
    )


def sync_run(status: str, *, ago: timedelta = timedelta(0)) -> SyncRun:
    when = timezone.now() - ago
    return SyncRun.objects.create(
        started_at=when,
        finished_at=None if status == SyncRun.Status.RUNNING else when,
        heartbeat_at=when,
        status=status,
        trigger=SyncRun.Trigger.BEAT,
        seen=1200,
        price_changes=3,
        error="boom" if status == SyncRun.Status.FAILED else "",
    )


def snapshot(balance: str, *, ago: timedelta = timedelta(0), tier: str = "Gold") -> BalanceSnapshot:
    return BalanceSnapshot.objects.create(
        balance=Decimal(balance),
        currency="EUR",
        tier=tier,
        discount=Decimal("5.00"),
        recorded_at=timezone.now() - ago,
    )


def quarantined_sync_run(*, refs: list[str], ago: timedelta) -> SyncRun:
    """A finished catalog sync run that skipped the records `refs` as unreadable."""
    started = timezone.now() - ago
    run = SyncRun.objects.create(
        started_at=started,
        heartbeat_at=started,
        finished_at=started + timedelta(seconds=5),
        status=SyncRun.Status.SUCCEEDED,
        trigger=SyncRun.Trigger.BEAT,
    )
    quarantine_record(
        source="catalog.sync",
        endpoint="GET /api/products",
        rejected=[
            Rejected(ref=ref, reason="price is not a decimal", field=None, raw={}) for ref in refs
        ],
        run_ref=run.quarantine_ref,
    )
    return run
