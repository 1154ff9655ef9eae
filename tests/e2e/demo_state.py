"""A realistic back-office state for page-wide browser checks and the README screenshots.

`build()` runs the real services against an upstream the caller has wired in (the
in-process sandbox): a catalog sync, pricing rules, wallet reads, purchase orders from
draft to delivered with their keys (four weeks of them, dated back, when it is given the
sandbox), a sales-channel client, a login lockout, and adds the rows that only time or
the supplier produce (a ledger gap, webhook events, quarantined records, a PO awaiting
approval and its notification) with the test builders. Tasks must run eagerly (the test
settings do; scripts/screenshots.py sets it), so a confirmed PO is submitted and
delivered before `build()` returns.

`pages(state)` lists every page a staff user reaches from the navigation, by path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from backoffice.login_throttle import login_attempt_begin, login_attempt_failed
from backoffice.permissions import ROLES
from catalog.models import Category, Combination, PricingRule, Product
from catalog.services import catalog_sync, pricing_apply
from channel import services as channel_services
from orders.models import Customer, LicenceKey, PurchaseOrder, PurchaseOrderEvent
from orders.services import (
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_line_set,
)
from tests.backoffice.factories import AuditEventFactory
from tests.conftest import make_user
from tests.dashboard import builders
from tests.wallet.factories import LedgerEntryFactory
from tests.webhooks.factories import WebhookEndpointFactory, WebhookEventFactory
from wallet import services as wallet_services
from wallet.models import Gap, LedgerEntry
from wallet.services import POSITION_STEP
from webhooks.models import WebhookEvent

STAFF_USERNAME = "maria.garcia"

CUSTOMERS = [
    ("Lucía Fernández", "Fernández Consultores S.L.", "lucia@fernandez-consultores.es"),
    ("Jordi Puig", "Puig Arquitectura S.C.P.", "jordi.puig@puigarq.cat"),
    ("Ana Torres", "Colegio San Ignacio", "it@colegiosanignacio.es"),
]


@dataclass
class DemoState:
    staff: User
    product_sku: str
    customer: Customer
    draft: PurchaseOrder
    delivered: PurchaseOrder
    awaiting: PurchaseOrder
    rule: PricingRule
    event: WebhookEvent
    channel_client_id: int
    buyer_id: int


def _in_stock(count: int) -> list[Combination]:
    """The cheapest in-stock combinations (by sku for equal prices): a deterministic pick."""
    return list(
        Combination.objects.filter(in_stock=True, is_active=True, product__is_active=True)
        .select_related("product")
        .order_by("net_price", "order_sku")[:count]
    )


def _delivered_po(staff: User, customer: Customer, lines: list[tuple[str, int]]) -> PurchaseOrder:
    po = purchase_order_create(user=staff, customer=customer, note="Licences for the new office")
    for sku, quantity in lines:
        purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=quantity)
    purchase_order_confirm(purchase_order_id=po.pk, user=staff)
    po.refresh_from_db()
    return po


def _ledger_gap() -> Gap:
    """Two entries read after the synced ones whose balances do not follow: 69.80 missing."""
    last = LedgerEntry.objects.order_by("-position").first()
    position = (last.position if last else 0) + POSITION_STEP
    balance = last.balance_after if last else Decimal("500.00")
    after = LedgerEntryFactory(
        position=position,
        amount=Decimal("-20.00"),
        balance_after=balance - Decimal("20.00"),
        description="Order placed on the supplier's website",
    )
    before = LedgerEntryFactory(
        position=position + POSITION_STEP,
        amount=Decimal("-15.00"),
        balance_after=balance - Decimal("104.80"),
        description="Order placed on the supplier's website",
    )
    return Gap.objects.create(
        after_entry=after,
        before_entry=before,
        kind=Gap.Kind.MISSED,
        amount=Decimal("-69.80"),
        detected_at=timezone.now() - timedelta(hours=5),
        status=Gap.Status.OPEN,
    )


# Orders of the last weeks: (days ago, quantity), each from the next cheapest stock line.
HISTORY = [(27, 4), (23, 2), (19, 6), (16, 3), (12, 5), (9, 2), (6, 8), (3, 3), (1, 4)]


def _history(sandbox: Any, staff: User, customers: list[Customer], stock: list[Combination]):
    """Delivered orders spread over the last four weeks, as if placed on those days: the
    POs, their keys and timelines, and the supplier's ledger entries (and their mirror)
    are dated back, so the dashboard's 30-day charts and the ledger have a history."""
    now = timezone.now()
    first = sandbox.state.ledger[0]  # the opening balance
    first.created_at = now - timedelta(days=30)
    for n, (days, quantity) in enumerate(HISTORY):
        when = now - timedelta(days=days, hours=2 + n % 5)
        combo = stock[n % len(stock)]
        po = _delivered_po(staff, customers[n % len(customers)], [(combo.order_sku, quantity)])
        PurchaseOrder.objects.filter(pk=po.pk).update(
            created_at=when, confirmed_at=when, submitted_at=when, delivered_at=when
        )
        PurchaseOrderEvent.objects.filter(purchase_order=po).update(at=when)
        LicenceKey.objects.filter(purchase_order=po).update(received_at=when)
        for entry in sandbox.state.ledger:
            if entry.reference == po.upstream_id:
                entry.created_at = when
    wallet_services.wallet_sync()
    # An order's submission reads the wallet at once (tasks run eagerly): date the
    # entries already mirrored too.
    for entry in sandbox.state.ledger:
        LedgerEntry.objects.filter(upstream_id=entry.id).update(created_at=entry.created_at)


def _login_lockout() -> None:
    """Someone guessing a password from one address until the throttle locks them out."""
    while (attempt := login_attempt_begin(username="j.smith", ip="203.0.113.7")) is not None:
        login_attempt_failed(attempt)


def build(*, sandbox: Any = None, staff_password: str | None = None) -> DemoState:
    staff = make_user(STAFF_USERNAME, *ROLES, password=staff_password or "pw-for-tests-only")
    staff.first_name, staff.last_name = "María", "García"
    staff.email = "maria.garcia@reseller.example"
    staff.save(update_fields=["first_name", "last_name", "email"])
    buyer = make_user("pablo.ruiz", "Buyer")
    make_user("elena.martin", "Finance", "Approver")

    catalog_sync(trigger="command", user=staff)
    default_rule = PricingRule.objects.create(
        scope=PricingRule.Scope.DEFAULT,
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=Decimal("25.00"),
        rounding=PricingRule.Rounding.TO_99,
    )
    category = Category.objects.order_by("name").first()
    if category is not None:
        PricingRule.objects.create(
            scope=PricingRule.Scope.CATEGORY,
            category=category,
            kind=PricingRule.Kind.MARKUP_PERCENT,
            value=Decimal("8.00"),
            rounding=PricingRule.Rounding.NONE,
        )
    pricing_apply()

    customers = [
        Customer.objects.create(name=name, company=company, email=email, vat_id=f"ESB{n:08d}")
        for n, (name, company, email) in enumerate(CUSTOMERS, start=1)
    ]
    stock = _in_stock(4)
    if sandbox is not None:
        _history(sandbox, staff, customers, _in_stock(12)[4:])
    else:
        wallet_services.wallet_sync()
    delivered = _delivered_po(
        staff, customers[0], [(stock[0].order_sku, 2), (stock[1].order_sku, 1)]
    )
    _delivered_po(staff, customers[1], [(stock[2].order_sku, 1)])
    wallet_services.wallet_sync()  # the debits of those orders

    draft = purchase_order_create(user=staff, customer=customers[2], note="Quote for next term")
    for combo, quantity in zip(stock[1:4], (3, 1, 5), strict=True):
        purchase_order_line_set(
            purchase_order_id=draft.pk, order_sku=combo.order_sku, quantity=quantity
        )
    awaiting = builders.po(
        PurchaseOrder.Status.AWAITING_APPROVAL,
        created_by=buyer,
        confirmed_by=buyer,
        customer=customers[2],
        total=Decimal("1240.50"),
        external_id="PO-2026-0101",
    )
    builders.po(
        PurchaseOrder.Status.HELD,
        ago=timedelta(hours=3),
        created_by=buyer,
        external_id="PO-2026-0102",
    )

    _ledger_gap()
    low = builders.combination(
        margin_percent="4.20", changed_ago=timedelta(hours=2), selling="21.49"
    )
    builders.price_change(low, old_net="14.00", old_margin="6.00", new_margin_percent="4.20")
    builders.quarantined_sync_run(refs=["SKU-9001", "SKU-9002"], ago=timedelta(hours=6))

    WebhookEndpointFactory(url="https://backoffice.example.com/hooks/licendi")
    event = WebhookEventFactory(
        type="order.delivered",
        status=WebhookEvent.Status.PROCESSED,
        purchase_order=delivered,
        upstream_order_id=delivered.upstream_id or "",
        external_id=delivered.external_id,
        key_count=3,
        keys_stored=3,
        attempts=1,
    )
    WebhookEventFactory(
        type="key.assigned",
        status=WebhookEvent.Status.FAILED,
        attempts=3,
        error="Order ord-7f3a19c2 is not known here yet",
    )
    WebhookEventFactory(type="order.delivered", status=WebhookEvent.Status.WAITING, attempts=1)

    issued = channel_services.client_create(
        name="Tienda Online Barcelona",
        created_by=staff,
        daily_spend_cap=Decimal("1000.00"),
        order_spend_cap=Decimal("300.00"),
        margin_floor_percent=Decimal("5.00"),
        approval_threshold=Decimal("250.00"),
    )
    AuditEventFactory(actor_name=staff.get_username(), summary="Pricing rules reviewed")
    _login_lockout()

    product = Product.objects.filter(combinations__order_sku=stock[0].order_sku).get()
    return DemoState(
        staff=staff,
        product_sku=product.sku,
        customer=customers[0],
        draft=draft,
        delivered=delivered,
        awaiting=awaiting,
        rule=default_rule,
        event=event,
        channel_client_id=issued.client.pk,
        buyer_id=buyer.pk,
    )


def pages(state: DemoState) -> list[str]:
    """Every page a staff user holding every role reaches from the navigation."""
    return [
        "/",
        "/catalog/",
        f"/catalog/products/{state.product_sku}/",
        "/catalog/price-changes/",
        "/catalog/syncs/",
        "/catalog/pricing-rules/",
        "/catalog/pricing-rules/new/",
        f"/catalog/pricing-rules/{state.rule.pk}/edit/",
        f"/catalog/pricing-rules/{state.rule.pk}/delete/",
        "/upstream/",
        "/orders/",
        "/orders/new/",
        f"/orders/{state.draft.pk}/",
        f"/orders/{state.draft.pk}/edit/",
        f"/orders/{state.delivered.pk}/",
        f"/orders/{state.awaiting.pk}/",
        "/keys/",
        "/customers/",
        "/customers/new/",
        f"/customers/{state.customer.pk}/",
        f"/customers/{state.customer.pk}/edit/",
        "/wallet/",
        "/wallet/ledger/",
        "/wallet/gaps/",
        "/wallet/reconciliation/",
        "/webhooks/",
        f"/webhooks/events/{state.event.pk}/",
        "/webhooks/endpoints/",
        "/notifications/",
        "/notifications/preferences/",
        "/audit/",
        "/staff/",
        "/staff/new/",
        f"/staff/{state.buyer_id}/",
        "/staff/lockouts/",
        "/channel/",
        f"/channel/clients/{state.channel_client_id}/",
        f"/channel/clients/{state.channel_client_id}/calls/",
        "/no-such-page/",
    ]
