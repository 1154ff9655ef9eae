"""Wallet pages: overview, ledger (filter, totals, export), gaps, reconciliation."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from backoffice import permissions as p
from backoffice.audit import audit_record
from backoffice.auth import permission_required
from backoffice.models import AuditEvent

from . import exports, selectors, services
from .filters import LedgerFilter
from .forms import StatementImportForm
from .tables import (
    GapTable,
    KnownCountPaginator,
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


@permission_required(p.VIEW_FINANCE)
def ledger(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    if request.GET.get("_export") and not request.user.has_perm(p.EXPORT_DATA):
        raise PermissionDenied
    ledger_filter = LedgerFilter(request.GET or None, queryset=selectors.ledger_entries())
    entries = ledger_filter.qs if ledger_filter.is_bound else ledger_filter.queryset
    if ledger_filter.is_bound and not ledger_filter.is_valid():
        entries = ledger_filter.queryset.none()
    fmt = request.GET.get("_export")
    if fmt in exports.EXPORT_FORMATS:
        # Ordered like the table on the page: the chain order, newest first.
        response = exports.ledger_export_response(
            entries=selectors.ledger_annotate_po(entries.order_by("-position")),
            fmt=fmt,
            filename="wallet-ledger",
        )
        audit_record(
            action=AuditEvent.Action.EXPORT,
            request=request,
            target_type="wallet.LedgerEntry",
            summary="Wallet ledger exported",
            details={"format": fmt, "filters": _filters(request)},
        )
        return response
    # The per-type totals also give the number of rows: the paginator needs no COUNT.
    totals = selectors.ledger_totals_by_type(entries)
    table = LedgerTable(entries)
    RequestConfig(
        request,
        paginate={
            "per_page": _per_page(request),
            "paginator_class": KnownCountPaginator,
            "known_count": sum(row["count"] for row in totals),
        },
    ).configure(table)
    # The page's rows are loaded once and kept by the table; their POs come in one query.
    selectors.ledger_attach_purchase_orders([row.record for row in table.page.object_list])
    context = _wallet_context()
    context.update(
        filter=ledger_filter,
        table=table,
        totals=totals,
        grand_total=sum((row["total"] for row in totals), start=Decimal("0.00")),
        can_export=request.user.has_perm(p.EXPORT_DATA),
        export_query=_query_without(request, "_export", "page"),
    )
    return render(request, "wallet/ledger.html", context)


@permission_required(p.VIEW_FINANCE)
def gaps(request: HttpRequest) -> HttpResponse:
    table = GapTable(selectors.gaps_all())
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = _wallet_context()
    context.update(table=table, form=StatementImportForm())
    return render(request, "wallet/gaps.html", context)


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
    table = GapTable(selectors.gaps_all())
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = _wallet_context()
    context.update(table=table, form=form)
    return render(request, "wallet/gaps.html", context, status=400)


@permission_required(p.VIEW_FINANCE)
def reconciliation(request: HttpRequest) -> HttpResponse:
    unmatched = UnmatchedDebitTable(selectors.debits_without_po(), prefix="debits-")
    unbilled = PurchaseOrderWithoutDebitTable(
        selectors.purchase_orders_without_debit(), prefix="pos-"
    )
    RequestConfig(request, paginate={"per_page": 50}).configure(unmatched)
    incomplete = PurchaseOrderWithoutDebitTable(
        selectors.purchase_orders_missing_details(), prefix="incomplete-"
    )
    RequestConfig(request, paginate={"per_page": 50}).configure(unbilled)
    RequestConfig(request, paginate={"per_page": 50}).configure(incomplete)
    context = _wallet_context()
    context.update(
        unmatched=unmatched,
        unbilled=unbilled,
        incomplete=incomplete,
        mirror_start=selectors.ledger_mirror_start(),
    )
    return render(request, "wallet/reconciliation.html", context)


# Rendering cost grows with the rows shown (django-tables2 renders cell by cell).
MAX_PER_PAGE = 200


def _per_page(request: HttpRequest) -> int:
    try:
        wanted = int(request.GET.get("per_page", 50))
    except ValueError:
        return 50
    return max(1, min(wanted, MAX_PER_PAGE))


def _filters(request: HttpRequest) -> dict[str, str]:
    return {
        k: v
        for k, v in request.GET.items()
        if k not in ("_export", "page") and isinstance(v, str) and v
    }


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
