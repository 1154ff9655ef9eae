"""Filters of the purchase order and customer lists (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from backoffice.lists import ListFilterSet

from .models import Customer, PurchaseOrder


class PurchaseOrderFilter(ListFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="PO number / Licendi order")
    status = django_filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    source = django_filters.ChoiceFilter(choices=PurchaseOrder.Source.choices)
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.order_by("name"))
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Created from / to",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = PurchaseOrder
        fields = ["q", "status", "source", "customer", "created"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(external_id__icontains=value) | Q(upstream_id__icontains=value))


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

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(company__icontains=value)
            | Q(email__icontains=value)
            | Q(vat_id__icontains=value)
        )
