"""Where licence keys are stored: every key, whatever path brings it, goes through here.

`_store_keys` inserts the keys a PO does not hold yet (encrypted, hashed, masked);
`keys_deliver` is the one entry point for keys arriving by webhook or polling; the
delivery status of a PO follows from how many keys it holds against how many it ordered.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

import licendi
from backoffice import crypto

from ..models import LicenceKey, PurchaseOrder
from ._common import Status, _announce_known, _event, _transition
from .errors import PurchaseOrderNotFound


def _store_keys(po: PurchaseOrder, keys: Sequence[licendi.DeliveredKey], *, source: str) -> int:
    """Insert the keys not yet held (ON CONFLICT DO NOTHING on the unique constraint).

    The caller holds the PO row lock, and every insert for a PO goes through here, so
    the count difference is exactly the number of new keys.
    """
    if not keys:
        return 0
    lines = {line.order_sku: line for line in po.lines.all()}
    now = timezone.now()
    rows = []
    for delivered in keys:
        value = delivered.key.strip()
        if not value:
            continue
        line = lines.get(delivered.sku)
        rows.append(
            LicenceKey(
                purchase_order=po,
                line=line,
                order_sku=delivered.sku,
                name=(delivered.name or (line.name if line else ""))[:300],
                key_encrypted=crypto.encrypt(value),
                key_hash=crypto.keyed_hash(value),
                key_masked=crypto.mask(value),
                customer_id=po.customer_id,
                assigned_at=now if po.customer_id else None,
                source=source,
            )
        )
    before = po.keys.count()
    LicenceKey.objects.bulk_create(rows, ignore_conflicts=True)
    return po.keys.count() - before


def _status_by_counts(po: PurchaseOrder) -> str:
    ordered = po.lines.aggregate(n=Sum("quantity"))["n"] or 0
    held = po.keys.count()
    if ordered and held >= ordered:
        return Status.DELIVERED
    if held == 0:
        return Status.PENDING_DELIVERY
    return Status.PARTIALLY_DELIVERED


def _apply_delivery_status(po: PurchaseOrder, *, actor_label: str, message: str) -> None:
    target = _status_by_counts(po)
    if po.status == target:
        return
    fields: list[str] = []
    if target == Status.DELIVERED:
        po.delivered_at = timezone.now()
        fields.append("delivered_at")
    _transition(po, target, actor_label=actor_label, message=message, fields=fields)


def keys_deliver(
    *,
    upstream_order_id: str,
    external_id: str | None,
    keys: Sequence[licendi.DeliveredKey],
    source: str,
) -> int:
    """Store delivered keys once and update the PO's delivery status.

    Matches the PO by upstream id, then by external id (a key can arrive by webhook
    before the order response was stored: the PO then learns its upstream id here).
    Returns how many keys were new. Raises PurchaseOrderNotFound when no PO matches.
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
                _event(
                    po,
                    actor_label=source,
                    message=f"Licendi order {upstream_order_id} learnt from delivered keys",
                )
                _announce_known(po)
        if po is None:
            raise PurchaseOrderNotFound(
                f"No purchase order for Licendi order {upstream_order_id} / {external_id}"
            )
        added = _store_keys(po, keys, source=source)
        if added:
            _event(po, actor_label=source, message=f"{added} key(s) received by {source}")
        if po.status in PurchaseOrder.UPSTREAM_STATUSES:
            _apply_delivery_status(po, actor_label=source, message=f"Keys received by {source}")
    return added
