"""Read queries of the orders app used by pages (no N+1: related rows joined/prefetched)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from backoffice.list_cache import kept
from backoffice.models import AuditEvent
from catalog.models import Combination

from .models import (
    Customer,
    LicenceKey,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    UnexpectedKey,
    missing_details,
)


def _rows_pointing_here(queryset: QuerySet[Any], field: str) -> Coalesce:
    """How many rows of `queryset` point at the listed row through `field`, as a subquery
    run for the page's rows only: a join grouped by the listed row would aggregate every
    row of both tables before the page's 50 could be taken from the index."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


# What a list of purchase orders (PurchaseOrderTable: the PO list, a customer's orders,
# their exports) reads of each: not the note, the stored upstream answer, the price
# guard's details or the seven other time stamps, each converted in Python per row.
_LIST_FIELDS = (
    "external_id",
    "upstream_id",
    "status",
    "source",
    "total",
    "currency",
    "created_at",
    "customer__name",
    "customer__company",
)


def purchase_order_list() -> QuerySet[PurchaseOrder]:
    return (
        PurchaseOrder.objects.select_related("customer")
        .only(*_LIST_FIELDS)
        .annotate(key_count=_rows_pointing_here(LicenceKey.objects.all(), "purchase_order"))
        .order_by("-created_at", "-id")
    )


def purchase_order_detail(*, pk: int) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_related(
            "customer", "created_by", "confirmed_by", "approved_by"
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PurchaseOrderLine.objects.select_related("combination__product")
                .annotate(key_count=Count("keys"))
                .order_by("pk"),
            ),
            Prefetch("keys", queryset=LicenceKey.objects.select_related("customer").order_by("pk")),
            Prefetch(
                "unexpected_keys",
                queryset=UnexpectedKey.objects.select_related("decided_by").order_by("pk"),
            ),
            Prefetch(
                "events",
                queryset=PurchaseOrderEvent.objects.select_related("actor").order_by("at", "pk"),
            ),
        )
        .get(pk=pk)
    )


def unexpected_keys_pending_count() -> int:
    """Keys no line could take and nobody has decided on yet (for the home page)."""
    return UnexpectedKey.objects.filter(decision=UnexpectedKey.Decision.PENDING).count()


def purchase_orders_needing_review_count() -> int:
    return purchase_orders_needing_review().count()


def purchase_orders_needing_review(
    queryset: QuerySet[PurchaseOrder] | None = None,
) -> QuerySet[PurchaseOrder]:
    """POs flagged "needs review": an answer or a delivery that could not be read whole."""
    queryset = PurchaseOrder.objects.all() if queryset is None else queryset
    return queryset.filter(needs_review=True)


def purchase_orders_with_unexpected_keys(
    queryset: QuerySet[PurchaseOrder] | None = None,
) -> QuerySet[PurchaseOrder]:
    """POs holding keys no line could take that nobody has decided on yet."""
    queryset = PurchaseOrder.objects.all() if queryset is None else queryset
    pending = UnexpectedKey.objects.filter(decision=UnexpectedKey.Decision.PENDING)
    return queryset.filter(pk__in=pending.values("purchase_order_id"))


def purchase_orders_missing_details() -> QuerySet[PurchaseOrder]:
    """Delivered POs still without their invoice, charged total or line prices."""
    return PurchaseOrder.objects.filter(missing_details()).order_by("pk")


def purchase_orders_awaiting_keys_before(
    queryset: QuerySet[PurchaseOrder], *, before: datetime
) -> QuerySet[PurchaseOrder]:
    """POs still waiting for keys that were sent upstream before `before` (imported
    orders have no submission time of ours: their creation time counts)."""
    return queryset.filter(status__in=PurchaseOrder.AWAITING_KEYS_STATUSES).filter(
        Q(submitted_at__lt=before) | Q(submitted_at__isnull=True, created_at__lt=before)
    )


def customer_list() -> QuerySet[Customer]:
    """Customers with their order and key counts (the list page filters by search)."""
    return Customer.objects.annotate(
        order_count=_rows_pointing_here(PurchaseOrder.objects.all(), "customer"),
        key_count=_rows_pointing_here(LicenceKey.objects.all(), "customer"),
    ).order_by("name", "id")


# The list-cache scope of customers: every save or delete of one replaces its version
# (OrdersConfig.ready), so the purchase order filter's customer choices are kept till then.
CUSTOMERS_SCOPE = "customers"


def _customer_choices() -> list[tuple[str, str]]:
    return [(str(customer.pk), str(customer)) for customer in Customer.objects.order_by("name")]


def customer_choices_cached() -> list[tuple[str, str]]:
    """Every customer as a filter choice (id, label), kept until a customer changes."""
    return kept(CUSTOMERS_SCOPE, "choices", _customer_choices)


def customer_orders(*, customer: Customer) -> QuerySet[PurchaseOrder]:
    return purchase_order_list().filter(customer=customer)


def customer_keys(*, customer: Customer) -> QuerySet[LicenceKey]:
    return customer.keys.select_related("purchase_order").order_by("-received_at", "-id")


def customer_key_email_failures(*, customer: Customer, limit: int = 3) -> list[AuditEvent]:
    """The latest failed e-mails of keys to this customer, from the audit log."""
    return list(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.KEY_EMAIL_FAILED,
            target_type=Customer._meta.label,
            target_id=str(customer.pk),
        ).order_by("-created_at", "-id")[:limit]
    )


def stock_keys() -> QuerySet[LicenceKey]:
    return (
        LicenceKey.objects.filter(customer__isnull=True)
        .select_related("purchase_order")
        .order_by("-received_at", "-id")
    )


# Results per page of the PO builder's catalog search ("More results" asks the next).
SEARCH_PAGE_SIZE = 20


def combination_search(
    *, query: str, offset: int = 0, limit: int = SEARCH_PAGE_SIZE
) -> tuple[list[Combination], bool]:
    """One page of the active catalog items matching a name, product sku or order sku,
    over the whole catalog, and whether more follow."""
    query = query.strip()
    if len(query) < 2:
        return [], False
    found = list(
        Combination.objects.filter(is_active=True, product__is_active=True)
        .filter(
            Q(order_sku__istartswith=query)
            | Q(product__sku__iexact=query)
            | Q(product__name__icontains=query)
            | Q(label__icontains=query)
        )
        .select_related("product")
        .order_by("product__name", "order_sku", "pk")[offset : offset + limit + 1]
    )
    return found[:limit], len(found) > limit


def combinations_by_order_sku(*, order_skus: list[str]) -> dict[str, Combination]:
    """The catalog items named by these order skus (active or not), by order sku."""
    return {
        combo.order_sku: combo
        for combo in Combination.objects.filter(order_sku__in=order_skus).select_related("product")
    }


def drafts_of(*, user: User) -> QuerySet[PurchaseOrder]:
    """The user's own drafts, newest first (where catalog items can be added)."""
    return (
        PurchaseOrder.objects.filter(created_by=user, status=PurchaseOrder.Status.DRAFT)
        .exclude(source=PurchaseOrder.Source.IMPORTED)
        .select_related("customer")
        .annotate(line_count=Count("lines"))
        .order_by("-created_at", "-id")
    )
