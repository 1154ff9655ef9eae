"""Filters of the audit log page."""

import django_filters
from django.db.models import Q, QuerySet

from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices)
    user = django_filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label="User")
    # ?date_after=YYYY-MM-DD&date_before=YYYY-MM-DD (the end day is included).
    date = django_filters.DateFromToRangeFilter(field_name="created_at", label="Date")
    target = django_filters.CharFilter(method="filter_target", label="Target")

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
