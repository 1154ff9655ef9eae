"""Sending a PO to Licendi: the price guard, the submission and recording the answer.

Order placement is an outbox: the PO, its lines and its Idempotency-Key are committed
before Licendi is called, and every call (retry, redelivered task, unknown-outcome
resolution) sends that same stored key, so upstream creates and charges one order.
Only a definite refusal (402/422) fails a PO; anything else leaves it "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import licendi
from backoffice import crypto
from backoffice.upstream import licendi_client

from ..models import LicenceKey, PurchaseOrder
from .errors import SubmissionOutcomeUnknown
from .keys import delivery_status_apply, details_missing, keys_store
from .merging import imported_duplicate_merge
from .timeline import Status, announce_known, announce_settled, lock, record_event, transition

# How many recent upstream orders are searched for one of ours by externalId.
LOOKUP_LIMIT = 200


def price_guard(po: PurchaseOrder, client: licendi.LicendiClient) -> dict[str, Any] | None:
    """Re-read each line upstream; the hold details when a line got dearer beyond the
    tolerance, vanished, or went out of stock since confirmation, else None."""
    tolerance = settings.PRICE_GUARD_TOLERANCE_PERCENT
    details: list[dict[str, Any]] = []
    problems: list[str] = []
    products: dict[str, licendi.ProductDetail | None] = {}
    for line in po.lines.order_by("pk"):
        product_sku = line.order_sku.split("::", 1)[0]
        if product_sku not in products:
            try:
                products[product_sku] = client.get_product(product_sku)
            except licendi.NotFound:
                products[product_sku] = None
        product = products[product_sku]
        row: dict[str, Any] = {
            "order_sku": line.order_sku,
            "confirmed_net": str(line.unit_net_price),
            "current_net": None,
            "in_stock": None,
            "gone": False,
        }
        found: tuple[Decimal, bool] | None = None
        if product is not None:
            if product.combinations:
                for combination in product.combinations:
                    if combination.order_sku == line.order_sku:
                        found = (combination.net_price, combination.in_stock)
            elif product.sku == line.order_sku:
                found = (product.net_price, product.in_stock)
        if found is None:
            row["gone"] = True
            problems.append(f"{line.order_sku} is no longer sold")
        else:
            net, in_stock = found
            row["current_net"] = str(net)
            row["in_stock"] = in_stock
            limit = line.unit_net_price * (1 + tolerance / 100)
            if net > limit:
                problems.append(f"{line.order_sku} net {line.unit_net_price} -> {net}")
            if not in_stock and line.in_stock_at_confirmation is not False:
                problems.append(f"{line.order_sku} went out of stock")
        details.append(row)
    if not problems:
        return None
    return {"lines": details, "problems": problems, "tolerance_percent": str(tolerance)}


@dataclass(frozen=True)
class SubmitResult:
    status: str
    detail: str = ""


def _order_items(po: PurchaseOrder) -> list[licendi.OrderLineRequest]:
    return [
        licendi.OrderLineRequest(sku=line.order_sku, qty=line.quantity)
        for line in po.lines.order_by("pk")
    ]


def upstream_find_by_external_id(
    client: licendi.LicendiClient, external_id: str
) -> licendi.Order | None:
    """Our order upstream, found by its externalId among the newest LOOKUP_LIMIT orders
    (re-read in full), or None. Unreadable listed orders are skipped, not fatal."""
    for order in client.order_listing(limit=LOOKUP_LIMIT).orders:
        if order.external_id == external_id:
            return client.get_order(order.id)
    return None


def purchase_order_submit(*, purchase_order_id: int, actor_label: str = "worker") -> SubmitResult:
    """Send a queued PO to Licendi, or resolve one whose outcome is unknown.

    Two phases, two transactions: `submission_prepare` (short) runs the price guard and
    commits "submitting", so that once anything may have been sent no later run
    re-prices or holds the PO; `submission_send` holds the row lock across the call, so
    two workers never send the same PO at once (the other one skips it). Raises
    SubmissionOutcomeUnknown for the task to retry with backoff.
    """
    prepared = submission_prepare(purchase_order_id=purchase_order_id, actor_label=actor_label)
    if prepared is not None:
        return prepared
    return submission_send(purchase_order_id=purchase_order_id, actor_label=actor_label)


def submission_prepare(*, purchase_order_id: int, actor_label: str) -> SubmitResult | None:
    """Phase 1: a queued PO passes the price guard and is committed "submitting".

    Returns the final result when there is nothing to send (busy, held, settled), None
    when phase 2 should send (or resolve) it.
    """
    with transaction.atomic():
        po = lock(purchase_order_id, skip_locked=True)
        if po is None:
            return SubmitResult("busy", "another worker holds this order")
        if po.status == Status.QUEUED:
            with licendi_client() as client:
                try:
                    hold = price_guard(po, client)
                except licendi.LicendiError as exc:
                    if licendi.is_transient(exc):
                        raise SubmissionOutcomeUnknown(f"price check failed: {exc}") from exc
                    raise
            if hold is not None:
                po.hold_details = hold
                transition(
                    po,
                    Status.HELD,
                    actor_label=actor_label,
                    message="Held by the price guard: " + "; ".join(hold["problems"]),
                    fields=["hold_details"],
                )
                return SubmitResult(Status.HELD, "; ".join(hold["problems"]))
            po.submitted_at = timezone.now()
            transition(
                po,
                Status.SUBMITTING,
                actor_label=actor_label,
                message="Sending to Licendi",
                fields=["submitted_at"],
            )
        elif po.status not in (Status.SUBMITTING, Status.UNKNOWN):
            return SubmitResult(po.status, "nothing to submit")
        po.submit_attempts += 1
        po.save(update_fields=["submit_attempts", "updated_at"])
    return None


def submission_send(*, purchase_order_id: int, actor_label: str) -> SubmitResult:
    """Phase 2: under the row lock, find the order upstream (a re-run) or send it with
    the stored Idempotency-Key, and record the answer."""
    outcome_unknown: str | None = None
    with transaction.atomic():
        po = lock(purchase_order_id, skip_locked=True)
        if po is None:
            return SubmitResult("busy", "another worker holds this order")
        if po.status not in (Status.SUBMITTING, Status.UNKNOWN):
            return SubmitResult(po.status, "already resolved")
        with licendi_client() as client:
            try:
                raw = b""
                upstream = None
                if po.status == Status.UNKNOWN or po.submit_attempts > 1:
                    # An earlier attempt may have gone through: find it before sending.
                    upstream = upstream_find_by_external_id(client, po.external_id or "")
                if upstream is None:
                    result = client.create_order(
                        items=_order_items(po),
                        external_id=po.external_id or "",
                        idempotency_key=str(po.idempotency_key),
                    )
                    upstream, raw = result.order, result.raw
                upstream_order_record(
                    po,
                    upstream,
                    client=client,
                    key_source=LicenceKey.Source.RESPONSE,
                    actor_label=actor_label,
                    raw=raw,
                )
                announce_settled(po)
                return SubmitResult(po.status)
            except licendi.UnreadableOrderAnswer as exc:
                unreadable_answer_record(po, exc, client=client, actor_label=actor_label)
                announce_settled(po)
                return SubmitResult(po.status, "answer unreadable: needs review")
            except licendi.LicendiError as exc:
                if licendi.is_definite_refusal(exc):
                    po.failure_code = exc.code or str(exc.status or "refused")
                    po.failure_message = exc.message
                    transition(
                        po,
                        Status.FAILED,
                        actor_label=actor_label,
                        message=f"Refused by Licendi ({po.failure_code}): {exc.message}",
                        fields=["failure_code", "failure_message"],
                    )
                    announce_settled(po)
                    return SubmitResult(Status.FAILED, po.failure_code)
                outcome_unknown = str(exc)
                po.failure_code = _unknown_code(exc)
                po.failure_message = exc.message
                if po.status != Status.UNKNOWN:
                    transition(
                        po,
                        Status.UNKNOWN,
                        actor_label=actor_label,
                        message=f"No definite answer: {exc}. Will retry with the same key.",
                        fields=["failure_code", "failure_message"],
                    )
                else:
                    po.save(update_fields=["failure_code", "failure_message", "updated_at"])
                    record_event(po, actor_label=actor_label, message=f"Still unknown: {exc}")
    raise SubmissionOutcomeUnknown(outcome_unknown or "outcome unknown")


def _unknown_code(exc: licendi.LicendiError) -> str:
    """A code for an unknown outcome; a 2xx status is never one (it is an answer)."""
    if exc.code:
        return exc.code
    if exc.status is not None and exc.status >= 300:
        return str(exc.status)
    return "no_answer" if exc.status is None else "unreadable_answer"


def _review(po: PurchaseOrder, reason: str) -> None:
    """Flag the locked PO for a person, keeping earlier reasons."""
    reasons = [r for r in po.review_reason.splitlines() if r]
    if reason not in reasons:
        reasons.append(reason)
    po.needs_review = True
    po.review_reason = "\n".join(reasons)[:4000]
    po.save(update_fields=["needs_review", "review_reason", "updated_at"])


def unreadable_answer_record(
    po: PurchaseOrder,
    exc: licendi.UnreadableOrderAnswer,
    *,
    client: licendi.LicendiClient,
    actor_label: str,
) -> None:
    """Licendi accepted the order (2xx) but its answer names no id we can read.

    The answer is kept encrypted and the PO is flagged for review; the order is then
    looked up by externalId. Found: recorded like any answer. Not found yet: the PO
    waits for its keys (webhooks match it by externalId, polling looks it up again).
    """
    po.upstream_answer_encrypted = crypto.encrypt(exc.raw.decode("utf-8", "replace"))
    po.failure_code = ""
    po.failure_message = ""
    po.save(
        update_fields=[
            "upstream_answer_encrypted",
            "failure_code",
            "failure_message",
            "updated_at",
        ]
    )
    _review(po, f"Licendi accepted the order but its answer could not be read: {exc.message}")
    try:
        found = upstream_find_by_external_id(client, po.external_id or "")
    except licendi.LicendiError as lookup_error:
        found = None
        record_event(po, actor_label=actor_label, message=f"Lookup failed: {lookup_error}")
    if found is not None:
        upstream_order_record(
            po, found, client=client, key_source=LicenceKey.Source.RESPONSE, actor_label=actor_label
        )
        return
    transition(
        po,
        Status.PENDING_DELIVERY,
        actor_label=actor_label,
        message="Accepted by Licendi (answer unreadable); its id will be found by externalId",
    )


def upstream_order_record(
    po: PurchaseOrder,
    order: licendi.Order,
    *,
    client: licendi.LicendiClient,
    key_source: str,
    actor_label: str,
    raw: bytes = b"",
) -> None:
    """Store what Licendi says about the locked PO's order: id, invoice, prices, keys.

    An imported PO already holding this upstream order (imported before the answer was
    stored) is merged into ours first, so the upstream id is recorded once.
    Parts of the answer that could not be read flag the PO for review and the raw
    answer is kept encrypted; keys missing from the answer are read from
    /api/orders/{id}/keys.
    """
    newly_known = po.upstream_id is None
    if po.upstream_id != order.id:
        imported_duplicate_merge(po, upstream_id=order.id, actor_label=actor_label)
    po.upstream_id = order.id
    po.invoice_number = order.invoice_number or po.invoice_number
    if order.total is not None:
        po.upstream_total = order.total
    po.failure_code = ""
    po.failure_message = ""
    fields = ["upstream_id", "invoice_number", "upstream_total", "failure_code"]
    fields += ["failure_message", "updated_at"]
    if order.problems and raw:
        po.upstream_answer_encrypted = crypto.encrypt(raw.decode("utf-8", "replace"))
        fields.append("upstream_answer_encrypted")
    po.save(update_fields=fields)
    if order.problems:
        _review(po, "Part of Licendi's answer could not be read: " + "; ".join(order.problems))
    prices = {item.sku: item.unit_price for item in order.items}
    for line in po.lines.all():
        if line.order_sku in prices and line.upstream_unit_price != prices[line.order_sku]:
            line.upstream_unit_price = prices[line.order_sku]
            line.save(update_fields=["upstream_unit_price"])
    keys = [
        licendi.DeliveredKey(sku=item.sku, key=key, name=item.name)
        for item in order.items
        for key in item.keys
    ]
    ordered = sum(line.quantity for line in po.lines.all())
    if order.problems or (order.status != "delivered" and len(keys) < ordered):
        # Listing answers carry no keys, and an answer read in part may have lost some:
        # ask for what is already there.
        try:
            keys += list(client.get_order_keys(order.id).keys)
        except licendi.LicendiError as exc:
            record_event(po, actor_label=actor_label, message=f"Keys not read yet: {exc}")
    stored = keys_store(po, keys, source=key_source)
    record_event(
        po,
        actor_label=actor_label,
        message=f"Licendi order {order.id} ({order.status or 'status unreadable'}), invoice "
        f"{order.invoice_number or '-'}, {stored.added} key(s) received",
    )
    delivery_status_apply(po, actor_label=actor_label, message="Keys counted after submission")
    if newly_known:
        announce_known(po)


def purchase_order_upstream_find(*, purchase_order_id: int, actor_label: str = "polling") -> bool:
    """For a PO Licendi accepted without an answer we could read: look its order up by
    externalId and record it. Returns True when found. Safe to run twice."""
    with transaction.atomic():
        po = lock(purchase_order_id, skip_locked=True)
        if po is None or po.upstream_id or po.status not in PurchaseOrder.AWAITING_KEYS_STATUSES:
            return False
        with licendi_client() as client:
            found = upstream_find_by_external_id(client, po.external_id or "")
            if found is None:
                return False
            upstream_order_record(
                po,
                found,
                client=client,
                key_source=LicenceKey.Source.POLLING,
                actor_label=actor_label,
            )
        return True


def purchase_order_details_refresh(*, purchase_order_id: int, actor_label: str = "worker") -> bool:
    """Re-read GET /api/orders/{id} for a PO whose invoice, charged total or line prices
    came by no answer (lost answer completed by webhook, import, polling).

    Returns True when the PO now holds them all. Safe to run twice.
    """
    with transaction.atomic():
        po = lock(purchase_order_id)
        if po is None or not details_missing(po):
            return po is not None
        with licendi_client() as client:
            order = client.get_order(po.upstream_id or "")
            upstream_order_record(
                po,
                order,
                client=client,
                key_source=LicenceKey.Source.POLLING,
                actor_label=actor_label,
            )
        return not details_missing(po)
