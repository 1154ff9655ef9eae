"""Pulling from Licendi: polling the keys of a PO and importing orders placed elsewhere.

Run by the beat tasks in orders.tasks. An upstream order carrying one of our own
external ids is matched to that PO (waiting for its lock when a submission holds it),
never imported as a second PO.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction

import licendi
from backoffice.money import CENT
from backoffice.upstream import licendi_client
from catalog.models import Combination

from ..models import LicenceKey, PurchaseOrder, PurchaseOrderLine
from .keys import delivery_status_apply, keys_deliver, keys_store
from .submission import upstream_order_record
from .timeline import Status, announce_known, record_event

logger = logging.getLogger(__name__)

# How many of the newest upstream orders one import run reads.
IMPORT_LIMIT = 200


def purchase_order_poll_keys(*, purchase_order_id: int) -> int:
    po = PurchaseOrder.objects.filter(pk=purchase_order_id).first()
    if po is None or not po.upstream_id or po.status not in PurchaseOrder.AWAITING_KEYS_STATUSES:
        return 0
    with licendi_client() as client:
        result = client.get_order_keys(po.upstream_id)
    return keys_deliver(
        upstream_order_id=po.upstream_id,
        external_id=po.external_id,
        keys=result.keys,
        source=LicenceKey.Source.POLLING,
    )


@dataclass
class ImportReport:
    seen: int = 0
    imported: int = 0
    adopted: int = 0
    skipped: list[str] = field(default_factory=list)  # unreadable listed orders
    errors: list[str] = field(default_factory=list)  # orders that failed on their own

    def as_counts(self) -> dict[str, int]:
        return {
            "seen": self.seen,
            "imported": self.imported,
            "adopted": self.adopted,
            "skipped": len(self.skipped),
            "errors": len(self.errors),
        }


def purchase_orders_import(*, limit: int = IMPORT_LIMIT) -> ImportReport:
    """Mirror orders placed outside the back-office (read-only POs) and adopt our own.

    Each listed order is handled on its own: one that cannot be read is skipped and
    reported, one that fails is logged and the run goes on with the next.
    """
    report = ImportReport()
    with licendi_client() as client:
        listing = client.order_listing(limit=limit)
        report.skipped = list(listing.skipped)
        for reason in listing.skipped:
            logger.warning("Order import skipped an unreadable order: %s", reason)
        known = set(
            PurchaseOrder.objects.filter(
                upstream_id__in=[o.id for o in listing.orders]
            ).values_list("upstream_id", flat=True)
        )
        for order in listing.orders:
            report.seen += 1
            if order.id in known:
                continue
            try:
                po = purchase_order_import(order=order, client=client)
            except Exception as exc:  # one order must not stop the others
                report.errors.append(f"{order.id}: {type(exc).__name__}: {exc}")
                logger.warning("Importing Licendi order %s failed: %s", order.id, exc)
                continue
            if po is None:
                continue
            if po.source == PurchaseOrder.Source.IMPORTED:
                report.imported += 1
            else:
                report.adopted += 1
    return report


def purchase_order_import(
    *, order: licendi.Order, client: licendi.LicendiClient
) -> PurchaseOrder | None:
    """Mirror one upstream order placed outside the back-office as a read-only PO.

    An order carrying the external id of one of our own POs is that PO's order: the
    import waits for the PO's row lock (a submission may be holding it across its call
    to Licendi) and then records the order on it if the submission has not. Returns
    the PO created or adopted, None when nothing was done.
    """
    with transaction.atomic():
        if order.external_id:
            ours = (
                PurchaseOrder.objects.select_for_update()
                .filter(external_id=order.external_id, source=PurchaseOrder.Source.BACKOFFICE)
                .first()
            )
            if ours is not None:
                return _own_order_adopt(ours, order, client=client)
        if PurchaseOrder.objects.filter(upstream_id=order.id).exists():
            return None
        detail = client.get_order(order.id)
        external_id = detail.external_id or None
        note = "Placed outside the back-office"
        if external_id and PurchaseOrder.objects.filter(external_id=external_id).exists():
            # Numbers are unique here; keep Licendi's on the record all the same.
            note += f" (Licendi's externalId {external_id} is already another order's number)"
            external_id = None
        total = detail.total
        if total is None:
            total = sum((i.unit_price * i.qty for i in detail.items), Decimal("0")).quantize(CENT)
        try:
            with transaction.atomic():
                po = PurchaseOrder.objects.create(
                    source=PurchaseOrder.Source.IMPORTED,
                    status=Status.PENDING_DELIVERY,
                    external_id=external_id,
                    upstream_id=detail.id,
                    total=total,
                    upstream_total=detail.total,
                    currency=detail.currency,
                    invoice_number=detail.invoice_number or "",
                    note=note,
                    submitted_at=detail.created_at,
                    needs_review=bool(detail.problems),
                    review_reason="; ".join(detail.problems)[:4000],
                )
        except IntegrityError:
            return None  # imported concurrently by another run
        combinations = {
            c.order_sku: c
            for c in Combination.objects.filter(order_sku__in=[i.sku for i in detail.items])
        }
        for item in detail.items:
            PurchaseOrderLine.objects.create(
                purchase_order=po,
                combination=combinations.get(item.sku),
                order_sku=item.sku,
                name=item.name[:300],
                quantity=max(item.qty, 1),
                unit_net_price=item.unit_price,
                upstream_unit_price=item.unit_price,
            )
        record_event(
            po, from_status="", actor_label="import", message=f"Imported Licendi order {detail.id}"
        )
        keys = [
            licendi.DeliveredKey(sku=item.sku, key=key, name=item.name)
            for item in detail.items
            for key in item.keys
        ]
        if not keys and detail.status != "pending":
            keys = list(client.get_order_keys(detail.id).keys)
        keys_store(po, keys, source=LicenceKey.Source.IMPORT)
        delivery_status_apply(po, actor_label="import", message="Keys counted at import")
        announce_known(po)
    return po


def _own_order_adopt(
    ours: PurchaseOrder, order: licendi.Order, *, client: licendi.LicendiClient
) -> PurchaseOrder | None:
    """The locked PO `ours` carries this order's external id."""
    if ours.upstream_id == order.id:
        return None
    if ours.upstream_id is None and ours.status in PurchaseOrder.UPSTREAM_STATUSES:
        detail = client.get_order(order.id)
        upstream_order_record(
            ours, detail, client=client, key_source=LicenceKey.Source.IMPORT, actor_label="import"
        )
        return ours
    # A draft, cancelled or failed PO (or one holding another upstream id) whose external
    # id Licendi reports: never a second PO, but a person must look.
    reason = f"Licendi reports order {order.id} with this PO's external id"
    if reason not in ours.review_reason:
        ours.needs_review = True
        ours.review_reason = "\n".join(filter(None, [ours.review_reason, reason]))[:4000]
        ours.save(update_fields=["needs_review", "review_reason", "updated_at"])
        record_event(ours, actor_label="import", message=reason)
    return None
