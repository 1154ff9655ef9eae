"""Filters of the audit log page."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from .lists import ListFilterSet
from .models import AuditEvent


class AuditEventFilter(ListFilterSet):
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, empty_label="Any")
    user = django_filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label="User")
    # ?date_after=YYYY-MM-DD&date_before=YYYY-MM-DD (the end day is included).
    date = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Date from / to",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    target = django_filters.CharFilter(
        method="filter_target",
        label="Target",
        widget=forms.TextInput(attrs={"list": "target-types", "placeholder": "type:id or id"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "user", "date", "target"]

    def filter_target(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        """`orders.PurchaseOrder:12` is one object; anything else matches a type or an id."""
        value = value.strip()
        if ":" in value:
            target_type, target_id = value.rsplit(":", 1)
            return queryset.filter(target_type__iexact=target_type, target_id=target_id)
        return queryset.filter(Q(target_type__icontains=value) | Q(target_id=value))
