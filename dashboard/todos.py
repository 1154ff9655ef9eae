"""What needs a person: the to-dos of the home page, also watched by the notifications.

Each to-do is ONE entry of `TODOS`: a key, a label, the permission that lets a user act on
it (only those users see it), and a selector `(user) -> TodoCount(count, url)`. The URL
opens the page that resolves it, filtered to exactly the rows counted. Adding a to-do is
adding a selector (here or in its app's selectors) and one entry:

    Todo("unexpected_keys", "Unexpected keys to decide", p.PLACE_ORDERS, unexpected_keys)

The querysets behind the counts are public so the notifications scan reads the same rows
(`notifications.services`). This module sits above catalog, orders, wallet and webhooks:
it imports their selectors, none of them imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from backoffice import permissions as p
from backoffice import upstream_selectors
from backoffice.upstream_models import QuarantinedRecord
from catalog import selectors as catalog_selectors
from catalog.models import Combination, PriceChange, SyncRun
from orders import selectors as orders_selectors
from orders.models import PurchaseOrder
from wallet import selectors as wallet_selectors
from wallet.models import Gap
from webhooks.models import WebhookEvent

# "Since yesterday": the window in which a price change counts as new.
MARGIN_DROP_WINDOW_DAYS = 1


@dataclass(frozen=True)
class TodoCount:
    count: int
    url: str


@dataclass(frozen=True)
class Todo:
    key: str
    label: str
    permission: str
    select: Callable[[Any], TodoCount]


@dataclass(frozen=True)
class TodoItem:
    """One to-do as a given user sees it (what the home page renders)."""

    key: str
    label: str
    count: int
    url: str


def _url(name: str, **query: object) -> str:
    path = reverse(name)
    return f"{path}?{urlencode(query)}" if query else path


# --- the rows behind each to-do (querysets, shared with the notifications) -------------


def purchase_orders_awaiting_approval() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(status=PurchaseOrder.Status.AWAITING_APPROVAL)


def purchase_orders_awaiting_approval_by(user: Any) -> QuerySet[PurchaseOrder]:
    """Those `user` may approve: four eyes, so never one they created or confirmed."""
    return (
        purchase_orders_awaiting_approval()
        .exclude(created_by_id=user.pk)
        .exclude(confirmed_by_id=user.pk)
    )


def purchase_orders_unknown() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(status=PurchaseOrder.Status.UNKNOWN)


def purchase_orders_unknown_overdue(*, now: datetime | None = None) -> QuerySet[PurchaseOrder]:
    """Unknown for longer than PO_UNKNOWN_ALERT_MINUTES (polling has not settled them)."""
    now = now or timezone.now()
    bound = now - timedelta(minutes=settings.PO_UNKNOWN_ALERT_MINUTES)
    return purchase_orders_unknown().filter(updated_at__lt=bound)


def purchase_orders_failed() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(status=PurchaseOrder.Status.FAILED)


def purchase_orders_held() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(status=PurchaseOrder.Status.HELD)


def purchase_orders_delivery_overdue(*, now: datetime | None = None) -> QuerySet[PurchaseOrder]:
    """Still awaiting keys PENDING_DELIVERY_ALERT_HOURS after submission."""
    now = now or timezone.now()
    bound = now - timedelta(hours=settings.PENDING_DELIVERY_ALERT_HOURS)
    return orders_selectors.purchase_orders_awaiting_keys_before(
        PurchaseOrder.objects.all(), before=bound
    )


def ledger_gaps_open() -> QuerySet[Gap]:
    return wallet_selectors.gaps_open()


def webhook_events_failed() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)


def webhook_events_waiting() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(status=WebhookEvent.Status.WAITING)


def combinations_fallen_below_min_margin(*, now: datetime | None = None) -> QuerySet[Combination]:
    """Active combinations below the minimum margin whose price changed within the window
    (the catalog's price history stamps `price_changed_at` on every recorded change)."""
    now = now or timezone.now()
    since = now - timedelta(days=MARGIN_DROP_WINDOW_DAYS)
    return Combination.objects.filter(is_active=True, price_changed_at__gte=since).filter(
        catalog_selectors.below_min_margin()
    )


def price_changes_pushing_below_min_margin(*, since: datetime) -> QuerySet[PriceChange]:
    """Price changes after which a combination that was at or above the minimum margin
    is below it. The margin % before the change is derived from the recorded margin and
    net price (selling price = net + margin), compared without a division."""
    minimum = catalog_selectors.min_margin_percent()
    new_below = Q(new_margin_percent__lt=minimum) | Q(
        new_margin_percent__isnull=True, new_margin__isnull=False
    )
    old_selling = F("old_net_price") + F("old_margin")
    return (
        PriceChange.objects.filter(changed_at__gte=since, old_margin__isnull=False)
        .alias(old_selling=old_selling, old_margin_hundred=F("old_margin") * 100)
        .filter(old_selling__gt=0, old_margin_hundred__gte=F("old_selling") * minimum)
        .filter(new_below)
    )


def quarantined_in_last_catalog_sync() -> QuerySet[QuarantinedRecord]:
    """Records the newest finished catalog sync skipped as unreadable.

    Only the newest run counts: a record the next run reads again is no longer a to-do.
    """
    last = SyncRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    if last is None:
        return QuarantinedRecord.objects.none()
    return upstream_selectors.quarantined_records(run_ref=last.quarantine_ref)


# --- the registry ------------------------------------------------------------------------


def awaiting_my_approval(user: Any) -> TodoCount:
    return TodoCount(
        purchase_orders_awaiting_approval_by(user).count(),
        _url("orders:po_list", status=PurchaseOrder.Status.AWAITING_APPROVAL),
    )


def outcome_unknown(user: Any) -> TodoCount:
    return TodoCount(
        purchase_orders_unknown().count(),
        _url("orders:po_list", status=PurchaseOrder.Status.UNKNOWN),
    )


def held_after_price_change(user: Any) -> TodoCount:
    return TodoCount(
        purchase_orders_held().count(),
        _url("orders:po_list", status=PurchaseOrder.Status.HELD),
    )


def deliveries_overdue(user: Any) -> TodoCount:
    return TodoCount(
        purchase_orders_delivery_overdue().count(),
        _url("orders:po_list", awaiting_keys_hours=settings.PENDING_DELIVERY_ALERT_HOURS),
    )


def ledger_gaps(user: Any) -> TodoCount:
    # The gaps page lists the open gaps first.
    return TodoCount(ledger_gaps_open().count(), _url("wallet:gaps"))


def failed_webhook_events(user: Any) -> TodoCount:
    return TodoCount(
        webhook_events_failed().count(),
        _url("webhooks:event_list", status=WebhookEvent.Status.FAILED),
    )


def waiting_webhook_events(user: Any) -> TodoCount:
    return TodoCount(
        webhook_events_waiting().count(),
        _url("webhooks:event_list", status=WebhookEvent.Status.WAITING),
    )


def margin_drops_url() -> str:
    return _url("catalog:product_list", below_margin="true", changed_within=MARGIN_DROP_WINDOW_DAYS)


def margin_drops(user: Any) -> TodoCount:
    return TodoCount(combinations_fallen_below_min_margin().count(), margin_drops_url())


def unexpected_keys(user: Any) -> TodoCount:
    return TodoCount(
        orders_selectors.purchase_orders_with_unexpected_keys().count(),
        _url("orders:po_list", attention="unexpected_keys"),
    )


def purchase_orders_for_review(user: Any) -> TodoCount:
    return TodoCount(
        orders_selectors.purchase_orders_needing_review().count(),
        _url("orders:po_list", attention="review"),
    )


def upstream_quarantine(user: Any) -> TodoCount:
    records = quarantined_in_last_catalog_sync()
    run_ref = records.values_list("run_ref", flat=True).first() or ""
    return TodoCount(records.count(), _url("backoffice:upstream_problems", run=run_ref))


TODOS: tuple[Todo, ...] = (
    Todo(
        "approval",
        "Purchase orders awaiting your approval",
        p.APPROVE_ORDERS,
        awaiting_my_approval,
    ),
    Todo("po_unknown", "Purchase orders with an unknown outcome", p.PLACE_ORDERS, outcome_unknown),
    Todo(
        "po_held",
        "Purchase orders held after a price change",
        p.PLACE_ORDERS,
        held_after_price_change,
    ),
    Todo(
        "delivery_overdue",
        "Purchase orders still awaiting keys past the delivery bound",
        p.PLACE_ORDERS,
        deliveries_overdue,
    ),
    Todo("ledger_gaps", "Open gaps in the wallet ledger", p.VIEW_FINANCE, ledger_gaps),
    Todo("webhooks_failed", "Webhook events that failed", p.MANAGE_WEBHOOKS, failed_webhook_events),
    Todo(
        "webhooks_waiting",
        "Webhook events waiting for their order",
        p.MANAGE_WEBHOOKS,
        waiting_webhook_events,
    ),
    Todo(
        "unexpected_keys",
        "Purchase orders holding unexpected keys to decide",
        p.APPROVE_ORDERS,
        unexpected_keys,
    ),
    Todo(
        "po_review",
        "Purchase orders flagged for review",
        p.PLACE_ORDERS,
        purchase_orders_for_review,
    ),
    Todo(
        "upstream_quarantine",
        "Catalog records the last sync could not read",
        p.RUN_SYNCS,
        upstream_quarantine,
    ),
    Todo(
        "margin_drops",
        "Combinations that fell below the minimum margin in the last 24 hours",
        p.MANAGE_PRICING,
        margin_drops,
    ),
)


def todos_for(user: Any, *, registry: tuple[Todo, ...] = TODOS) -> list[TodoItem]:
    """The to-dos `user` may act on that have something to do: one COUNT per to-do."""
    items = []
    for todo in registry:
        if not user.has_perm(todo.permission):
            continue
        result = todo.select(user)
        if result.count:
            items.append(TodoItem(todo.key, todo.label, result.count, result.url))
    return items
