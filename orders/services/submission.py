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
from backoffice.upstream import licendi_client

from ..models import LicenceKey, PurchaseOrder
from ._common import Status, _announce_known, _event, _lock, _queue_wallet_sync, _transition
from .errors import SubmissionOutcomeUnknown
from .keys import _apply_delivery_status, _store_keys

# How many recent upstream orders are searched for one of ours by externalId.
LOOKUP_LIMIT = 200


def _price_guard(po: PurchaseOrder, client: licendi.LicendiClient) -> dict[str, Any] | None:
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


def _find_upstream_by_external_id(
    client: licendi.LicendiClient, external_id: str
) -> licendi.Order | None:
    for order in client.list_orders(limit=LOOKUP_LIMIT):
        if order.external_id == external_id:
            return client.get_order(order.id)
    return None


def purchase_order_submit(*, purchase_order_id: int, actor_label: str = "worker") -> SubmitResult:
    """Send a queued PO to Licendi, or resolve one whose outcome is unknown.

    Two transactions: the first (short) runs the price guard and commits "submitting",
    so that once anything may have been sent, no later run re-prices or holds the PO;
    the second holds the row lock across the call, so two workers never send the same PO
    at once (the other one skips it). Raises SubmissionOutcomeUnknown for the task to
    retry with backoff.
    """
    with transaction.atomic():
        po = _lock(purchase_order_id, skip_locked=True)
        if po is None:
            return SubmitResult("busy", "another worker holds this order")
        if po.status == Status.QUEUED:
            with licendi_client() as client:
                try:
                    hold = _price_guard(po, client)
                except licendi.LicendiError as exc:
                    if licendi.is_transient(exc):
                        raise SubmissionOutcomeUnknown(f"price check failed: {exc}") from exc
                    raise
            if hold is not None:
                po.hold_details = hold
                _transition(
                    po,
                    Status.HELD,
                    actor_label=actor_label,
                    message="Held by the price guard: " + "; ".join(hold["problems"]),
                    fields=["hold_details"],
                )
                return SubmitResult(Status.HELD, "; ".join(hold["problems"]))
            po.submitted_at = timezone.now()
            _transition(
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

    outcome_unknown: str | None = None
    with transaction.atomic():
        po = _lock(purchase_order_id, skip_locked=True)
        if po is None:
            return SubmitResult("busy", "another worker holds this order")
        if po.status not in (Status.SUBMITTING, Status.UNKNOWN):
            return SubmitResult(po.status, "already resolved")
        with licendi_client() as client:
            try:
                upstream = None
                if po.status == Status.UNKNOWN or po.submit_attempts > 1:
                    # An earlier attempt may have gone through: find it before sending.
                    upstream = _find_upstream_by_external_id(client, po.external_id or "")
                if upstream is None:
                    result = client.create_order(
                        items=_order_items(po),
                        external_id=po.external_id or "",
                        idempotency_key=str(po.idempotency_key),
                    )
                    upstream = result.order
                _record_upstream_order(
                    po,
                    upstream,
                    client=client,
                    key_source=LicenceKey.Source.RESPONSE,
                    actor_label=actor_label,
                )
                _queue_wallet_sync()
                return SubmitResult(po.status)
            except licendi.LicendiError as exc:
                if licendi.is_definite_refusal(exc):
                    po.failure_code = exc.code or str(exc.status or "")
                    po.failure_message = exc.message
                    _transition(
                        po,
                        Status.FAILED,
                        actor_label=actor_label,
                        message=f"Refused by Licendi ({po.failure_code}): {exc.message}",
                        fields=["failure_code", "failure_message"],
                    )
                    _queue_wallet_sync()
                    return SubmitResult(Status.FAILED, po.failure_code)
                outcome_unknown = str(exc)
                po.failure_code = exc.code or (str(exc.status) if exc.status else "no_answer")
                po.failure_message = exc.message
                if po.status != Status.UNKNOWN:
                    _transition(
                        po,
                        Status.UNKNOWN,
                        actor_label=actor_label,
                        message=f"No definite answer: {exc}. Will retry with the same key.",
                        fields=["failure_code", "failure_message"],
                    )
                else:
                    po.save(update_fields=["failure_code", "failure_message", "updated_at"])
                    _event(po, actor_label=actor_label, message=f"Still unknown: {exc}")
    raise SubmissionOutcomeUnknown(outcome_unknown or "outcome unknown")


def _record_upstream_order(
    po: PurchaseOrder,
    order: licendi.Order,
    *,
    client: licendi.LicendiClient,
    key_source: str,
    actor_label: str,
) -> None:
    """Store what Licendi says about the locked PO's order: id, invoice, prices, keys."""
    newly_known = po.upstream_id is None
    po.upstream_id = order.id
    po.invoice_number = order.invoice_number or po.invoice_number
    po.upstream_total = order.total
    po.failure_code = ""
    po.failure_message = ""
    po.save(
        update_fields=[
            "upstream_id",
            "invoice_number",
            "upstream_total",
            "failure_code",
            "failure_message",
            "updated_at",
        ]
    )
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
    if order.status != "delivered" and not keys:
        # Listing answers carry no keys; ask for what is already there.
        keys = list(client.get_order_keys(order.id).keys)
    added = _store_keys(po, keys, source=key_source)
    _event(
        po,
        actor_label=actor_label,
        message=f"Licendi order {order.id} ({order.status}), invoice "
        f"{order.invoice_number or '-'}, {added} key(s) received",
    )
    _apply_delivery_status(po, actor_label=actor_label, message="Keys counted after submission")
    if newly_known:
        _announce_known(po)
