"""Pages for customers, purchase orders and licence keys. Thin: parse, call, render."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.bulk import MAX_SELECTED, BulkOutcome, parse_id, report, selected_ids
from backoffice.exports import ExportColumn, export_response
from backoffice.lists import ListPageView, configure_table
from catalog.selectors import min_margin_percent

from . import selectors, services
from .filters import CustomerFilter, PurchaseOrderFilter
from .forms import (
    CustomerForm,
    DraftForm,
    KeyAssignForm,
    KeyBulkAssignForm,
    LineForm,
    NewOrderForm,
    RejectForm,
)
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


def _builder_context(request: StaffRequest, po: PurchaseOrder | None) -> dict[str, Any]:
    """The order builder; the wallet balance beside it comes from the wallet's context
    processor (wallet_known, wallet_balance, ...), compared with `po_total`. A `?q=` in
    the page's own URL (the search form sent without htmx) lists the results here."""
    context = {
        "po": po,
        # What confirming will do (approval or payment), said by the confirm dialog.
        "confirm_message": services.purchase_order_confirm_summary(po=po) if po else "",
        "po_total": po.total if po is not None else Decimal("0.00"),
        "line_form": LineForm(initial={"quantity": 1}),
    }
    context.update(_search_context(request, po_id=po.pk if po is not None else None))
    return context


# Deepest result a search may page to ("More results" 20 at a time).
MAX_SEARCH_OFFSET = 10_000


def _search_context(request: HttpRequest, *, po_id: int | None) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()[:100]
    offset = min(parse_id(request.GET.get("offset", ""), digits=6) or 0, MAX_SEARCH_OFFSET)
    results, has_more = selectors.combination_search(query=query, offset=offset)
    more = {"q": query, "offset": offset + len(results)}
    if po_id is not None:
        more["po"] = po_id
    return {
        "search_query": query,
        "results": results,
        "has_more": has_more,
        "offset": offset,
        "more_query": urlencode(more),
        "po_id": po_id or "",
        "builder_url": reverse("orders:po_edit", args=[po_id])
        if po_id is not None
        else reverse("orders:po_create"),
        "min_margin": min_margin_percent(),
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
    context = _builder_context(request, None)
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
    context = _builder_context(request, po)
    context["form"] = form
    context["add_sku"] = request.GET.get("add", "")
    return render(request, "orders/po_edit.html", context)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@permission_required(p.PLACE_ORDERS)
@require_POST
def po_line_set(request: StaffRequest, pk: int) -> HttpResponse:
    """Add, change or remove a line. From htmx the answer is the lines card (with the
    total and the confirm box out of band); from a plain form, a redirect to the draft."""
    form = LineForm(request.POST)
    error = done = ""
    if not form.is_valid():
        error = "Give an order sku and a quantity between 0 and 1000."
    else:
        sku, quantity = form.cleaned_data["order_sku"], form.cleaned_data["quantity"]
        try:
            services.purchase_order_line_set(purchase_order_id=pk, order_sku=sku, quantity=quantity)
        except services.PurchaseOrderNotFound as exc:
            raise Http404(str(exc)) from exc
        except services.OrdersError as exc:
            error = str(exc)
        else:
            done = f"{sku} removed." if quantity == 0 else f"{sku}: quantity {quantity}."
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect("orders:po_edit", pk=pk)
    po = selectors.purchase_order_detail(pk=pk)
    context = _builder_context(request, po)
    context.update(line_error=error, line_done=done)
    response = render(request, "orders/_po_lines_update.html", context)
    if not po.is_editable:
        # Confirmed or discarded meanwhile (another tab): show the PO as it is now.
        response["HX-Redirect"] = po.get_absolute_url()
    return response


@permission_required(p.PLACE_ORDERS)
@require_GET
def combination_search(request: StaffRequest) -> HttpResponse:
    """The builder's search results (htmx); `rows=1` answers only the rows of the next
    page, appended in place of the "More results" row."""
    po_id = parse_id(request.GET.get("po", ""))
    template = "orders/_combination_rows.html" if request.GET.get("rows") else None
    return render(
        request,
        template or "orders/_combination_results.html",
        _search_context(request, po_id=po_id),
    )


def _add_selected_items(request: StaffRequest, outcome: BulkOutcome) -> list[tuple[str, int]]:
    """(order sku, quantity) pairs of the add-selected form; a quantity that is not a
    whole number is refused."""
    skus = [sku.strip()[:100] for sku in request.POST.getlist("sku")][: MAX_SELECTED + 1]
    quantities = request.POST.getlist("quantity")
    items: list[tuple[str, int]] = []
    for index, sku in enumerate(skus):
        if index >= MAX_SELECTED:
            outcome.refuse(sku, f"more than {MAX_SELECTED} selected")
            break
        quantity = parse_id(quantities[index], digits=6) if index < len(quantities) else 1
        if quantity is None:
            outcome.refuse(sku, "the quantity is not a whole number")
            continue
        items.append((sku, quantity))
    return items


@permission_required(p.PLACE_ORDERS)
def po_add_selected(request: StaffRequest) -> HttpResponse:
    """Catalog rows selected on the catalog list onto a new draft or one of the user's
    drafts: GET shows them with quantities (1 each) and the choice of draft; POST adds."""
    if request.method == "POST":
        outcome = BulkOutcome(noun="item")
        items = _add_selected_items(request, outcome)
        target = request.POST.get("purchase_order", "new")
        po_id = parse_id(target)
        if not items and not outcome.refused:
            messages.error(request, "Select at least one catalog item.")
            return redirect("catalog:product_list")
        if po_id is None and target != "new":
            messages.error(request, "Choose a new draft or one of your drafts.")
            return redirect("catalog:product_list")
        try:
            po, outcome = services.purchase_order_lines_add(
                user=request.user, items=items, purchase_order_id=po_id, outcome=outcome
            )
        except services.OrdersError as exc:
            messages.error(request, f"Nothing added: {exc}.")
            return redirect("catalog:product_list")
        report(request, outcome, f"added to {po}" if po is not None else "added")
        if po is None:
            return redirect("catalog:product_list")
        return redirect("orders:po_edit", pk=po.pk)
    skus = list(dict.fromkeys(sku.strip()[:100] for sku in request.GET.getlist("sku")))
    found = selectors.combinations_by_order_sku(order_skus=skus[:MAX_SELECTED])
    rows = [(sku, found.get(sku)) for sku in skus[:MAX_SELECTED]]
    return render(
        request,
        "orders/po_add_selected.html",
        {
            "rows": rows,
            "orderable": any(
                combo is not None and combo.is_active and combo.product.is_active
                for _sku, combo in rows
            ),
            "too_many": len(skus) > MAX_SELECTED,
            "drafts": selectors.drafts_of(user=request.user),
            "min_margin": min_margin_percent(),
        },
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


@permission_required(p.MANAGE_CUSTOMERS)
@require_POST
def keys_assign_selected(request: StaffRequest) -> HttpResponse:
    """Assign the keys selected on the stock list to one customer (each audited as a
    single assignment), and e-mail them to the customer when asked (Key custodian)."""
    form = KeyBulkAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a customer.")
        return redirect("orders:key_stock")
    customer = form.cleaned_data["customer"]
    email = form.cleaned_data["email"]
    if email and not request.user.has_perm(p.REVEAL_KEYS):
        messages.error(request, "Nothing assigned: e-mailing keys needs the Key custodian role.")
        return redirect("orders:key_stock")
    outcome = BulkOutcome(noun="key")
    ids = selected_ids(request.POST.getlist("ids"), outcome)
    if not ids and not outcome.refused:
        messages.error(request, "Select at least one key.")
        return redirect("orders:key_stock")
    services.licence_keys_assign(key_ids=ids, customer=customer, user=request.user, outcome=outcome)
    report(request, outcome, f"assigned to {customer}")
    if email and outcome.done:
        _email_selected(request, customer, list(outcome.done))
    return redirect("orders:key_stock")


def _email_selected(
    request: StaffRequest, customer: Customer, ids: list[int], outcome: BulkOutcome | None = None
) -> None:
    outcome = outcome if outcome is not None else BulkOutcome(noun="key")
    try:
        services.customer_keys_email_selected(
            customer=customer, key_ids=ids, user=request.user, outcome=outcome
        )
    except services.OrdersError as exc:
        messages.error(request, f"No key e-mailed: {exc}")
        return
    report(request, outcome, f"e-mailed to {customer.email}")


class StockKeyListView(ListPageView):
    table_class = StockKeyTable
    template_name = "orders/key_stock.html"

    def get_queryset(self) -> QuerySet[LicenceKey]:
        return selectors.stock_keys()

    def get_table(self, rows: QuerySet[LicenceKey]) -> StockKeyTable:
        table = StockKeyTable(rows)
        if not self.request.user.has_perm(p.MANAGE_CUSTOMERS):
            table.columns.hide("select")
        return table

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        user = self.request.user
        return super().get_context_data(
            assign_form=KeyAssignForm(),
            bulk_form=KeyBulkAssignForm(),
            # "Assign keys from stock" on a customer's page comes with ?customer=<id>.
            chosen_customer=parse_id(self.request.GET.get("customer", "")),
            can_assign=user.has_perm(p.MANAGE_CUSTOMERS),
            can_email=user.has_perm(p.REVEAL_KEYS),
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


@permission_required(p.REVEAL_KEYS)
@require_POST
def customer_keys_email_chosen(request: StaffRequest, pk: int) -> HttpResponse:
    """E-mail the customer the keys selected on their page (one e-mail, each key audited)."""
    customer = get_object_or_404(Customer, pk=pk)
    outcome = BulkOutcome(noun="key")
    ids = selected_ids(request.POST.getlist("ids"), outcome)
    if not ids and not outcome.refused:
        messages.error(request, "Select at least one key.")
    else:
        _email_selected(request, customer, ids, outcome)
    return redirect(customer)
