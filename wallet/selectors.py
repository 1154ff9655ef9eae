"""Read queries of the wallet used by pages, the banner and other apps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat

from backoffice import badges
from backoffice.display import chart_time
from backoffice.list_cache import kept, query_digest
from backoffice.prepared import PreparedValues
from orders.models import PurchaseOrder, missing_details

from .models import BalanceSnapshot, Gap, LedgerEntry, SyncFailure, SyncStatus

LEDGER_TYPE = "wallet.LedgerEntry.type"

# Ledger types that point at an upstream order through `reference`.
ORDER_LINKED_TYPES = (LedgerEntry.Type.ORDER, LedgerEntry.Type.REFUND)

# The list-cache scope of the ledger: entries are written by the wallet sync and the
# statement import (wallet.services, which announces its bulk inserts) and, one at a time,
# by whatever else saves or deletes one (the receivers in WalletConfig.ready). Entries are
# never edited, so the per-type totals of a filter hold until the next write.
LEDGER_SCOPE = "ledger"


@dataclass(frozen=True)
class WalletLatest:
    balance: Decimal
    currency: str
    tier: str
    discount: Decimal | None
    synced_at: datetime | None  # the last successful read (even when nothing changed)
    changed_at: datetime  # when this balance/tier/discount was first seen


def wallet_latest() -> WalletLatest | None:
    """The latest known balance, tier and discount, or None before the first sync.

    One query: the newest snapshot with the last successful sync time beside it.
    """
    snapshot = (
        BalanceSnapshot.objects.order_by("-recorded_at", "-id")
        .annotate(
            synced_at=Subquery(
                SyncStatus.objects.filter(pk=SyncStatus.SINGLETON_PK).values("last_success_at")[:1]
            )
        )
        .first()
    )
    if snapshot is None:
        return None
    return WalletLatest(
        balance=snapshot.balance,
        currency=snapshot.currency,
        tier=snapshot.tier,
        discount=snapshot.discount,
        synced_at=snapshot.synced_at or snapshot.recorded_at,
        changed_at=snapshot.recorded_at,
    )


def sync_status() -> SyncStatus | None:
    return SyncStatus.objects.filter(pk=SyncStatus.SINGLETON_PK).first()


def gaps_open() -> QuerySet[Gap]:
    return (
        Gap.objects.filter(status=Gap.Status.OPEN)
        .select_related("after_entry", "before_entry")
        .order_by("-detected_at", "-id")
    )


def gaps_all() -> QuerySet[Gap]:
    # "open" sorts after "closed": descending puts the open gaps first.
    return Gap.objects.select_related("after_entry", "before_entry").order_by(
        "-status", "-detected_at", "-id"
    )


def _wallet_banner_query() -> QuerySet[Any, Any]:
    open_gaps = (
        Gap.objects.filter(status=Gap.Status.OPEN)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return (
        BalanceSnapshot.objects.order_by("-recorded_at", "-id")
        .annotate(
            open_gaps=Coalesce(Subquery(open_gaps, output_field=IntegerField()), 0),
            synced_at=Subquery(
                SyncStatus.objects.filter(pk=SyncStatus.SINGLETON_PK).values("last_success_at")[:1]
            ),
        )
        .values("balance", "currency", "open_gaps", "synced_at", "recorded_at")[:1]
    )


# Shown on every page: built and compiled once (nothing in it varies), only run per page.
_WALLET_BANNER = PreparedValues(_wallet_banner_query)


def wallet_banner_state() -> Mapping[str, Any] | None:
    """Balance, currency, when it was last seen and the open gap count, in one query."""
    rows = _WALLET_BANNER.rows()
    return rows[0] if rows else None


def sync_failures_recent(*, limit: int = 5) -> list[SyncFailure]:
    return list(SyncFailure.objects.order_by("-occurred_at", "-id")[:limit])


def _po_by_reference() -> QuerySet[PurchaseOrder]:
    # upstream_id is unique, so at most one PO matches; order_by() drops the model's
    # default ordering, which would make PostgreSQL sort inside every subquery.
    return PurchaseOrder.objects.filter(upstream_id=OuterRef("reference")).order_by()


def ledger_entries() -> QuerySet[LedgerEntry]:
    """Every entry, newest first (the chain order). The page attaches POs per page."""
    return LedgerEntry.objects.order_by("-position")


def ledger_entries_with_po() -> QuerySet[LedgerEntry]:
    return ledger_annotate_po(ledger_entries())


def ledger_annotate_po(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """Entries with the purchase order their reference points at (exports, reports).

    Matching is by the upstream order id (no foreign key: the wallet mirror does not
    depend on the orders schema, and an entry may arrive before its PO is imported).
    `po_pk`/`po_number` are NULL for entries with no PO. Correlated subqueries are run
    for every row PostgreSQL produces, including rows skipped by OFFSET, so paged views
    use ledger_attach_purchase_orders on the page's rows instead.
    """
    matches = _po_by_reference()
    return entries.annotate(
        po_pk=Subquery(matches.values("pk")[:1]),
        po_number=Subquery(
            matches.annotate(
                label=Coalesce("external_id", Concat(Value("Licendi "), "upstream_id"))
            ).values("label")[:1]
        ),
    )


def ledger_attach_purchase_orders(entries: list[LedgerEntry]) -> None:
    """Set `po_pk`/`po_number` on already loaded entries: one query for the whole page."""
    references = {e.reference for e in entries if e.type in ORDER_LINKED_TYPES and e.reference}
    found = {}
    if references:
        found = {
            upstream_id: (pk, external_id)
            for upstream_id, pk, external_id in PurchaseOrder.objects.filter(
                upstream_id__in=references
            ).values_list("upstream_id", "pk", "external_id")
        }
    for entry in entries:
        # Attributes of the page's rows, like ledger_annotate_po's annotations.
        po_pk, po_number = found.get(entry.reference or "", (None, None))
        setattr(entry, "po_pk", po_pk)  # noqa: B010 - not a model field
        # An imported order without an externalId is named by Licendi's id, as on its page.
        label = po_number or (f"Licendi {entry.reference}" if po_pk is not None else None)
        setattr(entry, "po_number", label)  # noqa: B010 - not a model field


def ledger_filter_matched(
    entries: QuerySet[LedgerEntry], *, matched: bool
) -> QuerySet[LedgerEntry]:
    # An order entry without a reference cannot be matched: it counts as unmatched.
    linked = entries.filter(type__in=ORDER_LINKED_TYPES)
    has_po = Exists(_po_by_reference())
    return linked.filter(has_po) if matched else linked.exclude(has_po)


def ledger_totals_by_type(entries: QuerySet[LedgerEntry]) -> list[Mapping[str, Any]]:
    """Count and sum per type of the (filtered) entries: one aggregate query. Each row
    carries the type's human label (backoffice.badges: a type upstream added that we do
    not know yet is humanised)."""
    rows = (
        entries.order_by()
        .values("type")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("type")
    )
    return [{**row, "label": badges.label(LEDGER_TYPE, row["type"])} for row in rows]


def ledger_totals_kept(entries: QuerySet[LedgerEntry]) -> list[Mapping[str, Any]]:
    """`ledger_totals_by_type(entries)`, computed once per change of the ledger for each
    distinct query: the unfiltered totals group every entry (100,000 rows: more than the
    rest of the ledger page together). Only for filters on the entries' own columns: a
    filter that reads purchase orders (matched / not matched) changes with them."""
    digest = query_digest(entries)
    if digest is None:
        return []
    return list(kept(LEDGER_SCOPE, f"totals:{digest}", lambda: ledger_totals_by_type(entries)))


def ledger_chart_points(*, limit: int = 500) -> list[dict[str, str]]:
    """Balance after each of the last `limit` entries, oldest first, for the chart."""
    rows = LedgerEntry.objects.order_by("-position").values("created_at", "balance_after")[:limit]
    return [
        {"t": chart_time(row["created_at"]), "balance": str(row["balance_after"])}
        for row in reversed(rows)
    ]


def debits_without_po() -> QuerySet[LedgerEntry]:
    """Order debits (and refunds) whose reference matches no purchase order.

    Orders placed outside the back-office show here until the order import brings the PO.
    """
    return ledger_filter_matched(ledger_entries(), matched=False)


def purchase_orders_without_debit() -> QuerySet[PurchaseOrder]:
    """POs placed upstream whose upstream order id no ledger entry references yet."""
    debited = LedgerEntry.objects.filter(
        type=LedgerEntry.Type.ORDER, reference=OuterRef("upstream_id")
    )
    return (
        PurchaseOrder.objects.filter(
            upstream_id__isnull=False, status__in=PurchaseOrder.UPSTREAM_STATUSES
        )
        .exclude(upstream_id="")
        .exclude(Exists(debited))
        .select_related("customer")
        .order_by("-created_at", "-id")
    )


def purchase_orders_missing_details() -> QuerySet[PurchaseOrder]:
    """Delivered POs still without their invoice, charged total or line prices."""
    return (
        PurchaseOrder.objects.filter(missing_details())
        .select_related("customer")
        .order_by("-created_at", "-id")
    )


def ledger_mirror_start() -> LedgerEntry | None:
    return LedgerEntry.objects.order_by("position").first()


def gaps_open_summary() -> dict[str, Any]:
    """Number of open gaps and the money they leave unaccounted for: one query."""
    return Gap.objects.filter(status=Gap.Status.OPEN).aggregate(
        count=Count("id"),
        total=Coalesce(
            Sum("amount"),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )


def gap_counts() -> dict[str, int]:
    return Gap.objects.aggregate(
        open=Count("id", filter=Q(status=Gap.Status.OPEN)),
        closed=Count("id", filter=Q(status=Gap.Status.CLOSED)),
    )
