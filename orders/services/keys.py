"""Where licence keys are stored: every key, whatever path brings it, goes through here.

`keys_store` puts each delivered key on the line that ordered its sku, up to that
line's quantity (encrypted, hashed, masked); any other key (a sku the PO never ordered,
more keys than a line's quantity) is kept, encrypted, as an `UnexpectedKey` waiting for
a decision, and never counts towards delivery. `keys_deliver` is the one entry point
for keys arriving by webhook or polling; the delivery status of a PO follows from how
many keys each line holds against its quantity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

import licendi
from backoffice import crypto
from backoffice.jobs import enqueue

from ..models import LicenceKey, PurchaseOrder, UnexpectedKey
from .errors import PurchaseOrderNotFound
from .timeline import Status, announce_known, record_event, transition


@dataclass(frozen=True)
class StoredKeys:
    added: int  # keys now held on their line
    unexpected: int  # keys kept aside for a decision


def keys_store(
    po: PurchaseOrder, keys: Sequence[licendi.DeliveredKey], *, source: str
) -> StoredKeys:
    """Put the keys not yet held on their lines; keep the rest as unexpected keys.

    The caller holds the PO row lock and every insert for a PO goes through here, so
    the per-line counts read below cannot change under us and the result is exact.
    A key already held (on a line or aside) is skipped: the same key by response,
    webhook and polling is stored once.
    """
    if not keys:
        return StoredKeys(0, 0)
    lines = {line.order_sku: line for line in po.lines.order_by("pk")}
    held = {
        row["order_sku"]: row["n"]
        for row in LicenceKey.objects.filter(purchase_order=po)
        .values("order_sku")
        .annotate(n=Count("pk"))
    }
    seen = set(LicenceKey.objects.filter(purchase_order=po).values_list("order_sku", "key_hash"))
    seen |= set(
        UnexpectedKey.objects.filter(purchase_order=po).values_list("order_sku", "key_hash")
    )
    now = timezone.now()
    rows: list[LicenceKey] = []
    aside: list[UnexpectedKey] = []
    for delivered in keys:
        value = delivered.key.strip()
        if not value:
            continue
        digest = crypto.keyed_hash(value)
        if (delivered.sku, digest) in seen:
            continue
        seen.add((delivered.sku, digest))
        line = lines.get(delivered.sku)
        if line is not None and held.get(delivered.sku, 0) < line.quantity:
            held[delivered.sku] = held.get(delivered.sku, 0) + 1
            rows.append(
                LicenceKey(
                    purchase_order=po,
                    line=line,
                    order_sku=delivered.sku,
                    name=(delivered.name or line.name)[:300],
                    key_encrypted=crypto.encrypt(value),
                    key_hash=digest,
                    key_masked=crypto.mask(value),
                    customer_id=po.customer_id,
                    assigned_at=now if po.customer_id else None,
                    source=source,
                )
            )
        else:
            aside.append(
                UnexpectedKey(
                    purchase_order=po,
                    order_sku=delivered.sku[:100],
                    name=delivered.name[:300],
                    reason=UnexpectedKey.Reason.UNKNOWN_SKU
                    if line is None
                    else UnexpectedKey.Reason.OVER_DELIVERED,
                    key_encrypted=crypto.encrypt(value),
                    key_hash=digest,
                    key_masked=crypto.mask(value),
                    source=source,
                )
            )
    LicenceKey.objects.bulk_create(rows)
    UnexpectedKey.objects.bulk_create(aside)
    if aside:
        skus = ", ".join(sorted({key.order_sku for key in aside}))
        record_event(
            po,
            actor_label=source,
            message=f"{len(aside)} unexpected key(s) kept aside for a decision ({skus})",
        )
    return StoredKeys(len(rows), len(aside))


def delivery_status(po: PurchaseOrder) -> str:
    """Delivered when every line holds its quantity of keys for its own sku."""
    lines = list(po.lines.annotate(held=Count("keys")).values_list("quantity", "held"))
    if not lines or all(held == 0 for _, held in lines):
        return Status.PENDING_DELIVERY
    if all(held >= quantity for quantity, held in lines):
        return Status.DELIVERED
    return Status.PARTIALLY_DELIVERED


def delivery_status_apply(po: PurchaseOrder, *, actor_label: str, message: str) -> None:
    target = delivery_status(po)
    if po.status == target:
        return
    fields: list[str] = []
    if target == Status.DELIVERED:
        po.delivered_at = timezone.now()
        fields.append("delivered_at")
    transition(po, target, actor_label=actor_label, message=message, fields=fields)


def keys_deliver(
    *,
    upstream_order_id: str,
    external_id: str | None,
    keys: Sequence[licendi.DeliveredKey],
    source: str,
) -> int:
    """Store delivered keys once and update the PO's delivery status.

    Matches the PO by upstream id, then by external id (a key can arrive by webhook
    before the order response was stored: the PO then learns its upstream id here and
    its invoice, total and prices are read from Licendi after commit).
    Returns how many keys were new on their lines. Raises PurchaseOrderNotFound when
    no PO matches.
    """
    if source not in LicenceKey.Source.values:
        raise ValueError(f"Unknown key source {source!r}")
    with transaction.atomic():
        po = PurchaseOrder.objects.select_for_update().filter(upstream_id=upstream_order_id).first()
        if po is None and external_id:
            po = (
                PurchaseOrder.objects.select_for_update()
                .filter(external_id=external_id, upstream_id__isnull=True)
                .exclude(status__in=[Status.DRAFT, Status.CANCELLED, Status.FAILED])
                .first()
            )
            if po is not None:
                po.upstream_id = upstream_order_id
                po.save(update_fields=["upstream_id", "updated_at"])
                record_event(
                    po,
                    actor_label=source,
                    message=f"Licendi order {upstream_order_id} learnt from delivered keys",
                )
                announce_known(po)
        if po is None:
            raise PurchaseOrderNotFound(
                f"No purchase order for Licendi order {upstream_order_id} / {external_id}"
            )
        stored = keys_store(po, keys, source=source)
        if stored.added:
            record_event(
                po, actor_label=source, message=f"{stored.added} key(s) received by {source}"
            )
        if po.status in PurchaseOrder.UPSTREAM_STATUSES:
            if po.status in (Status.SUBMITTING, Status.UNKNOWN):
                # The answer to the order was lost; the keys prove it was placed.
                record_event(
                    po, actor_label=source, message="Order placed: its answer never arrived"
                )
            delivery_status_apply(po, actor_label=source, message=f"Keys received by {source}")
        if po.upstream_id and details_missing(po):
            enqueue("orders.tasks.purchase_order_details_refresh", purchase_order_id=po.pk)
    return stored.added


def details_missing(po: PurchaseOrder) -> bool:
    """Whether a PO known upstream still lacks what the order answer would have given."""
    if not po.upstream_id or po.status not in PurchaseOrder.UPSTREAM_STATUSES:
        return False
    if not po.invoice_number or po.upstream_total is None:
        return True
    return po.lines.filter(upstream_unit_price__isnull=True).exists()
