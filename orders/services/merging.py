"""Folding an imported duplicate into the PO that placed the order.

Before externalId matching waited for the PO's lock, the order import could mirror one
of our own orders as a second, `imported` PO while its submission was still resolving.
When the submission (or "check with Licendi") then learns the upstream order, it adopts
it: the imported PO's keys move to the real PO's lines and the duplicate is closed.
"""

from __future__ import annotations

from django.db.models import Count

from backoffice import crypto

from ..models import LicenceKey, PurchaseOrder, UnexpectedKey
from .timeline import Status, record_event, transition


def imported_duplicate_merge(po: PurchaseOrder, *, upstream_id: str, actor_label: str) -> None:
    """Free `upstream_id` for the locked PO `po`: an imported PO holding it is merged.

    Raises ValueError when a back-office PO (not an import) already holds the id: two
    of our own orders can never be one upstream order, so that needs a person.
    """
    other = (
        PurchaseOrder.objects.select_for_update()
        .filter(upstream_id=upstream_id)
        .exclude(pk=po.pk)
        .first()
    )
    if other is None:
        return
    if other.source != PurchaseOrder.Source.IMPORTED:
        raise ValueError(f"Licendi order {upstream_id} is already recorded on {other}")
    other.upstream_id = None
    other.save(update_fields=["upstream_id", "updated_at"])
    lines = {line.order_sku: line for line in po.lines.order_by("pk")}
    held = {
        row["order_sku"]: row["n"] for row in po.keys.values("order_sku").annotate(n=Count("pk"))
    }
    present = set(po.keys.values_list("order_sku", "key_hash"))
    moved = aside = 0
    for key in LicenceKey.objects.select_for_update().filter(purchase_order=other).order_by("pk"):
        line = lines.get(key.order_sku)
        if (key.order_sku, key.key_hash) in present:
            key.delete()  # the same key already reached the real PO
            continue
        if line is not None and held.get(key.order_sku, 0) < line.quantity:
            held[key.order_sku] = held.get(key.order_sku, 0) + 1
            key.purchase_order = po
            key.line = line
            if key.customer_id is None and po.customer_id is not None:
                key.customer_id = po.customer_id
                key.assigned_at = key.received_at
            key.save(update_fields=["purchase_order", "line", "customer", "assigned_at"])
            moved += 1
            continue
        UnexpectedKey.objects.get_or_create(
            purchase_order=po,
            order_sku=key.order_sku,
            key_hash=key.key_hash,
            defaults={
                "name": key.name,
                "reason": UnexpectedKey.Reason.UNKNOWN_SKU
                if line is None
                else UnexpectedKey.Reason.OVER_DELIVERED,
                "key_encrypted": crypto.reencrypt(key.key_encrypted),
                "key_masked": key.key_masked,
                "source": key.source,
            },
        )
        key.delete()
        aside += 1
    record_event(
        po,
        actor_label=actor_label,
        message=f"Adopted Licendi order {upstream_id} from imported duplicate #{other.pk}: "
        f"{moved} key(s) moved, {aside} kept aside",
    )
    transition(
        other,
        Status.CANCELLED,
        actor_label=actor_label,
        message=f"Duplicate of {po}: merged into it",
    )
