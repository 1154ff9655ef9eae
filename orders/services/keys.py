"""Where licence keys are stored: every key, whatever path brings it, goes through here.

`keys_store` puts each delivered key on the line that ordered its sku, up to that
line's quantity (encrypted, hashed, masked); any other key (a sku the PO never ordered,
more keys than a line's quantity) is kept, encrypted, as an `UnexpectedKey` waiting for
a decision, and never counts towards delivery. `keys_deliver` is the one entry point
for keys arriving by webhook or polling; the delivery status of a PO follows from how
many keys each line holds against its quantity.

`keys_deliver_many` is the same for many deliveries at once (the webhook drain applies
a batch of events with it): the purchase orders are locked in one statement in primary
key order, and the lines, the keys already held, the inserts and the timeline entries
take one statement each for the whole batch instead of one set per delivery.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

import licendi
from backoffice import crypto
from backoffice.jobs import enqueue

from ..models import LicenceKey, PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine, UnexpectedKey
from .errors import PurchaseOrderNotFound
from .timeline import Status, announce_known, record_event, transition


@dataclass(frozen=True)
class StoredKeys:
    added: int  # keys now held on their line
    unexpected: int  # keys kept aside for a decision


@dataclass(frozen=True)
class KeyDelivery:
    """The keys one message (a webhook event, a poll) brought for one Licendi order."""

    upstream_order_id: str
    external_id: str | None
    keys: Sequence[licendi.DeliveredKey]


@dataclass(frozen=True)
class DeliveryOutcome:
    """Where a delivery's keys went: its PO (None when no PO matches yet) and how many
    were new on their lines."""

    purchase_order: PurchaseOrder | None
    added: int


def keys_store(
    po: PurchaseOrder, keys: Sequence[licendi.DeliveredKey], *, source: str
) -> StoredKeys:
    """Put the keys not yet held on their lines; keep the rest as unexpected keys.

    The caller holds the PO row lock and every insert for a PO goes through here, so
    the per-line counts read below cannot change under us and the result is exact.
    A key already held (on a line or aside) is skipped: the same key by response,
    webhook and polling is stored once.
    """
    return _keys_store_many([(po, keys)], source=source)[0]


def _keys_store_many(
    entries: Sequence[tuple[PurchaseOrder, Sequence[licendi.DeliveredKey]]], *, source: str
) -> list[StoredKeys]:
    """`keys_store` for several (PO, keys) entries at once, in order; one result each.

    Entries of one PO are applied in their order, so a line's quantity is filled by the
    earlier ones first, exactly as one `keys_store` call per entry would.
    """
    results = [StoredKeys(0, 0)] * len(entries)
    pos = {po.pk: po for po, keys in entries if keys}
    if not pos:
        return results
    prepared = [
        [(delivered, value, crypto.keyed_hash(value)) for delivered, value in _cleaned(keys)]
        for _, keys in entries
    ]
    lines = {
        (line.purchase_order_id, line.order_sku): line
        for line in PurchaseOrderLine.objects.filter(purchase_order_id__in=pos).order_by("pk")
    }
    held: dict[tuple[int, str], int] = {
        (row["purchase_order_id"], row["order_sku"]): row["n"]
        for row in LicenceKey.objects.filter(purchase_order_id__in=pos)
        .values("purchase_order_id", "order_sku")
        .annotate(n=Count("pk"))
    }
    digests = {digest for keys in prepared for _, _, digest in keys}
    seen: set[tuple[int, str, str]] = set()
    for model in (LicenceKey, UnexpectedKey):
        seen.update(
            model.objects.filter(purchase_order_id__in=pos, key_hash__in=digests).values_list(
                "purchase_order_id", "order_sku", "key_hash"
            )
        )
    now = timezone.now()
    rows: list[LicenceKey] = []
    aside: list[UnexpectedKey] = []
    for index, ((po, _), keys) in enumerate(zip(entries, prepared, strict=True)):
        added = unexpected = 0
        for delivered, value, digest in keys:
            if (po.pk, delivered.sku, digest) in seen:
                continue
            seen.add((po.pk, delivered.sku, digest))
            line = lines.get((po.pk, delivered.sku))
            if line is not None and held.get((po.pk, delivered.sku), 0) < line.quantity:
                held[(po.pk, delivered.sku)] = held.get((po.pk, delivered.sku), 0) + 1
                added += 1
                rows.append(
                    LicenceKey(
                        purchase_order=po,
                        line=line,
                        order_sku=delivered.sku,
                        name=(delivered.name or line.name)[:300],
                        **crypto.key_columns(value, digest=digest),
                        customer_id=po.customer_id,
                        assigned_at=now if po.customer_id else None,
                        source=source,
                    )
                )
            else:
                unexpected += 1
                aside.append(
                    UnexpectedKey(
                        purchase_order=po,
                        order_sku=delivered.sku[:100],
                        name=delivered.name[:300],
                        reason=UnexpectedKey.Reason.UNKNOWN_SKU
                        if line is None
                        else UnexpectedKey.Reason.OVER_DELIVERED,
                        **crypto.key_columns(value, digest=digest),
                        source=source,
                    )
                )
        results[index] = StoredKeys(added, unexpected)
    LicenceKey.objects.bulk_create(rows)
    UnexpectedKey.objects.bulk_create(aside)
    kept_aside: dict[int, list[UnexpectedKey]] = defaultdict(list)
    for key in aside:
        kept_aside[key.purchase_order_id].append(key)
    _timeline(
        (
            (
                pos[po_id],
                f"{len(keys)} unexpected key(s) kept aside for a decision "
                f"({', '.join(sorted({key.order_sku for key in keys}))})",
            )
            for po_id, keys in kept_aside.items()
        ),
        actor_label=source,
    )
    return results


def _cleaned(
    keys: Sequence[licendi.DeliveredKey],
) -> list[tuple[licendi.DeliveredKey, str]]:
    return [(delivered, value) for delivered in keys if (value := delivered.key.strip())]


def _timeline(
    entries: Iterable[tuple[PurchaseOrder, str]],
    *,
    actor_label: str = "",
    from_status: dict[int, str] | None = None,
) -> None:
    """Timeline entries, one INSERT for all of them; `from_status` gives the status a PO
    had before a change (by PO id), else the entry records no change."""
    PurchaseOrderEvent.objects.bulk_create(
        PurchaseOrderEvent(
            purchase_order=po,
            from_status=(from_status or {}).get(po.pk, po.status),
            to_status=po.status,
            actor_label=actor_label,
            message=message[:2000],
        )
        for po, message in entries
    )


def _status_of(lines: Sequence[tuple[int, int]]) -> str:
    """The delivery status of a PO from its lines' (quantity, keys held)."""
    if not lines or all(held == 0 for _, held in lines):
        return Status.PENDING_DELIVERY
    if all(held >= quantity for quantity, held in lines):
        return Status.DELIVERED
    return Status.PARTIALLY_DELIVERED


def _statuses(pos: Iterable[PurchaseOrder]) -> dict[int, str]:
    """The delivery status of each PO, from one query over their lines."""
    lines: dict[int, list[tuple[int, int]]] = {po.pk: [] for po in pos}
    for po_id, quantity, held in (
        PurchaseOrderLine.objects.filter(purchase_order_id__in=lines)
        .annotate(held=Count("keys"))
        .values_list("purchase_order_id", "quantity", "held")
    ):
        lines[po_id].append((quantity, held))
    return {po_id: _status_of(found) for po_id, found in lines.items()}


def delivery_status(po: PurchaseOrder) -> str:
    """Delivered when every line holds its quantity of keys for its own sku."""
    return _statuses([po])[po.pk]


def _status_fields(po: PurchaseOrder, target: str) -> list[str]:
    """Set what reaching `target` sets besides the status; the fields to save with it."""
    if target == Status.DELIVERED:
        po.delivered_at = timezone.now()
        return ["delivered_at"]
    return []


def delivery_status_apply(po: PurchaseOrder, *, actor_label: str, message: str) -> None:
    target = delivery_status(po)
    if po.status != target:
        fields = _status_fields(po, target)
        transition(po, target, actor_label=actor_label, message=message, fields=fields)


def _statuses_apply(pos: Sequence[PurchaseOrder], *, source: str) -> None:
    """Move each PO to its delivery status: each saved on its own (its post_save
    receivers run as for any status change), the timeline entries in one INSERT."""
    before: dict[int, str] = {}
    changed: list[PurchaseOrder] = []
    targets = _statuses(pos)
    for po in pos:
        target = targets[po.pk]
        if po.status == target:
            continue
        fields = _status_fields(po, target)
        before[po.pk], po.status = po.status, target
        po.save(update_fields=["status", "updated_at", *fields])
        changed.append(po)
    _timeline(
        ((po, f"Keys received by {source}") for po in changed),
        actor_label=source,
        from_status=before,
    )


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
    delivery = KeyDelivery(upstream_order_id=upstream_order_id, external_id=external_id, keys=keys)
    (outcome,) = keys_deliver_many(deliveries=[delivery], source=source)
    if outcome.purchase_order is None:
        raise PurchaseOrderNotFound(
            f"No purchase order for Licendi order {upstream_order_id} / {external_id}"
        )
    return outcome.added


def keys_deliver_many(*, deliveries: Sequence[KeyDelivery], source: str) -> list[DeliveryOutcome]:
    """`keys_deliver` for many deliveries in one transaction; one outcome each, in order.

    A delivery whose order matches no PO gets an outcome without a PO (nothing stored
    for it) instead of an error, so the others still apply. The POs are locked in
    primary key order, so two callers over overlapping POs wait for each other instead
    of deadlocking. Deliveries for one PO are stored in their order and summed up in
    one timeline entry.
    """
    if source not in LicenceKey.Source.values:
        raise ValueError(f"Unknown key source {source!r}")
    if not deliveries:
        return []
    with transaction.atomic():
        matched = _purchase_orders_lock(deliveries, source=source)
        entries = [
            (po, delivery.keys)
            for po, delivery in zip(matched, deliveries, strict=True)
            if po is not None
        ]
        stored = iter(_keys_store_many(entries, source=source))
        outcomes = [DeliveryOutcome(po, 0 if po is None else next(stored).added) for po in matched]
        touched: dict[int, PurchaseOrder] = {}
        added: dict[int, int] = defaultdict(int)
        for outcome in outcomes:
            if outcome.purchase_order is not None:
                touched[outcome.purchase_order.pk] = outcome.purchase_order
                added[outcome.purchase_order.pk] += outcome.added
        notes: list[tuple[PurchaseOrder, str]] = []
        for po in touched.values():
            if added[po.pk]:
                notes.append((po, f"{added[po.pk]} key(s) received by {source}"))
            if po.status in (Status.SUBMITTING, Status.UNKNOWN):
                # The answer to the order was lost; the keys prove it was placed.
                notes.append((po, "Order placed: its answer never arrived"))
        _timeline(notes, actor_label=source)
        _statuses_apply(
            [po for po in touched.values() if po.status in PurchaseOrder.UPSTREAM_STATUSES],
            source=source,
        )
        for po_id in sorted(_details_missing_many(touched.values())):
            enqueue("orders.tasks.purchase_order_details_refresh", purchase_order_id=po_id)
    return outcomes


def _purchase_orders_lock(
    deliveries: Sequence[KeyDelivery], *, source: str
) -> list[PurchaseOrder | None]:
    """The PO of each delivery, locked: by upstream id, else by external id (the PO then
    learns its upstream id); None when no PO matches."""
    by_upstream = {
        po.upstream_id: po
        for po in PurchaseOrder.objects.select_for_update()
        .filter(upstream_id__in={delivery.upstream_order_id for delivery in deliveries})
        .order_by("pk")
    }
    unmatched = {
        delivery.external_id
        for delivery in deliveries
        if delivery.external_id and delivery.upstream_order_id not in by_upstream
    }
    by_external = {}
    if unmatched:
        by_external = {
            po.external_id: po
            for po in PurchaseOrder.objects.select_for_update()
            .filter(external_id__in=unmatched, upstream_id__isnull=True)
            .exclude(status__in=[Status.DRAFT, Status.CANCELLED, Status.FAILED])
            .order_by("pk")
        }
    matched: list[PurchaseOrder | None] = []
    for delivery in deliveries:
        po = by_upstream.get(delivery.upstream_order_id)
        if po is None and delivery.external_id:
            po = by_external.pop(delivery.external_id, None)
            if po is not None:
                po.upstream_id = delivery.upstream_order_id
                po.save(update_fields=["upstream_id", "updated_at"])
                record_event(
                    po,
                    actor_label=source,
                    message=(
                        f"Licendi order {delivery.upstream_order_id} learnt from delivered keys"
                    ),
                )
                announce_known(po)
                by_upstream[delivery.upstream_order_id] = po
        matched.append(po)
    return matched


def _details_missing_many(pos: Iterable[PurchaseOrder]) -> set[int]:
    """Which of these POs, known upstream, still lack what the order answer would have given."""
    missing: set[int] = set()
    check_lines: list[int] = []
    for po in pos:
        if not po.upstream_id or po.status not in PurchaseOrder.UPSTREAM_STATUSES:
            continue
        if not po.invoice_number or po.upstream_total is None:
            missing.add(po.pk)
        else:
            check_lines.append(po.pk)
    if check_lines:
        missing.update(
            PurchaseOrderLine.objects.filter(
                purchase_order_id__in=check_lines, upstream_unit_price__isnull=True
            )
            .values_list("purchase_order_id", flat=True)
            .distinct()
        )
    return missing


def details_missing(po: PurchaseOrder) -> bool:
    """Whether a PO known upstream still lacks what the order answer would have given."""
    return po.pk in _details_missing_many([po])
