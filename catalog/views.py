"""Catalog pages: thin views over catalog.selectors and catalog.services."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from backoffice import permissions as p
from backoffice.audit import audit_record
from backoffice.auth import permission_required
from backoffice.models import AuditEvent
from backoffice.tables import export_response

from . import selectors, services
from .filters import CombinationFilter, PriceChangeFilter
from .forms import PricingRuleForm
from .models import PricingRule, SyncRun
from .tables import CombinationTable, PriceChangeTable, PricingRuleTable, SyncRunTable

PER_PAGE_CHOICES = (25, 50, 100)


def _per_page(request: HttpRequest, default: int = 50) -> int:
    try:
        value = int(request.GET.get("per_page", default))
    except ValueError:
        return default
    return value if value in PER_PAGE_CHOICES else default


@permission_required(p.VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    """Every orderable combination with its cost, selling price and margin."""
    filterset = CombinationFilter(request.GET, queryset=selectors.combination_list())
    table = CombinationTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": _per_page(request)}).configure(table)
    if request.GET.get("_export"):
        if not request.user.has_perm(p.EXPORT_DATA):
            raise PermissionDenied
        response = export_response(request, table, "catalog")
        if response is not None:
            audit_record(
                action=AuditEvent.Action.EXPORT,
                request=request,
                target_type="catalog.Combination",
                summary=f"Exported the catalog ({request.GET['_export']})",
                details={"filters": {k: v for k, v in request.GET.items() if k != "_export"}},
            )
            return response
    return render(
        request,
        "catalog/product_list.html",
        {
            "filter": filterset,
            "table": table,
            "min_margin": selectors.min_margin_percent(),
            "per_page_choices": PER_PAGE_CHOICES,
            "can_export": request.user.has_perm(p.EXPORT_DATA),
        },
    )


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
                {"t": product.first_seen_at.isoformat(), "net": str(change.old_net_price)}
            )
        points.append({"t": change.changed_at.isoformat(), "net": str(change.new_net_price)})
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


@permission_required(p.VIEW)
def price_changes(request: HttpRequest) -> HttpResponse:
    filterset = PriceChangeFilter(request.GET, queryset=selectors.price_changes())
    table = PriceChangeTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": _per_page(request)}).configure(table)
    return render(request, "catalog/price_changes.html", {"filter": filterset, "table": table})


@permission_required(p.VIEW)
def sync_runs(request: HttpRequest) -> HttpResponse:
    table = SyncRunTable(selectors.sync_runs())
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(
        request,
        "catalog/sync_runs.html",
        {
            "table": table,
            "running": selectors.running_sync(),
            "can_sync": request.user.has_perm(p.RUN_SYNCS),
        },
    )


@permission_required(p.VIEW)
def sync_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live progress partial; once the run has finished it renders without polling."""
    run = get_object_or_404(SyncRun, pk=pk)
    return render(request, "catalog/_sync_progress.html", {"run": run})


@permission_required(p.RUN_SYNCS)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    try:
        services.catalog_sync_request(user=request.user)
    except services.SyncAlreadyRunning as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, "Catalog sync queued: it appears below as soon as it starts.")
    return redirect("catalog:sync_runs")


@permission_required(p.MANAGE_PRICING)
def rule_list(request: HttpRequest) -> HttpResponse:
    table = PricingRuleTable(selectors.pricing_rules())
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "catalog/rule_list.html", {"table": table})


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
