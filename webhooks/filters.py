from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from .models import WebhookEvent


class WebhookEventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookEvent.Status.choices)
    type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in sorted(WebhookEvent.KNOWN_TYPES)] + [("other", "other")],
        method="filter_type",
    )
    received = django_filters.DateFromToRangeFilter(
        field_name="received_at",
        label="Received between",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    order = django_filters.CharFilter(method="filter_order", label="Order id / PO number")

    class Meta:
        model = WebhookEvent
        fields = ["status", "type", "received", "order"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.form.fields.items():
            select = name in ("status", "type")
            css = "form-select form-select-sm" if select else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)
            for widget in getattr(field.widget, "widgets", ()):
                widget.attrs.setdefault("class", css)

    def filter_type(
        self, queryset: QuerySet[WebhookEvent], name: str, value: str
    ) -> QuerySet[WebhookEvent]:
        if value == "other":
            return queryset.exclude(type__in=WebhookEvent.KNOWN_TYPES)
        return queryset.filter(type=value)

    def filter_order(
        self, queryset: QuerySet[WebhookEvent], name: str, value: str
    ) -> QuerySet[WebhookEvent]:
        value = value.strip()
        return queryset.filter(Q(upstream_order_id=value) | Q(external_id=value))
