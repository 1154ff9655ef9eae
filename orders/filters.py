"""Filters of the purchase order and customer lists (django-filter)."""

from datetime import timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from backoffice.lists import ListFilterSet

from . import selectors
from .models import Customer, PurchaseOrder


class PurchaseOrderFilter(ListFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="PO number / Licendi order")
    status = django_filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    source = django_filters.ChoiceFilter(choices=PurchaseOrder.Source.choices)
    # Choices set per request from the list cache (filter_choices), not read every page.
    customer = django_filters.ChoiceFilter(field_name="customer")
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Created from / to",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    awaiting_keys_hours = django_filters.NumberFilter(
        method="filter_awaiting_keys",
        label="Awaiting keys for over (hours)",
        min_value=0,
        max_value=24 * 365,
    )

    attention = django_filters.ChoiceFilter(
        method="filter_attention",
        label="Needs attention",
        choices=[
            ("review", "Flagged for review"),
            ("unexpected_keys", "Unexpected keys to decide"),
        ],
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "q",
            "status",
            "source",
            "customer",
            "created",
            "awaiting_keys_hours",
            "attention",
        ]

    def filter_choices(self) -> dict[str, list[tuple[str, str]]]:
        return {"customer": selectors.customer_choices_cached()}

    def filter_q(
        self, queryset: QuerySet[PurchaseOrder], name: str, value: str
    ) -> QuerySet[PurchaseOrder]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(external_id__icontains=value) | Q(upstream_id__icontains=value))

    def filter_awaiting_keys(
        self, queryset: QuerySet[PurchaseOrder], name: str, value: Decimal | None
    ) -> QuerySet[PurchaseOrder]:
        if value is None:
            return queryset
        since = timezone.now() - timedelta(hours=float(value))
        return selectors.purchase_orders_awaiting_keys_before(queryset, before=since)

    def filter_attention(
        self, queryset: QuerySet[PurchaseOrder], name: str, value: str
    ) -> QuerySet[PurchaseOrder]:
        if value == "review":
            return selectors.purchase_orders_needing_review(queryset)
        if value == "unexpected_keys":
            return selectors.purchase_orders_with_unexpected_keys(queryset)
        return queryset


class CustomerFilter(ListFilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, company, email, VAT id"}
        ),
    )

    class Meta:
        model = Customer
        fields = ["q"]

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(company__icontains=value)
            | Q(email__icontains=value)
            | Q(vat_id__icontains=value)
        )
