"""Catalog pages: thin views over catalog.selectors and catalog.services."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.display import chart_time
from backoffice.lists import (
    ListPageView,
    TableQueryNames,
    configure_table,
    page_number_from,
    per_page_from,
    sort_from,
)
from backoffice.tables import BaseTable

from . import selectors, services
from .filters import CombinationFilter, PriceChangeFilter
from .forms import PricingRuleForm
from .models import Combination, PriceChange, PricingRule, SyncRun
from .tables import CombinationTable, PriceChangeTable, PricingRuleTable, SyncRunTable


class ProductListView(ListPageView):
    """Every orderable combination with its cost, selling price and margin."""

    table_class = CombinationTable
    filterset_class = CombinationFilter
    template_name = "catalog/product_list.html"
    filter_form_id = "catalog-filter"
    show_per_page = True
    export_filename = "catalog"
    export_title = "the catalog"
    count_scope = selectors.CATALOG_SCOPE

    def get_queryset(self) -> QuerySet[Combination]:
        return selectors.combination_list()

    # A search's page is read from its first matching products by name when the page
    # ends within this many rows (deeper pages read every match).
    SEARCH_WINDOW_MAX = 1000
    # ... and when the search lists more rows than this (fewer are sorted in no time).
    SEARCH_WINDOW_MIN_ROWS = 500

    def get_filterset(self) -> CombinationFilter | None:
        self.filterset = cast("CombinationFilter | None", super().get_filterset())
        return self.filterset

    def get_table(self, rows: QuerySet[Combination]) -> CombinationTable:
        count = self.row_count(rows)
        few = count is not None and count <= CombinationTable.SORT_MATCHES_MAX
        self.full_rows: QuerySet[Combination] | None = None
        if few and self.request.method == "GET":
            within = self.search_page_rows(count)
            if within is not None:
                self.full_rows, rows = rows, within
        return self.combination_table(rows, sort_matches=few)

    def combination_table(
        self, rows: QuerySet[Combination], *, sort_matches: bool
    ) -> CombinationTable:
        table = CombinationTable(rows, sort_matches=sort_matches)
        if not self.can_order:
            table.columns.hide("select")
        return table

    def search_page_rows(self, count: int | None) -> QuerySet[Combination] | None:
        """For a search listed by product name: the rows of its first matching products,
        enough for the page asked for (None: read the page from every match).

        Sorting every match of a broad search ("windows 11": 1,300 products, 4,300
        combinations) to show 50 was most of the page's SQL. The first products by name
        are found with one narrow query; their rows are the page's rows when each of
        them has a row listed, which `page_loaded` checks (else the page is read again
        from every match). The paging and sorting are read before the table is built,
        so that it is built once, with the rows it shows.
        """
        products = self.filterset.searched_products() if self.filterset else None
        names = TableQueryNames(CombinationTable)
        if products is None or sort_from(self.request, names) not in ([], ["name"]):
            return None
        end = page_number_from(self.request, names) * per_page_from(self.request, names)
        # The window costs a query of its own: worth it when it leaves most matches out.
        if (
            end > self.SEARCH_WINDOW_MAX
            or count is None
            or count <= max(end, self.SEARCH_WINDOW_MIN_ROWS)
        ):
            return None
        within = selectors.first_products_by_name(products, end)
        if within is None or self.filterset is None:
            return None
        return self.filterset.rows_within(within)

    def page_loaded(self, table: BaseTable) -> None:
        self.replaced_table: CombinationTable | None = None
        if self.full_rows is None:
            return
        page = table.page
        expected = page.end_index() - page.start_index() + 1 if page.paginator.count else 0
        if len(page.object_list) < expected:
            # Some of the first products had no row listed (another filter left them
            # out): the page is read from every match, as without the shortcut.
            replaced = self.combination_table(self.full_rows, sort_matches=True)
            self.replaced_table = cast(
                "CombinationTable",
                configure_table(
                    self.request, replaced, **self.get_paginator_options(self.full_rows)
                ),
            )

    @property
    def can_order(self) -> bool:
        return self.request.user.has_perm(p.PLACE_ORDERS)

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        if getattr(self, "replaced_table", None) is not None:
            context["table"] = self.replaced_table
        return super().get_context_data(
            min_margin=selectors.min_margin_percent(), can_order=self.can_order, **context
        )


product_list = ProductListView.as_view()


@permission_required(p.VIEW)
def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    product = selectors.product_for_detail(sku)
    axes = list(product.axes.all())
    combinations = list(product.combinations.all())
    # Each combination with the label of its option on every axis.
    combination_rows = [
        (
            combo,
            [
                axes[n].options[i] if n < len(axes) and 0 <= i < len(axes[n].options) else "?"
                for n, i in enumerate(combo.options)
            ],
        )
        for combo in combinations
    ]
    labels = {c.pk: (c.label or c.order_sku) for c in combinations}
    series: dict[int, list[dict[str, object]]] = defaultdict(list)
    for change in selectors.price_history(product):
        points = series[change.combination_id]
        if not points:
            # The price before the first recorded change held since the product was first seen.
            points.append(
                {"t": chart_time(product.first_seen_at), "net": str(change.old_net_price)}
            )
        points.append({"t": chart_time(change.changed_at), "net": str(change.new_net_price)})
    history = [
        {"label": labels.get(combo_id, str(combo_id)), "points": points}
        for combo_id, points in series.items()
    ]
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "axes": axes,
            "combination_rows": combination_rows,
            "history": history,
            "has_history": bool(history),
            "min_margin": selectors.min_margin_percent(),
        },
    )


class PriceChangeListView(ListPageView):
    table_class = PriceChangeTable
    filterset_class = PriceChangeFilter
    template_name = "catalog/price_changes.html"
    filter_form_id = "price-change-filter"

    def get_queryset(self) -> QuerySet[PriceChange]:
        return selectors.price_changes()


price_changes = PriceChangeListView.as_view()


class SyncRunListView(ListPageView):
    table_class = SyncRunTable
    template_name = "catalog/sync_runs.html"

    def get_queryset(self) -> QuerySet[SyncRun]:
        return selectors.sync_runs()

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        live = _sync_live_context(self.request)
        return super().get_context_data(
            can_sync=self.request.user.has_perm(p.RUN_SYNCS),
            **live,
            **context,
        )


sync_runs = SyncRunListView.as_view()

# How often the sync page's live part polls while a sync is queued or running (seconds).
SYNC_REFRESH_SECONDS = 2
# A sync queued by "Sync now" that no worker started within this long is reported as
# such, and the page stops waiting for it.
SYNC_QUEUE_PATIENCE = timedelta(minutes=5)


def _query_int(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None


def _sync_live_context(request: HttpRequest) -> dict[str, Any]:
    """What the sync page's live part shows: the running sync with its progress; else,
    after "Sync now" (`?after=<last run id>&at=<epoch seconds>`), the queued request
    until its run appears, then how that run ended. It polls only while a sync is
    running or queued."""
    running = selectors.running_sync()
    after = _query_int(request, "after")
    queued_at = _query_int(request, "at")
    requested = None
    queued = stalled = False
    if running is None and after is not None:
        requested = selectors.first_sync_run_after(run_id=after)
        if requested is None:
            started = datetime.fromtimestamp(queued_at, tz=UTC) if queued_at is not None else None
            stalled = started is None or timezone.now() - started > SYNC_QUEUE_PATIENCE
            queued = not stalled
    if running is not None and after is None:
        # Watch the running sync so that, once it ends, the page shows how it ended.
        after = running.pk - 1
    return {
        "running": running,
        "requested": requested,
        "queued": queued,
        "stalled": stalled,
        "polling": running is not None or queued,
        "live_query": urlencode({"after": after, "at": queued_at}) if after is not None else "",
        "refresh_seconds": SYNC_REFRESH_SECONDS,
        "queue_patience_minutes": int(SYNC_QUEUE_PATIENCE.total_seconds() // 60),
    }


@permission_required(p.VIEW)
@require_GET
def sync_live(request: HttpRequest) -> HttpResponse:
    """The sync page's live part (polled while a sync is queued or running)."""
    return render(request, "catalog/_sync_live.html", _sync_live_context(request))


@permission_required(p.VIEW)
def sync_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live progress partial; once the run has finished it renders without polling."""
    run = get_object_or_404(SyncRun, pk=pk)
    return render(request, "catalog/_sync_progress.html", {"run": run})


@permission_required(p.RUN_SYNCS)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    last_run_id = selectors.last_sync_run_id()
    try:
        services.catalog_sync_request(user=request.user)
    except services.SyncAlreadyRunning as exc:
        messages.info(request, str(exc))
        return redirect("catalog:sync_runs")
    messages.success(request, "Catalog sync queued.")
    query = urlencode({"after": last_run_id, "at": int(timezone.now().timestamp())})
    return redirect(f"{reverse('catalog:sync_runs')}?{query}")


class PricingRuleListView(ListPageView):
    table_class = PricingRuleTable
    template_name = "catalog/rule_list.html"
    permission_required = (p.MANAGE_PRICING,)

    def get_queryset(self) -> QuerySet[PricingRule]:
        return selectors.pricing_rules()


rule_list = PricingRuleListView.as_view()


def _rule_form(request: HttpRequest, rule: PricingRule | None) -> HttpResponse:
    form = PricingRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = services.pricing_rule_create(
                    rule=form.save(commit=False), user=request.user
                )
            else:
                saved = services.pricing_rule_update(
                    rule=form.save(commit=False), user=request.user
                )
        except services.PricingRuleConflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Pricing rule saved; selling prices recalculated ({saved}).")
            return redirect("catalog:rule_list")
    return render(
        request,
        "catalog/rule_form.html",
        {"form": form, "rule": rule, "brands": selectors.brand_names()},
    )


@permission_required(p.MANAGE_PRICING)
@require_POST
def rule_preview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The impact of the rule as typed in the form, computed without saving anything."""
    rule = get_object_or_404(PricingRule, pk=pk) if pk is not None else None
    form = PricingRuleForm(request.POST, instance=rule)
    preview = None
    if form.is_valid():
        preview = services.pricing_rule_preview(
            rule=form.save(commit=False), min_margin_percent=selectors.min_margin_percent()
        )
    return render(request, "catalog/_rule_preview.html", {"form": form, "preview": preview})


@permission_required(p.MANAGE_PRICING)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@permission_required(p.MANAGE_PRICING)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(PricingRule.objects.select_related("category", "product"), pk=pk)
    return _rule_form(request, rule)


@permission_required(p.MANAGE_PRICING)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(PricingRule.objects.select_related("category", "product"), pk=pk)
    if request.method == "POST":
        repriced = services.pricing_rule_delete(rule=rule, user=request.user)
        messages.success(request, f"Pricing rule deleted; {repriced} selling prices changed.")
        return redirect("catalog:rule_list")
    return render(request, "catalog/rule_confirm_delete.html", {"rule": rule})
