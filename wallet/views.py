"""Wallet pages: overview, ledger (filter, totals, export), gaps, reconciliation."""

from decimal import Decimal
from typing import Any

import django_filters
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.lists import KnownCountPaginator, ListPageView, configure_table
from backoffice.money import CURRENCY
from backoffice.tables import BaseTable

from . import selectors, services
from .filters import LedgerFilter
from .forms import StatementImportForm
from .models import Gap, LedgerEntry
from .tables import (
    GapTable,
    LedgerTable,
    PurchaseOrderWithoutDebitTable,
    UnmatchedDebitTable,
)


def _wallet_context() -> dict[str, Any]:
    """What every wallet page shows at the top: three small queries."""
    gaps_summary = selectors.gaps_open_summary()
    return {
        "latest": selectors.wallet_latest(),
        "status": selectors.sync_status(),
        "open_gaps": gaps_summary["count"],
        "unaccounted": gaps_summary["total"],
    }


@permission_required(p.VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    context = _wallet_context()
    context.update(
        chart_points=selectors.ledger_chart_points(),
        failures=selectors.sync_failures_recent(),
        mirror_start=selectors.ledger_mirror_start(),
        gap_counts=selectors.gap_counts(),
    )
    return render(request, "wallet/overview.html", context)


@permission_required(p.RUN_SYNCS)
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    services.wallet_sync_request(reason="refresh")
    messages.info(request, "Wallet sync queued: the balance and ledger update in a moment.")
    return redirect("wallet:overview")


class LedgerListView(ListPageView):
    table_class = LedgerTable
    filterset_class = LedgerFilter
    template_name = "wallet/ledger.html"
    permission_required = (p.VIEW_FINANCE,)
    filter_form_id = "ledger-filter"
    export_filename = "wallet-ledger"
    export_title = "the wallet ledger"

    def get_queryset(self) -> QuerySet[LedgerEntry]:
        return selectors.ledger_entries()

    def get_filterset(self) -> django_filters.FilterSet | None:
        self.filterset = super().get_filterset()
        return self.filterset

    def get_paginator_options(self, rows: QuerySet[LedgerEntry]) -> dict[str, Any]:
        # The per-type totals also give the number of rows: the paginator needs no COUNT.
        # They are kept until the ledger changes, unless the filter reads purchase orders.
        form = getattr(self.filterset, "form", None)
        reads_orders = bool(form is not None and form.is_valid() and form.cleaned_data["matched"])
        totals = selectors.ledger_totals_by_type if reads_orders else selectors.ledger_totals_kept
        self.totals = totals(rows)
        return {
            "paginator_class": KnownCountPaginator,
            "known_count": sum(row["count"] for row in self.totals),
        }

    def page_loaded(self, table: BaseTable) -> None:
        # The page's rows are loaded once and kept by the table; their POs in one query.
        selectors.ledger_attach_purchase_orders([row.record for row in table.page.object_list])

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        context.update(_wallet_context())
        return super().get_context_data(
            totals=self.totals,
            currency=CURRENCY,
            grand_total=sum((row["total"] for row in self.totals), start=Decimal("0.00")),
            **context,
        )

    def export_rows(self, table: BaseTable) -> Any:
        # Ordered like the table on the page (the chain order, newest first by default).
        return selectors.ledger_annotate_po(table.data.data).iterator(chunk_size=2000)


ledger = LedgerListView.as_view()


class GapListView(ListPageView):
    table_class = GapTable
    template_name = "wallet/gaps.html"
    permission_required = (p.VIEW_FINANCE,)

    def get_queryset(self) -> QuerySet[Gap]:
        return selectors.gaps_all()

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        context.update(_wallet_context())
        return super().get_context_data(form=StatementImportForm(), **context)


gaps = GapListView.as_view()


@permission_required(p.RUN_SYNCS)
@require_POST
def statement_import(request: HttpRequest) -> HttpResponse:
    form = StatementImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            entries = services.ledger_statement_parse(raw=form.cleaned_data["statement"].read())
            result = services.ledger_entries_import(entries=entries)
        except services.WalletError as exc:
            form.add_error("statement", str(exc))
        else:
            messages.success(
                request,
                f"{result.new} new ledger entries imported; {result.gaps_closed} gap(s) closed, "
                f"{result.gaps_opened} opened.",
            )
            return redirect("wallet:gaps")
    table = configure_table(request, GapTable(selectors.gaps_all()))
    context = _wallet_context()
    context.update(table=table, form=form)
    return render(request, "wallet/gaps.html", context, status=400)


@permission_required(p.VIEW_FINANCE)
def reconciliation(request: HttpRequest) -> HttpResponse:
    unmatched = UnmatchedDebitTable(selectors.debits_without_po(), prefix="debits-")
    unbilled = PurchaseOrderWithoutDebitTable(
        selectors.purchase_orders_without_debit(), prefix="pos-"
    )
    incomplete = PurchaseOrderWithoutDebitTable(
        selectors.purchase_orders_missing_details(), prefix="incomplete-"
    )
    configure_table(request, unmatched)
    configure_table(request, unbilled)
    configure_table(request, incomplete)
    context = _wallet_context()
    context.update(
        unmatched=unmatched,
        unbilled=unbilled,
        incomplete=incomplete,
        mirror_start=selectors.ledger_mirror_start(),
    )
    return render(request, "wallet/reconciliation.html", context)
