import django_filters
from django.db.models import Q, QuerySet

from backoffice import badges
from backoffice.lists import ListFilterSet

from .models import WebhookEvent

EVENT_TYPE = "webhooks.WebhookEvent.type"


class WebhookEventFilter(ListFilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookEvent.Status.choices)
    type = django_filters.ChoiceFilter(
        choices=badges.choices(EVENT_TYPE, [*sorted(WebhookEvent.KNOWN_TYPES), "other"]),
        method="filter_type",
    )
    received = django_filters.DateFromToRangeFilter(
        field_name="received_at",
        label="Received from / to",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    order = django_filters.CharFilter(method="filter_order", label="Order id / PO number")

    class Meta:
        model = WebhookEvent
        fields = ["status", "type", "received", "order"]

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
