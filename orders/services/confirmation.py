"""Staff decisions on a PO: confirm, approve, reject, cancel and re-confirm after a hold.

Confirmation freezes prices, numbers the PO and stores its Idempotency-Key before
anything is sent; approval enforces four eyes above PO_APPROVAL_THRESHOLD. Each
decision queues the submission task on commit (see submission.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from backoffice.audit import audit_record
from backoffice.display import format_money
from backoffice.models import AuditEvent

from ..models import PurchaseOrder, PurchaseOrderLine
from .errors import FourEyesViolation, InvalidState, OrdersError, UnknownCombination
from .timeline import (
    Status,
    approval_needed,
    lock_or_raise,
    next_external_id,
    queue_submission,
    recompute_total,
    transition,
)


@dataclass(frozen=True)
class Outcome:
    purchase_order: PurchaseOrder
    changed: bool
    message: str


def purchase_order_confirm_summary(*, po: PurchaseOrder) -> str:
    """What confirming this draft will do, as the confirm dialog says it: approval by a
    second person above PO_APPROVAL_THRESHOLD, otherwise sent at once and paid from the
    wallet."""
    total = format_money(po.total, po.currency)
    if approval_needed(po.total):
        threshold = format_money(settings.PO_APPROVAL_THRESHOLD, po.currency)
        return (
            f"Confirm {total}? It is above the approval threshold of {threshold}: it then "
            "waits for a second person with the approval permission. Nothing is sent to "
            "Licendi or paid until it is approved."
        )
    return f"Confirm {total}? It is sent to Licendi at once and paid from the wallet."


def purchase_order_confirm(
    *, purchase_order_id: int, user: User, require_approval: bool = False
) -> Outcome:
    """Freeze prices, number the PO, store its Idempotency-Key and queue it (or ask for
    approval: above PO_APPROVAL_THRESHOLD, or always with `require_approval`, which the
    sales channel uses for a client's lower threshold). A second confirmation (double
    click, second tab) changes nothing."""
    with transaction.atomic():
        po = lock_or_raise(purchase_order_id)
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
        po.total = recompute_total(po)
        po.external_id = next_external_id()
        po.idempotency_key = uuid.uuid4()
        po.confirmed_by = user
        po.confirmed_at = timezone.now()
        needs_approval = require_approval or approval_needed(po.total)
        transition(
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
            target=po,
            summary=f"{po.external_id} confirmed, total {po.total} {po.currency}",
            details={"external_id": po.external_id, "total": str(po.total)},
        )
        if not needs_approval:
            queue_submission(po)
    message = (
        f"{po.external_id} awaits approval by a second person."
        if needs_approval
        else f"{po.external_id} is queued for submission."
    )
    return Outcome(po, True, message)


def purchase_order_approve(*, purchase_order_id: int, user: User) -> Outcome:
    with transaction.atomic():
        po = lock_or_raise(purchase_order_id)
        if po.status != Status.AWAITING_APPROVAL:
            return Outcome(po, False, f"{po} is not awaiting approval.")
        if user.pk in (po.created_by_id, po.confirmed_by_id):
            raise FourEyesViolation(
                "The person who created or confirmed an order cannot approve it"
            )
        po.approved_by = user
        po.approved_at = timezone.now()
        transition(
            po,
            Status.QUEUED,
            actor=user,
            message="Approved",
            fields=["approved_by", "approved_at"],
        )
        audit_record(
            action=AuditEvent.Action.PO_APPROVE,
            actor=user,
            target=po,
            summary=f"{po.external_id} approved",
            details={"external_id": po.external_id},
        )
        queue_submission(po)
    return Outcome(po, True, f"{po.external_id} approved and queued for submission.")


def purchase_order_reject(
    *,
    purchase_order_id: int,
    user: User,
    reason: str = "",
) -> Outcome:
    with transaction.atomic():
        po = lock_or_raise(purchase_order_id)
        if po.status != Status.AWAITING_APPROVAL:
            return Outcome(po, False, f"{po} is not awaiting approval.")
        if user.pk in (po.created_by_id, po.confirmed_by_id):
            raise FourEyesViolation("The person who created or confirmed an order cannot reject it")
        transition(po, Status.CANCELLED, actor=user, message=f"Rejected. {reason}".strip())
        audit_record(
            action=AuditEvent.Action.PO_REJECT,
            actor=user,
            target=po,
            summary=f"{po.external_id} rejected",
            details={"external_id": po.external_id},
        )
    return Outcome(po, True, f"{po.external_id} rejected.")


CANCELLABLE = frozenset({Status.DRAFT, Status.AWAITING_APPROVAL, Status.QUEUED, Status.HELD})


def purchase_order_cancel(*, purchase_order_id: int, user: User) -> Outcome:
    """Only before anything was sent upstream (the submission task locks and re-checks)."""
    with transaction.atomic():
        po = lock_or_raise(purchase_order_id)
        if po.status == Status.CANCELLED:
            return Outcome(po, False, f"{po} is already cancelled.")
        if po.is_read_only or po.status not in CANCELLABLE:
            raise InvalidState(
                f"{po} is {po.get_status_display().lower()}: it may exist upstream, "
                "it cannot be cancelled here"
            )
        transition(po, Status.CANCELLED, actor=user, message="Cancelled")
        audit_record(
            action=AuditEvent.Action.PO_CANCEL,
            actor=user,
            target=po,
            summary=f"{po} cancelled",
            details={"purchase_order": po.pk},
        )
    return Outcome(po, True, f"{po} cancelled.")


def purchase_order_reconfirm(*, purchase_order_id: int, user: User) -> Outcome:
    """Accept the figures that held a PO: the new prices become the confirmed ones and the
    PO is queued again (or goes to approval when it now crosses the threshold)."""
    with transaction.atomic():
        po = lock_or_raise(purchase_order_id)
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
        po.total = recompute_total(po)
        po.confirmed_by = user
        po.confirmed_at = timezone.now()
        po.approved_by = None
        po.approved_at = None
        needs_approval = approval_needed(po.total)
        transition(
            po,
            Status.AWAITING_APPROVAL if needs_approval else Status.QUEUED,
            actor=user,
            message=f"Re-confirmed with current prices: {old_total} -> {po.total} {po.currency}",
            fields=["total", "confirmed_by", "confirmed_at", "approved_by", "approved_at"],
        )
        audit_record(
            action=AuditEvent.Action.PO_CONFIRM,
            actor=user,
            target=po,
            summary=f"{po.external_id} re-confirmed after a price change, total {po.total}",
            details={
                "external_id": po.external_id,
                "old_total": str(old_total),
                "total": str(po.total),
            },
        )
        if not needs_approval:
            queue_submission(po)
    return Outcome(po, True, f"{po.external_id} re-confirmed at {po.total} {po.currency}.")
