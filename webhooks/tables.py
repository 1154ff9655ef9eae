from typing import Any

import django_tables2 as tables
from django.template.defaultfilters import truncatechars

from backoffice.tables import BadgeColumn, BaseTable, DateTimeColumn, SelectColumn, format_cell

from .models import WebhookEvent


class WebhookEventTable(BaseTable):
    select = SelectColumn(
        form="event-bulk", label=lambda record: f"event {record.event_id} ({record.type})"
    )
    received_at = DateTimeColumn(verbose_name="Received", seconds=True)
    event_id = tables.Column(linkify=True, verbose_name="Event")
    type = BadgeColumn()
    status = BadgeColumn()
    upstream_order_id = tables.Column(verbose_name="Licendi order")
    external_id = tables.Column(verbose_name="PO number")
    purchase_order = tables.Column(verbose_name="Purchase order")
    key_count = tables.Column(verbose_name="Keys")
    duplicate_count = tables.Column(verbose_name="Duplicates")
    attempts = tables.Column()
    error = tables.Column(orderable=False)

    class Meta(BaseTable.Meta):
        model = WebhookEvent
        fields = (
            "select",
            "received_at",
            "event_id",
            "type",
            "status",
            "upstream_order_id",
            "external_id",
            "purchase_order",
            "key_count",
            "duplicate_count",
            "attempts",
            "error",
        )
        order_by = ("-received_at",)
        row_attrs = {
            "data-status": lambda record: record.status,
            "data-event": lambda record: record.pk,
        }

    export_exclude = ("select",)

    def render_purchase_order(self, value: Any) -> str:
        return format_cell('<a href="{}">{}</a>', value.get_absolute_url(), value)

    def render_error(self, value: str) -> str:
        return truncatechars(value, 80)
