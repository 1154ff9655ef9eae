"""Filters of the ledger page (django-filter)."""

import django_filters
from django.db.models import Q, QuerySet

from backoffice.lists import ListFilterSet
from orders.models import PurchaseOrder

from . import selectors
from .models import LedgerEntry


class LedgerFilter(ListFilterSet):
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Date (from / to)",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    type = django_filters.ChoiceFilter(choices=LedgerEntry.Type.choices, label="Type")
    matched = django_filters.ChoiceFilter(
        choices=(("yes", "Matched to a PO"), ("no", "No PO")),
        method="filter_matched",
        label="Purchase order",
    )
    amount = django_filters.RangeFilter(field_name="amount", label="Amount (min / max)")
    q = django_filters.CharFilter(method="filter_reference", label="Reference or PO number")

    class Meta:
        model = LedgerEntry
        fields: list[str] = []

    def filter_matched(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.ledger_filter_matched(queryset, matched=value == "yes")

    def filter_reference(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Prefix of the upstream order id, an exact ledger id, or one of our PO numbers.

        Prefix and exact matches use the indexes; a free-text search of descriptions
        would scan the whole ledger.
        """
        term = value.strip()
        if not term:
            return queryset
        # PO numbers are matched exactly (their unique index), as typed or upper-cased.
        po_upstream_ids = list(
            PurchaseOrder.objects.filter(
                external_id__in={term, term.upper()}, upstream_id__isnull=False
            ).values_list("upstream_id", flat=True)
        )
        if po_upstream_ids:
            return queryset.filter(reference__in=po_upstream_ids)
        return queryset.filter(Q(reference__startswith=term) | Q(upstream_id=term))
