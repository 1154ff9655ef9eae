"""Pages for customers, purchase orders and licence keys. Thin: parse, call, render."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.exports import ExportColumn, export_response
from backoffice.lists import ListPageView, configure_table

from . import selectors, services
from .filters import CustomerFilter, PurchaseOrderFilter
from .forms import CustomerForm, DraftForm, KeyAssignForm, LineForm, NewOrderForm, RejectForm
from .models import Customer, LicenceKey, PurchaseOrder, UnexpectedKey
from .tables import CustomerTable, PurchaseOrderTable, StockKeyTable


class StaffRequest(HttpRequest):
    """A request that passed `permission_required`: its user is signed in."""

    user: User


# ----------------------------------------------------------------- purchase orders


class PurchaseOrderListView(ListPageView):
    table_class = PurchaseOrderTable
    filterset_class = PurchaseOrderFilter
    template_name = "orders/po_list.html"
    filter_form_id = "po-filter"
    export_filename = "purchase-orders"
    export_title = "the purchase orders"

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_order_list()


po_list = PurchaseOrderListView.as_view()


def _builder_context(po: PurchaseOrder | None) -> dict[str, Any]:
    """The order builder; the wallet balance beside it comes from the wallet's context
    processor (wallet_known, wallet_balance, ...), compared with `po_total`."""
    return {
        "po": po,
        # What confirming will do (approval or payment), said by the confirm dialog.
        "confirm_message": services.purchase_order_confirm_summary(po=po) if po else "",
        "po_total": po.total if po is not None else Decimal("0.00"),
        "line_form": LineForm(initial={"quantity": 1}),
    }


@permission_required(p.PLACE_ORDERS)
def po_create(request: StaffRequest) -> HttpResponse:
    """A new draft, optionally starting with `?add=<order_sku>` from the catalog."""
    if request.method == "POST":
        form = NewOrderForm(request.POST)
        if form.is_valid():
            po = services.purchase_order_create(
                user=request.user,
                customer=form.cleaned_data["customer"],
                note=form.cleaned_data["note"],
            )
            sku = (form.cleaned_data.get("order_sku") or "").strip()
            if sku:
                try:
                    services.purchase_order_line_set(
                        purchase_order_id=po.pk,
                        order_sku=sku,
                        quantity=form.cleaned_data.get("quantity") or 1,
                    )
                except services.OrdersError as exc:
                    messages.error(request, str(exc))
            return redirect("orders:po_edit", pk=po.pk)
    else:
        initial = {"order_sku": request.GET.get("add", ""), "quantity": 1}
        customer_id = request.GET.get("customer", "")
        if customer_id.isdigit():
            initial["customer"] = Customer.objects.filter(pk=customer_id).first()
        form = NewOrderForm(initial=initial)
    context = _builder_context(None)
    context["form"] = form
    return render(request, "orders/po_create.html", context)


@permission_required(p.PLACE_ORDERS)
def po_edit(request: StaffRequest, pk: int) -> HttpResponse:
    po = get_object_or_404(PurchaseOrder, pk=pk)
    if not po.is_editable:
        return redirect(po)
    if request.method == "POST":
        form = DraftForm(request.POST)
        if form.is_valid():
            try:
                services.purchase_order_update(
                    purchase_order_id=po.pk,
                    customer=form.cleaned_data["customer"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, "Draft saved.")
            except services.OrdersError as exc:
                messages.error(request, str(exc))
            return redirect("orders:po_edit", pk=po.pk)
    else:
        form = DraftForm(initial={"customer": po.customer, "note": po.note})
    po = selectors.purchase_order_detail(pk=pk)
    context = _builder_context(po)
    context["form"] = form
    context["add_sku"] = request.GET.get("add", "")
    return render(request, "orders/po_edit.html", context)


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_line_set(request: StaffRequest, pk: int) -> HttpResponse:
    form = LineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an order sku and a quantity between 0 and 1000.")
        return redirect("orders:po_edit", pk=pk)
    try:
        services.purchase_order_line_set(
            purchase_order_id=pk,
            order_sku=form.cleaned_data["order_sku"],
            quantity=form.cleaned_data["quantity"],
        )
    except services.OrdersError as exc:
        messages.error(request, str(exc))
    return redirect("orders:po_edit", pk=pk)


@permission_required(p.PLACE_ORDERS)
@require_GET
def combination_search(request: StaffRequest) -> HttpResponse:
    results = selectors.combination_search(query=request.GET.get("q", ""))
    return render(
        request,
        "orders/_combination_results.html",
        {"results": results, "po_id": request.GET.get("po", "")},
    )


# How often the PO page polls while background work is in flight (seconds).
PO_REFRESH_SECONDS = 3


def _po_detail_context(request: StaffRequest, pk: int) -> dict[str, Any]:
    try:
        po = selectors.purchase_order_detail(pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404("No such purchase order") from exc
    user = request.user
    return {
        "po": po,
        "confirm_message": services.purchase_order_confirm_summary(po=po) if po.is_editable else "",
        "in_flight": po.is_in_flight,
        "refresh_seconds": PO_REFRESH_SECONDS,
        "reject_form": RejectForm(),
        "can_place": user.has_perm(p.PLACE_ORDERS) and not po.is_read_only,
        "can_approve": user.has_perm(p.APPROVE_ORDERS)
        and user.pk not in (po.created_by_id, po.confirmed_by_id),
        "can_reveal": user.has_perm(p.REVEAL_KEYS),
        "cancellable": po.status in services.CANCELLABLE and not po.is_read_only,
        "unresolved": po.status in services.UNRESOLVED and not po.is_read_only,
        "can_decide_keys": user.has_perm(p.APPROVE_ORDERS),
        "can_approve_not_placed": user.has_perm(p.APPROVE_ORDERS)
        and po.not_placed_requested_by_id not in (None, user.pk),
    }


@permission_required(p.VIEW)
@require_GET
def po_detail(request: StaffRequest, pk: int) -> HttpResponse:
    return render(request, "orders/po_detail.html", _po_detail_context(request, pk))


@permission_required(p.VIEW)
@require_GET
def po_live(request: StaffRequest, pk: int) -> HttpResponse:
    """The PO page's live part, polled while the PO is in flight."""
    return render(request, "orders/_po_live.html", _po_detail_context(request, pk))


def _po_action(
    request: StaffRequest, pk: int, action: Callable[..., services.Outcome], **kwargs: Any
) -> HttpResponse:
    try:
        outcome = action(purchase_order_id=pk, user=request.user, **kwargs)
    except services.PurchaseOrderNotFound as exc:
        raise Http404(str(exc)) from exc
    except services.OrdersError as exc:
        messages.error(request, str(exc))
        return redirect("orders:po_detail", pk=pk)
    (messages.success if outcome.changed else messages.info)(request, outcome.message)
    return redirect("orders:po_detail", pk=pk)


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_confirm(request: StaffRequest, pk: int) -> HttpResponse:
    return _po_action(request, pk, services.purchase_order_confirm)


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_reconfirm(request: StaffRequest, pk: int) -> HttpResponse:
    return _po_action(request, pk, services.purchase_order_reconfirm)


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    return _po_action(request, pk, services.purchase_order_cancel)


@permission_required(p.APPROVE_ORDERS)
@require_POST
def po_approve(request: StaffRequest, pk: int) -> HttpResponse:
    return _po_action(request, pk, services.purchase_order_approve)


@permission_required(p.APPROVE_ORDERS)
@require_POST
def po_reject(request: StaffRequest, pk: int) -> HttpResponse:
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _po_action(request, pk, services.purchase_order_reject, reason=reason)


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_check_upstream(request: StaffRequest, pk: int) -> HttpResponse:
    """Ask Licendi now whether it has this unresolved PO's order."""
    return _po_action(request, pk, services.purchase_order_check_upstream)


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_not_placed_request(request: StaffRequest, pk: int) -> HttpResponse:
    return _po_action(request, pk, services.purchase_order_not_placed_request)


@permission_required(p.APPROVE_ORDERS)
@require_POST
def po_not_placed_approve(request: StaffRequest, pk: int) -> HttpResponse:
    return _po_action(request, pk, services.purchase_order_not_placed_approve)


@permission_required(p.APPROVE_ORDERS)
@require_POST
def unexpected_key_decide(request: StaffRequest, pk: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    try:
        key = services.unexpected_key_decide(
            unexpected_key_id=pk, decision=decision, user=request.user
        )
    except UnexpectedKey.DoesNotExist as exc:
        raise Http404("No such key") from exc
    except services.OrdersError as exc:
        messages.error(request, str(exc))
        return redirect("orders:po_list")
    messages.success(request, f"Unexpected key {key.key_masked}: {key.get_decision_display()}.")
    return redirect("orders:po_detail", pk=key.purchase_order_id)


@permission_required(p.RUN_SYNCS)
@require_POST
def po_sync(request: StaffRequest) -> HttpResponse:
    """Import outside orders and poll pending ones now instead of waiting for beat."""
    services.purchase_orders_sync_request()
    messages.info(request, "Order import and key polling started.")
    return redirect("orders:po_list")


# ----------------------------------------------------------------- keys

_Response = TypeVar("_Response", bound=HttpResponseBase)


def _no_store(response: _Response) -> _Response:
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


@permission_required(p.REVEAL_KEYS)
@require_POST
def key_reveal(request: StaffRequest, pk: int) -> HttpResponse:
    """htmx swap of one masked key for its clear value (audited)."""
    try:
        key, value = services.licence_key_reveal(key_id=pk, user=request.user)
    except LicenceKey.DoesNotExist as exc:
        raise Http404("No such key") from exc
    response = render(request, "orders/_key_revealed.html", {"key": key, "value": value})
    return _no_store(response)


@permission_required(p.REVEAL_KEYS)
@require_POST
def key_copied(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        services.licence_key_copied(key_id=pk, user=request.user)
    except LicenceKey.DoesNotExist as exc:
        raise Http404("No such key") from exc
    return HttpResponse(status=204)


@permission_required(p.MANAGE_CUSTOMERS)
@require_POST
def key_assign(request: StaffRequest, pk: int) -> HttpResponse:
    form = KeyAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a customer.")
        return redirect("orders:key_stock")
    try:
        services.licence_key_assign(
            key_id=pk, customer=form.cleaned_data["customer"], user=request.user
        )
    except LicenceKey.DoesNotExist as exc:
        raise Http404("No such key") from exc
    except services.OrdersError as exc:
        messages.error(request, str(exc))
        return redirect("orders:key_stock")
    messages.success(request, f"Key assigned to {form.cleaned_data['customer']}.")
    return redirect("orders:key_stock")


class StockKeyListView(ListPageView):
    table_class = StockKeyTable
    template_name = "orders/key_stock.html"

    def get_queryset(self) -> QuerySet[LicenceKey]:
        return selectors.stock_keys()

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return super().get_context_data(
            assign_form=KeyAssignForm(),
            can_assign=self.request.user.has_perm(p.MANAGE_CUSTOMERS),
            **context,
        )


key_stock = StockKeyListView.as_view()


# ----------------------------------------------------------------- customers


class CustomerListView(ListPageView):
    table_class = CustomerTable
    filterset_class = CustomerFilter
    template_name = "orders/customer_list.html"
    filter_form_id = "customer-search"

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list()


customer_list = CustomerListView.as_view()


@permission_required(p.MANAGE_CUSTOMERS)
def customer_create(request: StaffRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer = services.customer_create(**form.cleaned_data)
        messages.success(request, f"Customer {customer} created.")
        return redirect(customer)
    return render(request, "orders/customer_form.html", {"form": form, "customer": None})


@permission_required(p.MANAGE_CUSTOMERS)
def customer_edit(request: StaffRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        services.customer_update(customer=get_object_or_404(Customer, pk=pk), **form.cleaned_data)
        messages.success(request, "Customer saved.")
        return redirect("orders:customer_detail", pk=pk)
    return render(request, "orders/customer_form.html", {"form": form, "customer": customer})


@permission_required(p.VIEW)
@require_GET
def customer_detail(request: StaffRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    orders = PurchaseOrderTable(selectors.customer_orders(customer=customer), prefix="po-")
    configure_table(request, orders)
    return render(
        request,
        "orders/customer_detail.html",
        {
            "customer": customer,
            "orders": orders,
            "keys": selectors.customer_keys(customer=customer),
            "email_failures": selectors.customer_key_email_failures(customer=customer),
            "can_reveal": request.user.has_perm(p.REVEAL_KEYS),
            "can_manage": request.user.has_perm(p.MANAGE_CUSTOMERS),
        },
    )


@permission_required(p.REVEAL_KEYS)
@require_POST
def customer_keys_export(request: StaffRequest, pk: int) -> HttpResponseBase:
    """The customer's keys in clear as CSV: POST, since each key exported is audited."""
    customer = get_object_or_404(Customer, pk=pk)
    header, *rows = services.customer_keys_export_rows(customer=customer, user=request.user)
    columns = [
        ExportColumn(header=str(title), value=itemgetter(index))
        for index, title in enumerate(header)
    ]
    response = export_response(
        fmt="csv", filename=f"customer-{customer.pk}-keys", columns=columns, rows=rows
    )
    return _no_store(response)


@permission_required(p.REVEAL_KEYS)
@require_POST
def customer_keys_email(request: StaffRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    try:
        sent = services.customer_keys_email(customer=customer, user=request.user)
    except services.OrdersError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{sent} key(s) emailed to {customer.email}.")
    return redirect(customer)
