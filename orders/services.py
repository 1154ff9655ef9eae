"""State-changing actions on customers, purchase orders and licence keys.

Order placement is an outbox: the PO, its lines and its Idempotency-Key are committed
before Licendi is called, and every call (retry, redelivered task, unknown-outcome
resolution) sends that same stored key, so upstream creates and charges one order.
Only a definite refusal (402/422) fails a PO; anything else leaves it "unknown".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

import licendi
from backoffice import crypto
from backoffice.audit import audit_record
from backoffice.models import AuditEvent
from backoffice.upstream import licendi_client
from catalog.models import Combination

from .models import (
    Customer,
    LicenceKey,
    PurchaseOrder,
    PurchaseOrderCounter,
    PurchaseOrderEvent,
    PurchaseOrderLine,
)
from .signals import purchase_order_known

logger = logging.getLogger(__name__)

Status = PurchaseOrder.Status
CENT = Decimal("0.01")
# How many recent upstream orders are searched for one of ours by externalId.
LOOKUP_LIMIT = 200


# --------------------------------------------------------------------------- errors


class OrdersError(Exception):
    """A request the current state does not allow; the message is shown to staff."""


class PurchaseOrderNotFound(OrdersError):
    pass


class InvalidState(OrdersError):
    pass


class FourEyesViolation(OrdersError):
    pass


class UnknownCombination(OrdersError):
    pass


class SubmissionOutcomeUnknown(OrdersError):
    """The order may or may not exist upstream; retry later with the same key."""


# --------------------------------------------------------------------------- helpers


def _transition(
    po: PurchaseOrder,
    to_status: str,
    *,
    actor: Any = None,
    actor_label: str = "",
    message: str = "",
    fields: Iterable[str] = (),
) -> None:
    """Change the status of a locked PO, save the given fields and add a timeline entry."""
    from_status = po.status
    po.status = to_status
    po.save(update_fields=["status", "updated_at", *fields])
    _event(po, from_status=from_status, actor=actor, actor_label=actor_label, message=message)


def _event(
    po: PurchaseOrder,
    *,
    from_status: str | None = None,
    actor: Any = None,
    actor_label: str = "",
    message: str = "",
) -> None:
    PurchaseOrderEvent.objects.create(
        purchase_order=po,
        from_status=po.status if from_status is None else from_status,
        to_status=po.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        message=message[:2000],
    )


def _lock(purchase_order_id: int, *, skip_locked: bool = False) -> PurchaseOrder | None:
    return (
        PurchaseOrder.objects.select_for_update(skip_locked=skip_locked)
        .filter(pk=purchase_order_id)
        .first()
    )


def _lock_or_raise(purchase_order_id: int) -> PurchaseOrder:
    po = _lock(purchase_order_id)
    if po is None:
        raise PurchaseOrderNotFound(f"Purchase order {purchase_order_id} does not exist")
    return po


def _next_external_id() -> str:
    """PO-<year>-<nnnn> from a counter row locked in the calling transaction.

    A rolled-back confirmation rolls the counter back too: no gaps. A number already
    taken (an imported order that happened to use it) is skipped.
    """
    year = timezone.localdate().year
    PurchaseOrderCounter.objects.bulk_create(
        [PurchaseOrderCounter(year=year, last_number=0)], ignore_conflicts=True
    )
    counter = PurchaseOrderCounter.objects.select_for_update().get(year=year)
    while True:
        counter.last_number += 1
        candidate = f"PO-{year}-{counter.last_number:04d}"
        if not PurchaseOrder.objects.filter(external_id=candidate).exists():
            break
    counter.save(update_fields=["last_number"])
    return candidate


def _recompute_total(po: PurchaseOrder) -> Decimal:
    total = Decimal("0.00")
    for line in po.lines.all():
        total += line.unit_net_price * line.quantity
    return total.quantize(CENT)


def _queue_submission(po: PurchaseOrder) -> None:
    from .tasks import purchase_order_submit

    po_id = po.pk
    # robust: a broker hiccup must not turn a committed confirmation into an error page;
    # purchase_orders_poll_pending sends POs left queued.
    transaction.on_commit(lambda: purchase_order_submit.delay(po_id), robust=True)


def _queue_wallet_sync() -> None:
    """After each submission outcome the wallet has (or has not) moved: refresh it."""
    try:
        from wallet.tasks import wallet_sync
    except ImportError:  # the wallet app may not ship its task in every deployment
        logger.warning("wallet.tasks.wallet_sync is not available; wallet not refreshed")
        return
    transaction.on_commit(lambda: wallet_sync.delay(), robust=True)


def _announce_known(po: PurchaseOrder) -> None:
    transaction.on_commit(
        lambda: purchase_order_known.send(sender=PurchaseOrder, purchase_order=po), robust=True
    )


def _is_approver_needed(total: Decimal) -> bool:
    return total > settings.PO_APPROVAL_THRESHOLD


# --------------------------------------------------------------------------- customers


def customer_create(
    *, name: str, company: str = "", email: str = "", vat_id: str = "", notes: str = ""
) -> Customer:
    return Customer.objects.create(
        name=name, company=company, email=email, vat_id=vat_id, notes=notes
    )


def customer_update(*, customer: Customer, **fields: Any) -> Customer:
    allowed = {"name", "company", "email", "vat_id", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Unknown customer fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.save(update_fields=[*fields, "updated_at"])
    return customer


# --------------------------------------------------------------------------- drafts


def purchase_order_create(
    *, user: AbstractBaseUser, customer: Customer | None = None, note: str = ""
) -> PurchaseOrder:
    with transaction.atomic():
        po = PurchaseOrder.objects.create(
            created_by=user, customer=customer, note=note, status=Status.DRAFT
        )
        _event(po, from_status="", actor=user, message="Draft created")
    return po


def _editable(purchase_order_id: int) -> PurchaseOrder:
    po = _lock_or_raise(purchase_order_id)
    if not po.is_editable:
        raise InvalidState(f"{po} is {po.get_status_display().lower()}: it can no longer be edited")
    return po


def purchase_order_update(
    *, purchase_order_id: int, customer: Customer | None, note: str
) -> PurchaseOrder:
    with transaction.atomic():
        po = _editable(purchase_order_id)
        po.customer = customer
        po.note = note
        po.save(update_fields=["customer", "note", "updated_at"])
    return po


def purchase_order_line_set(
    *, purchase_order_id: int, order_sku: str, quantity: int
) -> PurchaseOrderLine | None:
    """Add a combination, or change its quantity (0 removes the line). Prices come from
    the local catalog and are refreshed at confirmation."""
    order_sku = order_sku.strip()
    if quantity < 0:
        raise OrdersError("Quantity cannot be negative")
    with transaction.atomic():
        po = _editable(purchase_order_id)
        combination = (
            Combination.objects.select_related("product")
            .filter(order_sku=order_sku, is_active=True, product__is_active=True)
            .first()
        )
        if combination is None:
            raise UnknownCombination(f"No active catalog item with order sku {order_sku!r}")
        line = po.lines.filter(order_sku=order_sku).first()
        if quantity == 0:
            if line is not None:
                line.delete()
            line = None
        elif line is None:
            line = PurchaseOrderLine.objects.create(
                purchase_order=po,
                combination=combination,
                order_sku=order_sku,
                name=str(combination)[:300],
                quantity=quantity,
                unit_net_price=combination.net_price,
            )
        else:
            line.quantity = quantity
            line.unit_net_price = combination.net_price
            line.save(update_fields=["quantity", "unit_net_price"])
        po.total = _recompute_total(po)
        po.save(update_fields=["total", "updated_at"])
    return line


# --------------------------------------------------------------------------- confirmation


@dataclass(frozen=True)
class Outcome:
    purchase_order: PurchaseOrder
    changed: bool
    message: str


def purchase_order_confirm(
    *, purchase_order_id: int, user: AbstractBaseUser, request: HttpRequest | None = None
) -> Outcome:
    """Freeze prices, number the PO, store its Idempotency-Key and queue it (or ask for
    approval). A second confirmation (double click, second tab) changes nothing."""
    with transaction.atomic():
        po = _lock_or_raise(purchase_order_id)
        if po.is_read_only:
            raise InvalidState("Imported orders are read-only")
        if po.status != Status.DRAFT:
            return Outcome(po, False, f"{po} was already confirmed ({po.get_status_display()}).")
        lines = list(po.lines.select_related("combination").order_by("pk"))
        if not lines:
            raise OrdersError("Add at least one line before confirming")
        for line in lines:
            combination = line.combination
            if combination is None or not combination.is_active:
                raise UnknownCombination(f"{line.order_sku} is no longer in the catalog")
            line.unit_net_price = combination.net_price
            line.in_stock_at_confirmation = combination.in_stock
        PurchaseOrderLine.objects.bulk_update(lines, ["unit_net_price", "in_stock_at_confirmation"])
        po.total = _recompute_total(po)
        po.external_id = _next_external_id()
        po.idempotency_key = uuid.uuid4()
        po.confirmed_by = user
        po.confirmed_at = timezone.now()
        needs_approval = _is_approver_needed(po.total)
        _transition(
            po,
            Status.AWAITING_APPROVAL if needs_approval else Status.QUEUED,
            actor=user,
            message=f"Confirmed at {po.total} {po.currency}"
            + (" (above the approval threshold)" if needs_approval else ""),
            fields=["total", "external_id", "idempotency_key", "confirmed_by", "confirmed_at"],
        )
        audit_record(
            action=AuditEvent.Action.PO_CONFIRM,
            actor=user,
            request=request,
            target=po,
            summary=f"{po.external_id} confirmed, total {po.total} {po.currency}",
            details={"external_id": po.external_id, "total": str(po.total)},
        )
        if not needs_approval:
            _queue_submission(po)
    message = (
        f"{po.external_id} awaits approval by a second person."
        if needs_approval
        else f"{po.external_id} is queued for submission."
    )
    return Outcome(po, True, message)


def purchase_order_approve(
    *, purchase_order_id: int, user: AbstractBaseUser, request: HttpRequest | None = None
) -> Outcome:
    with transaction.atomic():
        po = _lock_or_raise(purchase_order_id)
        if po.status != Status.AWAITING_APPROVAL:
            return Outcome(po, False, f"{po} is not awaiting approval.")
        if user.pk in (po.created_by_id, po.confirmed_by_id):
            raise FourEyesViolation(
                "The person who created or confirmed an order cannot approve it"
            )
        po.approved_by = user
        po.approved_at = timezone.now()
        _transition(
            po,
            Status.QUEUED,
            actor=user,
            message="Approved",
            fields=["approved_by", "approved_at"],
        )
        audit_record(
            action=AuditEvent.Action.PO_APPROVE,
            actor=user,
            request=request,
            target=po,
            summary=f"{po.external_id} approved",
            details={"external_id": po.external_id},
        )
        _queue_submission(po)
    return Outcome(po, True, f"{po.external_id} approved and queued for submission.")


def purchase_order_reject(
    *,
    purchase_order_id: int,
    user: AbstractBaseUser,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Outcome:
    with transaction.atomic():
        po = _lock_or_raise(purchase_order_id)
        if po.status != Status.AWAITING_APPROVAL:
            return Outcome(po, False, f"{po} is not awaiting approval.")
        if user.pk in (po.created_by_id, po.confirmed_by_id):
            raise FourEyesViolation("The person who created or confirmed an order cannot reject it")
        _transition(po, Status.CANCELLED, actor=user, message=f"Rejected. {reason}".strip())
        audit_record(
            action=AuditEvent.Action.PO_REJECT,
            actor=user,
            request=request,
            target=po,
            summary=f"{po.external_id} rejected",
            details={"external_id": po.external_id},
        )
    return Outcome(po, True, f"{po.external_id} rejected.")


CANCELLABLE = frozenset({Status.DRAFT, Status.AWAITING_APPROVAL, Status.QUEUED, Status.HELD})


def purchase_order_cancel(
    *, purchase_order_id: int, user: AbstractBaseUser, request: HttpRequest | None = None
) -> Outcome:
    """Only before anything was sent upstream (the submission task locks and re-checks)."""
    with transaction.atomic():
        po = _lock_or_raise(purchase_order_id)
        if po.status == Status.CANCELLED:
            return Outcome(po, False, f"{po} is already cancelled.")
        if po.is_read_only or po.status not in CANCELLABLE:
            raise InvalidState(
                f"{po} is {po.get_status_display().lower()}: it may exist upstream, "
                "it cannot be cancelled here"
            )
        _transition(po, Status.CANCELLED, actor=user, message="Cancelled")
        audit_record(
            action=AuditEvent.Action.PO_CANCEL,
            actor=user,
            request=request,
            target=po,
            summary=f"{po} cancelled",
            details={"purchase_order": po.pk},
        )
    return Outcome(po, True, f"{po} cancelled.")


def purchase_order_reconfirm(
    *, purchase_order_id: int, user: AbstractBaseUser, request: HttpRequest | None = None
) -> Outcome:
    """Accept the figures that held a PO: the new prices become the confirmed ones and the
    PO is queued again (or goes to approval when it now crosses the threshold)."""
    with transaction.atomic():
        po = _lock_or_raise(purchase_order_id)
        if po.status != Status.HELD:
            return Outcome(po, False, f"{po} is not held.")
        current = {row["order_sku"]: row for row in po.hold_details.get("lines", [])}
        lines = list(po.lines.order_by("pk"))
        for line in lines:
            row = current.get(line.order_sku)
            if row is None:
                continue
            if row.get("gone"):
                raise InvalidState(f"{line.order_sku} is no longer sold: cancel this order")
            if row.get("current_net") is not None:
                line.unit_net_price = Decimal(row["current_net"])
            line.in_stock_at_confirmation = row.get("in_stock")
        PurchaseOrderLine.objects.bulk_update(lines, ["unit_net_price", "in_stock_at_confirmation"])
        old_total = po.total
        po.total = _recompute_total(po)
        po.confirmed_by = user
        po.confirmed_at = timezone.now()
        po.approved_by = None
        po.approved_at = None
        needs_approval = _is_approver_needed(po.total)
        _transition(
            po,
            Status.AWAITING_APPROVAL if needs_approval else Status.QUEUED,
            actor=user,
            message=f"Re-confirmed with current prices: {old_total} -> {po.total} {po.currency}",
            fields=["total", "confirmed_by", "confirmed_at", "approved_by", "approved_at"],
        )
        audit_record(
            action=AuditEvent.Action.PO_CONFIRM,
            actor=user,
            request=request,
            target=po,
            summary=f"{po.external_id} re-confirmed after a price change, total {po.total}",
            details={
                "external_id": po.external_id,
                "old_total": str(old_total),
                "total": str(po.total),
            },
        )
        if not needs_approval:
            _queue_submission(po)
    return Outcome(po, True, f"{po.external_id} re-confirmed at {po.total} {po.currency}.")


# --------------------------------------------------------------------------- price guard


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


# --------------------------------------------------------------------------- submission


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


# --------------------------------------------------------------------------- keys


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


# --------------------------------------------------------------------------- polling/import


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


def purchase_order_import(
    *, order: licendi.Order, client: licendi.LicendiClient
) -> PurchaseOrder | None:
    """Mirror one upstream order placed outside the back-office as a read-only PO.

    An order carrying the external id of one of our own POs that never stored its answer
    is adopted by that PO instead (importing it would show one purchase twice).
    Returns the PO created or adopted, None when nothing was done.
    """
    with transaction.atomic():
        if PurchaseOrder.objects.filter(upstream_id=order.id).exists():
            return None
        if order.external_id:
            ours = (
                PurchaseOrder.objects.select_for_update(skip_locked=True)
                .filter(
                    external_id=order.external_id,
                    upstream_id__isnull=True,
                    source=PurchaseOrder.Source.BACKOFFICE,
                )
                .first()
            )
            if ours is not None:
                if ours.status in (Status.SUBMITTING, Status.UNKNOWN):
                    detail = client.get_order(order.id)
                    _record_upstream_order(
                        ours,
                        detail,
                        client=client,
                        key_source=LicenceKey.Source.IMPORT,
                        actor_label="import",
                    )
                    return ours
                return None
        detail = client.get_order(order.id)
        external_id = detail.external_id or None
        if external_id and PurchaseOrder.objects.filter(external_id=external_id).exists():
            external_id = None
        try:
            with transaction.atomic():
                po = PurchaseOrder.objects.create(
                    source=PurchaseOrder.Source.IMPORTED,
                    status=Status.PENDING_DELIVERY,
                    external_id=external_id,
                    upstream_id=detail.id,
                    total=detail.total,
                    upstream_total=detail.total,
                    currency=detail.currency,
                    invoice_number=detail.invoice_number or "",
                    note="Placed outside the back-office",
                    submitted_at=detail.created_at,
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
        _event(
            po, from_status="", actor_label="import", message=f"Imported Licendi order {detail.id}"
        )
        keys = [
            licendi.DeliveredKey(sku=item.sku, key=key, name=item.name)
            for item in detail.items
            for key in item.keys
        ]
        if not keys and detail.status != "pending":
            keys = list(client.get_order_keys(detail.id).keys)
        _store_keys(po, keys, source=LicenceKey.Source.IMPORT)
        _apply_delivery_status(po, actor_label="import", message="Keys counted at import")
        _announce_known(po)
    return po


# --------------------------------------------------------------------------- key custody


def licence_key_reveal(
    *,
    key_id: int,
    user: AbstractBaseUser,
    request: HttpRequest | None = None,
    action: str = AuditEvent.Action.KEY_REVEAL,
) -> tuple[LicenceKey, str]:
    """The clear key, with an audit row (reveal or copy) naming the key, never its value."""
    if action not in (AuditEvent.Action.KEY_REVEAL, AuditEvent.Action.KEY_COPY):
        raise ValueError("reveal audits a reveal or a copy")
    key = LicenceKey.objects.select_related("purchase_order").get(pk=key_id)
    value = crypto.decrypt(key.key_encrypted)
    audit_record(
        action=action,
        actor=user,
        request=request,
        target=key,
        summary=f"{key.order_sku} {key.key_masked} of {key.purchase_order}",
        details={"key_id": key.pk, "purchase_order": key.purchase_order_id},
    )
    return key, value


def licence_key_copied(
    *, key_id: int, user: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    key = LicenceKey.objects.get(pk=key_id)
    audit_record(
        action=AuditEvent.Action.KEY_COPY,
        actor=user,
        request=request,
        target=key,
        summary=f"{key.order_sku} {key.key_masked} copied",
        details={"key_id": key.pk, "purchase_order": key.purchase_order_id},
    )


def licence_key_assign(
    *, key_id: int, customer: Customer, user: AbstractBaseUser, request: HttpRequest | None = None
) -> LicenceKey:
    """Give a stock key (no customer yet) to a customer."""
    with transaction.atomic():
        key = LicenceKey.objects.select_for_update().get(pk=key_id)
        if key.customer_id == customer.pk:
            return key
        if key.customer_id is not None:
            raise InvalidState("This key already belongs to a customer")
        key.customer = customer
        key.assigned_at = timezone.now()
        key.save(update_fields=["customer", "assigned_at"])
        audit_record(
            action=AuditEvent.Action.KEY_ASSIGN,
            actor=user,
            request=request,
            target=key,
            summary=f"{key.order_sku} {key.key_masked} assigned to {customer}",
            details={"key_id": key.pk, "customer": customer.pk},
        )
    return key


def customer_keys_export_rows(
    *, customer: Customer, user: AbstractBaseUser, request: HttpRequest | None = None
) -> list[list[str]]:
    """Rows of a customer's keys in clear, one audit row per key exported."""
    rows = [["purchase_order", "order_sku", "product", "key", "received_at"]]
    keys = list(customer.keys.select_related("purchase_order").order_by("pk"))
    for key in keys:
        rows.append(
            [
                str(key.purchase_order),
                key.order_sku,
                key.name,
                crypto.decrypt(key.key_encrypted),
                key.received_at.isoformat(),
            ]
        )
        audit_record(
            action=AuditEvent.Action.KEY_EXPORT,
            actor=user,
            request=request,
            target=key,
            summary=f"{key.order_sku} {key.key_masked} exported for {customer}",
            details={"key_id": key.pk, "customer": customer.pk},
        )
    return rows


def customer_keys_email(
    *,
    customer: Customer,
    user: AbstractBaseUser,
    key_ids: Sequence[int] | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Email the customer their keys (all, or the ones given); returns how many were sent."""
    if not customer.email:
        raise OrdersError(f"{customer} has no email address")
    keys = customer.keys.select_related("purchase_order").order_by("pk")
    if key_ids is not None:
        keys = keys.filter(pk__in=key_ids)
    keys = list(keys)
    if not keys:
        raise OrdersError(f"{customer} holds no keys to send")
    items = [
        {
            "name": key.name or key.order_sku,
            "sku": key.order_sku,
            "key": crypto.decrypt(key.key_encrypted),
        }
        for key in keys
    ]
    context = {"customer": customer, "items": items}
    message = EmailMessage(
        subject=render_to_string("orders/email/keys_subject.txt", context).strip(),
        body=render_to_string("orders/email/keys_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
    )
    message.send(fail_silently=False)
    now = timezone.now()
    with transaction.atomic():
        LicenceKey.objects.filter(pk__in=[key.pk for key in keys]).update(emailed_at=now)
        for key in keys:
            audit_record(
                action=AuditEvent.Action.KEY_EMAIL,
                actor=user,
                request=request,
                target=key,
                summary=f"{key.order_sku} {key.key_masked} emailed to {customer}",
                details={"key_id": key.pk, "customer": customer.pk},
            )
    return len(keys)


def licence_keys_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored key under the newest FIELD_ENCRYPTION_KEYS key."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                LicenceKey.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return done
            for key in batch:
                key.key_encrypted = crypto.reencrypt(key.key_encrypted)
            LicenceKey.objects.bulk_update(batch, ["key_encrypted"])
            done += len(batch)
            last_pk = batch[-1].pk
