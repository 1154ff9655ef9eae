"""Filters of the catalog list (django-filter), all translated to indexed SQL."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from backoffice.lists import ListFilterSet

from . import selectors
from .models import Combination, PriceChange, Product

YES_NO = [("", "Any"), ("true", "Yes"), ("false", "No")]


class CombinationFilter(ListFilterSet):
    STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive"), ("all", "All")]

    q = django_filters.CharFilter(method="filter_search", label="Search")
    # Choices set per request from the cache (filter_choices), not read from the tables.
    category = django_filters.ChoiceFilter(field_name="product__category", label="Category")
    brand = django_filters.ChoiceFilter(field_name="product__brand", label="Brand")
    in_stock = django_filters.BooleanFilter(widget=forms.Select(choices=YES_NO), label="In stock")
    has_variants = django_filters.BooleanFilter(
        field_name="product__has_variants",
        widget=forms.Select(choices=YES_NO),
        label="Has variants",
    )
    below_margin = django_filters.BooleanFilter(
        method="filter_below_margin",
        widget=forms.Select(choices=YES_NO),
        label="Below min. margin",
    )
    changed_within = django_filters.NumberFilter(
        method="filter_changed_within",
        label="Price changed in last N days",
        min_value=1,
        max_value=3650,
    )
    status = django_filters.ChoiceFilter(
        method="filter_status", choices=STATUS_CHOICES, empty_label=None, label="Status"
    )

    class Meta:
        model = Combination
        fields: list[str] = []

    def filter_choices(self) -> dict[str, list[tuple[str, str]]]:
        choices = selectors.filter_choices_cached()
        return {
            "brand": [(brand, brand) for brand in choices["brands"]],
            "category": [(str(pk), name) for pk, name in choices["categories"]],
        }

    def filter_search(
        self, queryset: QuerySet[Combination], name: str, value: str
    ) -> QuerySet[Combination]:
        value = value.strip()
        if not value:
            return queryset
        # Match products first (20,000 rows) and join their combinations, rather than
        # test the product's name on each of 60,000 joined combination rows.
        # An order sku starts with its product's sku, so only a value naming options
        # ("13200::0") needs the combination column; keeping the OR out lets PostgreSQL
        # plan a semi-join instead of walking the name index past every row.
        if "::" in value:
            return queryset.filter(order_sku__startswith=value)
        if self.search_products_within is not None:
            # Every one of these products matches the search (see searched_products).
            return queryset.filter(product_id__in=self.search_products_within)
        products = Product.objects.filter(self.product_match(value)).values("pk")
        return queryset.filter(product__in=products)

    @staticmethod
    def product_match(value: str) -> Q:
        """Products named, branded or with a sku starting like `value` (stripped)."""
        return Q(name__icontains=value) | Q(brand__icontains=value) | Q(sku__startswith=value)

    # Set by the list page to the first matching products in name order, so that a page
    # of a search is read from them rather than from every match (ProductListView).
    search_products_within: list[int] | None = None

    def searched_products(self) -> QuerySet[Product] | None:
        """The products a valid search by name, brand or sku selects (None: no such
        search; a value naming options filters combinations instead)."""
        if not self.is_valid():
            return None
        value = (self.form.cleaned_data.get("q") or "").strip()
        if not value or "::" in value:
            return None
        return Product.objects.filter(self.product_match(value))

    def rows_within(self, products: list[int]) -> QuerySet[Combination]:
        """The filtered rows, with the search answered by `products` (matching products)."""
        self.search_products_within = products
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self.search_products_within = None

    def filter_below_margin(
        self, queryset: QuerySet[Combination], name: str, value: bool | None
    ) -> QuerySet[Combination]:
        if value is None:
            return queryset
        condition = selectors.below_min_margin()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_changed_within(
        self, queryset: QuerySet[Combination], name: str, value: object
    ) -> QuerySet[Combination]:
        if not value:
            return queryset
        since = timezone.now() - timedelta(days=int(value))  # type: ignore[call-overload]
        return queryset.filter(price_changed_at__gte=since)

    def filter_status(
        self, queryset: QuerySet[Combination], name: str, value: str
    ) -> QuerySet[Combination]:
        return queryset  # applied in filter_queryset so that the default holds when absent

    def filter_queryset(self, queryset: QuerySet[Combination]) -> QuerySet[Combination]:
        queryset = super().filter_queryset(queryset)
        status = self.form.cleaned_data.get("status") or "active"
        if status == "active":
            return queryset.filter(is_active=True)
        if status == "inactive":
            return queryset.filter(is_active=False)
        return queryset


class PriceChangeFilter(ListFilterSet):
    DAY_CHOICES = [
        ("1", "24 hours"),
        ("7", "7 days"),
        ("30", "30 days"),
        ("90", "90 days"),
        ("0", "All"),
    ]
    DEFAULT_DAYS = 30

    days = django_filters.ChoiceFilter(
        method="filter_days", choices=DAY_CHOICES, empty_label=None, label="Period"
    )
    below_margin = django_filters.BooleanFilter(
        method="filter_below_margin",
        widget=forms.Select(choices=YES_NO),
        label="Now below min. margin",
    )
    q = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = PriceChange
        fields: list[str] = []

    def filter_days(
        self, queryset: QuerySet[PriceChange], name: str, value: str
    ) -> QuerySet[PriceChange]:
        return queryset  # applied in filter_queryset so that the default holds when absent

    def filter_below_margin(
        self, queryset: QuerySet[PriceChange], name: str, value: bool | None
    ) -> QuerySet[PriceChange]:
        if value is None:
            return queryset
        below = selectors.below_min_margin(path="combination__")
        return queryset.filter(below) if value else queryset.exclude(below)

    def filter_search(
        self, queryset: QuerySet[PriceChange], name: str, value: str
    ) -> QuerySet[PriceChange]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(combination__product__name__icontains=value)
            | Q(combination__order_sku__istartswith=value)
        )

    def filter_queryset(self, queryset: QuerySet[PriceChange]) -> QuerySet[PriceChange]:
        queryset = super().filter_queryset(queryset)
        raw = self.form.cleaned_data.get("days")
        days = self.DEFAULT_DAYS if raw in (None, "") else int(raw)
        if days:
            queryset = queryset.filter(changed_at__gte=timezone.now() - timedelta(days=days))
        return queryset
