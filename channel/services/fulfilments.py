"""Fulfilments: a shop's paid order turned into licence keys, within the client's limits.

One transaction per request, holding the client's row lock: the Idempotency-Key check,
the spend guard and the fulfilment row are decided by one request at a time per client,
so two concurrent requests can neither both pass the daily cap nor both be stored under
one key. Keys come from stock (held, not yet a customer's) first; what stock cannot
cover is bought with an ordinary purchase order (purchasing.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from backoffice.jobs import enqueue
from catalog.models import Combination
from orders.models import PurchaseOrder

from ..errors import ChannelError, Conflict, NotFound, Refused
from ..models import ApiClient, Fulfilment, FulfilmentLine
from . import purchasing
from .callbacks import callback_queue

CENT = Decimal("0.01")
MAX_LINES = 50
MAX_QUANTITY = 100
PO_STATUS = PurchaseOrder.Status
State = Fulfilment.State


@dataclass(frozen=True)
class LineRequest:
    order_sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class FulfilmentRequest:
    shop_order_id: str
    customer_email: str
    customer_name: str
    lines: tuple[LineRequest, ...]
    currency: str = "EUR"

    def digest(self) -> str:
        """SHA-256 of a canonical form: the same order sent twice hashes the same whatever
        the JSON key order or number formatting."""
        canonical = {
            "orderId": self.shop_order_id,
            "customer": {"email": self.customer_email.strip().lower(), "name": self.customer_name},
            "currency": self.currency,
            "lines": [
                [line.order_sku, line.quantity, str(line.unit_price.quantize(CENT))]
                for line in self.lines
            ],
        }
        encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class Answer:
    fulfilment: Fulfilment
    status: int
    replayed: bool


def _start_of_today() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def _validate(request: FulfilmentRequest, idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > 100:
        raise ChannelError(
            "missing_idempotency_key",
            "Send an Idempotency-Key header of 1 to 100 characters",
            status=400,
        )
    if not request.lines or len(request.lines) > MAX_LINES:
        raise ChannelError("invalid_request", f"Send 1 to {MAX_LINES} lines")
    skus = [line.order_sku for line in request.lines]
    if len(set(skus)) != len(skus):
        raise ChannelError("invalid_request", "Each orderSku may appear on one line only")
    for line in request.lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise ChannelError("invalid_request", f"quantity must be 1 to {MAX_QUANTITY}")
        if line.unit_price < 0 or line.unit_price != line.unit_price.quantize(CENT):
            raise ChannelError("invalid_request", "price must be a non-negative amount in cents")
    if request.currency != "EUR":
        raise ChannelError("invalid_request", "Only EUR is sold")


def _combinations(request: FulfilmentRequest) -> dict[str, Combination]:
    skus = [line.order_sku for line in request.lines]
    found = {
        combo.order_sku: combo
        for combo in Combination.objects.filter(
            order_sku__in=skus, is_active=True, product__is_active=True
        )
    }
    for sku in skus:
        if sku not in found:
            raise Refused("unknown_sku", f"{sku} is not sold")
    return found


def _guard_margin(
    client: ApiClient, request: FulfilmentRequest, combos: dict[str, Combination]
) -> None:
    factor = 1 + client.margin_floor_percent / 100
    for line in request.lines:
        net = combos[line.order_sku].net_price
        floor = (net * factor).quantize(CENT)
        if line.unit_price < floor:
            raise Refused(
                "below_margin_floor",
                f"{line.order_sku}: paid {line.unit_price}, the floor is {floor}",
            )


def _guard_spend(client: ApiClient, cost: Decimal) -> None:
    if cost > client.order_spend_cap:
        raise Refused(
            "order_cap_exceeded",
            f"Net cost {cost} is above the per-order cap {client.order_spend_cap}",
        )
    spent = Fulfilment.objects.filter(client=client, created_at__gte=_start_of_today()).exclude(
        state=State.FAILED
    ).aggregate(total=Sum("cost_total"))["total"] or Decimal("0.00")
    if spent + cost > client.daily_spend_cap:
        raise Refused(
            "daily_cap_exceeded",
            f"Today's net cost would reach {spent + cost}, above the daily cap "
            f"{client.daily_spend_cap}",
        )


def fulfilment_create(
    *, client_id: int, idempotency_key: str, request: FulfilmentRequest
) -> Answer:
    """Deliver from stock (201) or buy what stock lacks (202), or refuse with a code.

    The same key and body answer the first answer again; the same key with another body
    is refused (422 `idempotency_key_reused`). Refusals are not stored: a retry after the
    cause is gone (tomorrow's cap, a price fixed by the shop) is decided afresh.
    """
    idempotency_key = idempotency_key.strip()
    _validate(request, idempotency_key)
    digest = request.digest()
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client_id)
        existing = Fulfilment.objects.filter(client=client, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_hash != digest:
                raise Refused(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with another body",
                )
            return Answer(existing, existing.answer_status, replayed=True)
        if Fulfilment.objects.filter(client=client, shop_order_id=request.shop_order_id).exists():
            raise Conflict(
                "duplicate_order",
                f"Order {request.shop_order_id} was fulfilled under another Idempotency-Key",
            )
        combos = _combinations(request)
        _guard_margin(client, request, combos)
        cost = sum(
            (combos[line.order_sku].net_price * line.quantity for line in request.lines),
            Decimal("0.00"),
        ).quantize(CENT)
        _guard_spend(client, cost)

        customer = purchasing.customer_for(email=request.customer_email, name=request.customer_name)
        fulfilment = Fulfilment.objects.create(
            client=client,
            idempotency_key=idempotency_key,
            request_hash=digest,
            shop_order_id=request.shop_order_id,
            customer=customer,
            cost_total=cost,
            paid_total=sum(
                (line.unit_price * line.quantity for line in request.lines), Decimal("0.00")
            ),
            currency=request.currency,
            answer_status=201,
        )
        to_buy: list[purchasing.LineToBuy] = []
        buy_cost = Decimal("0.00")
        for line in request.lines:
            combo = combos[line.order_sku]
            keys = purchasing.stock_keys_take(
                order_sku=line.order_sku,
                quantity=line.quantity,
                customer=customer,
                user=client.service_user,
            )
            fulfilment.stock_keys.add(*keys)
            FulfilmentLine.objects.create(
                fulfilment=fulfilment,
                combination=combo,
                order_sku=line.order_sku,
                quantity=line.quantity,
                unit_price_paid=line.unit_price,
                unit_net_price=combo.net_price,
                from_stock=len(keys),
            )
            missing = line.quantity - len(keys)
            if missing:
                if not combo.in_stock and not client.allow_out_of_stock:
                    raise Refused(
                        "out_of_stock",
                        f"{line.order_sku}: {len(keys)} of {line.quantity} in stock and "
                        "Licendi has none",
                    )
                to_buy.append(purchasing.LineToBuy(line.order_sku, missing))
                buy_cost += combo.net_price * missing
        if to_buy:
            po = purchasing.purchase_order_place(
                customer=customer,
                lines=to_buy,
                note=f"Sales channel: {client.name} order {request.shop_order_id}",
                user=client.service_user,
                require_approval=buy_cost > client.approval_threshold,
            )
            fulfilment.purchase_order = po
            fulfilment.state = _state_of(po)[0]
            fulfilment.answer_status = 202
        else:
            fulfilment.state = State.DELIVERED
            fulfilment.delivered_at = timezone.now()
        fulfilment.save(update_fields=["purchase_order", "state", "answer_status", "delivered_at"])
    return Answer(fulfilment, fulfilment.answer_status, replayed=False)


def _state_of(po: PurchaseOrder) -> tuple[str, str, str]:
    """(fulfilment state, failure code, failure message) following the PO's status."""
    if po.status == PO_STATUS.DELIVERED:
        return State.DELIVERED, "", ""
    if po.status in (PO_STATUS.AWAITING_APPROVAL, PO_STATUS.HELD):
        return State.AWAITING_APPROVAL, "", ""
    if po.status == PO_STATUS.FAILED:
        return (
            State.FAILED,
            "upstream_refused",
            f"Licendi refused the order ({po.failure_code}): {po.failure_message}"[:500],
        )
    if po.status == PO_STATUS.CANCELLED:
        return State.FAILED, "cancelled", "The purchase was rejected or cancelled by staff"
    return State.PENDING, "", ""


def fulfilment_sync(*, fulfilment_id: int) -> Fulfilment:
    """Follow the fulfilment's purchase order; on delivery or failure, tell the shop.

    Safe to run twice: a final state is never left, and the callback is queued once, by
    the run that reached it.
    """
    with transaction.atomic():
        fulfilment = Fulfilment.objects.select_for_update().filter(pk=fulfilment_id).first()
        if fulfilment is None:
            raise NotFound("not_found", f"Fulfilment {fulfilment_id} does not exist")
        po = fulfilment.purchase_order
        if fulfilment.is_final or po is None:
            return fulfilment
        state, code, message = _state_of(po)
        if state == fulfilment.state:
            return fulfilment
        fulfilment.state = state
        fulfilment.failure_code = code
        fulfilment.failure_message = message
        fields = ["state", "failure_code", "failure_message", "updated_at"]
        if state == State.DELIVERED:
            fulfilment.delivered_at = timezone.now()
            fields.append("delivered_at")
        fulfilment.save(update_fields=fields)
        if fulfilment.is_final:
            callback_queue(fulfilment=fulfilment)
    return fulfilment


def fulfilments_sync_pending() -> dict[str, Any]:
    """The sweep behind the PO signal: every fulfilment still waiting on its PO."""
    ids = list(
        Fulfilment.objects.exclude(state__in=Fulfilment.FINAL_STATES)
        .filter(purchase_order__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    finished = 0
    for fulfilment_id in ids:
        if fulfilment_sync(fulfilment_id=fulfilment_id).is_final:
            finished += 1
    return {"checked": len(ids), "finished": finished}


def fulfilment_po_changed(*, purchase_order_id: int) -> None:
    """A PO changed status: queue a sync of the fulfilment it serves, if any."""
    fulfilment_id = (
        Fulfilment.objects.filter(purchase_order_id=purchase_order_id)
        .exclude(state__in=Fulfilment.FINAL_STATES)
        .values_list("pk", flat=True)
        .first()
    )
    if fulfilment_id is not None:
        enqueue("channel.tasks.fulfilment_sync", fulfilment_id=fulfilment_id)
