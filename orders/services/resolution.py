"""Staff resolutions for a PO whose outcome stays unknown, and decisions on keys that
no line could take.

"Check with Licendi now" looks the order up by its externalId and records it when
found. "Mark as not placed" needs two people (one asks, another approves) and is only
done when Licendi, asked again at approval time, has no order with that externalId.
Every step writes an audit row and a timeline entry.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

import licendi
from backoffice.audit import audit_record
from backoffice.models import AuditEvent
from backoffice.upstream import licendi_client

from ..models import LicenceKey, PurchaseOrder, UnexpectedKey
from .confirmation import Outcome
from .errors import FourEyesViolation, InvalidState, OrdersError, PurchaseOrderNotFound
from .submission import LOOKUP_LIMIT, upstream_find_by_external_id, upstream_order_record
from .timeline import Status, announce_settled, lock, record_event, transition

# The statuses in which nobody knows yet whether Licendi has the order.
UNRESOLVED = frozenset({Status.SUBMITTING, Status.UNKNOWN})


def _lock_unresolved(purchase_order_id: int) -> PurchaseOrder:
    po = lock(purchase_order_id, skip_locked=True)
    if po is None:
        if not PurchaseOrder.objects.filter(pk=purchase_order_id).exists():
            raise PurchaseOrderNotFound(f"Purchase order {purchase_order_id} does not exist")
        raise OrdersError("The order is being sent to Licendi right now: try again in a minute")
    return po


def _lookup(po: PurchaseOrder, client: licendi.LicendiClient) -> licendi.Order | None:
    try:
        return upstream_find_by_external_id(client, po.external_id or "")
    except licendi.LicendiError as exc:
        raise OrdersError(f"Licendi could not be asked: {exc}") from exc


def purchase_order_check_upstream(*, purchase_order_id: int, user: User) -> Outcome:
    """Ask Licendi now whether it has this PO's order, and record it when it does."""
    with transaction.atomic():
        po = _lock_unresolved(purchase_order_id)
        if po.status not in UNRESOLVED:
            return Outcome(
                po, False, f"{po} is {po.get_status_display().lower()}: nothing to check."
            )
        with licendi_client() as client:
            found = _lookup(po, client)
            if found is not None:
                upstream_order_record(
                    po,
                    found,
                    client=client,
                    key_source=LicenceKey.Source.RESPONSE,
                    actor_label=user.get_username(),
                )
                announce_settled(po)
                message = (
                    f"Licendi has it: order {found.id}, now {po.get_status_display().lower()}."
                )
            else:
                message = (
                    f"Licendi has no order with external id {po.external_id} among its "
                    f"newest {LOOKUP_LIMIT} orders."
                )
                record_event(po, actor=user, message=f"Checked with Licendi: {message}")
        audit_record(
            action=AuditEvent.Action.PO_CHECK_UPSTREAM,
            actor=user,
            target=po,
            summary=f"{po.external_id} checked with Licendi: "
            + (f"found {found.id}" if found else "not found"),
            details={"external_id": po.external_id, "found": found.id if found else None},
        )
    return Outcome(po, found is not None, message)


def purchase_order_not_placed_request(*, purchase_order_id: int, user: User) -> Outcome:
    """First of two people: ask for an unresolved PO to be marked as not placed."""
    with transaction.atomic():
        po = _lock_unresolved(purchase_order_id)
        if po.status not in UNRESOLVED:
            raise InvalidState(f"{po} is {po.get_status_display().lower()}: it is resolved")
        if po.not_placed_requested_by_id is not None:
            return Outcome(po, False, "Already asked: a second person must approve.")
        po.not_placed_requested_by = user
        po.not_placed_requested_at = timezone.now()
        po.save(update_fields=["not_placed_requested_by", "not_placed_requested_at", "updated_at"])
        record_event(po, actor=user, message="Asked to mark as not placed (needs a second person)")
        audit_record(
            action=AuditEvent.Action.PO_NOT_PLACED_REQUEST,
            actor=user,
            target=po,
            summary=f"{po.external_id}: asked to mark as not placed",
            details={"external_id": po.external_id},
        )
    return Outcome(po, True, f"{po} awaits a second person to mark it as not placed.")


def purchase_order_not_placed_approve(*, purchase_order_id: int, user: User) -> Outcome:
    """Second person: Licendi is asked again; only when it has no order with this PO's
    externalId is the PO marked failed ("not placed"). Found: it is recorded instead."""
    with transaction.atomic():
        po = _lock_unresolved(purchase_order_id)
        if po.status not in UNRESOLVED:
            raise InvalidState(f"{po} is {po.get_status_display().lower()}: it is resolved")
        if po.not_placed_requested_by_id is None:
            raise InvalidState("Nobody asked to mark this order as not placed")
        if po.not_placed_requested_by_id == user.pk:
            raise FourEyesViolation("The person who asked cannot approve it: a second person must")
        with licendi_client() as client:
            found = _lookup(po, client)
            if found is not None:
                upstream_order_record(
                    po,
                    found,
                    client=client,
                    key_source=LicenceKey.Source.RESPONSE,
                    actor_label=user.get_username(),
                )
                po.not_placed_requested_by = None
                po.not_placed_requested_at = None
                po.save(update_fields=["not_placed_requested_by", "not_placed_requested_at"])
                announce_settled(po)
                message = f"Not marked: Licendi has it (order {found.id})."
                changed = False
            else:
                po.failure_code = "not_placed"
                po.failure_message = (
                    f"Licendi has no order with external id {po.external_id}; marked as not "
                    f"placed by {po.not_placed_requested_by} and {user.get_username()}."
                )
                transition(
                    po,
                    Status.FAILED,
                    actor=user,
                    message=po.failure_message,
                    fields=["failure_code", "failure_message"],
                )
                announce_settled(po)
                message = f"{po} marked as not placed."
                changed = True
        audit_record(
            action=AuditEvent.Action.PO_NOT_PLACED,
            actor=user,
            target=po,
            summary=f"{po.external_id}: " + ("marked not placed" if changed else "found upstream"),
            details={
                "external_id": po.external_id,
                "requested_by": po.not_placed_requested_by_id,
                "found": found.id if found else None,
            },
        )
    return Outcome(po, changed, message)


def unexpected_key_decide(*, unexpected_key_id: int, decision: str, user: User) -> UnexpectedKey:
    """Record a person's decision on a key no line could take (kept or dismissed)."""
    if decision not in (UnexpectedKey.Decision.KEPT, UnexpectedKey.Decision.DISMISSED):
        raise OrdersError("Choose to keep or to dismiss the key")
    with transaction.atomic():
        key = UnexpectedKey.objects.select_for_update().get(pk=unexpected_key_id)
        if key.decision:
            return key
        key.decision = decision
        key.decided_by = user
        key.decided_at = timezone.now()
        key.save(update_fields=["decision", "decided_by", "decided_at"])
        record_event(
            key.purchase_order,
            actor=user,
            message=f"Unexpected key {key.order_sku} {key.key_masked}: "
            f"{key.get_decision_display()}",
        )
        audit_record(
            action=AuditEvent.Action.UNEXPECTED_KEY_DECISION,
            actor=user,
            target=key,
            summary=f"{key.order_sku} {key.key_masked} {decision}",
            details={"purchase_order": key.purchase_order_id, "decision": decision},
        )
    return key
