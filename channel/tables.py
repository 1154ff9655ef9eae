"""django-tables2 tables of the channel pages."""

from __future__ import annotations

import django_tables2 as tables

from backoffice.tables import BaseTable, DateTimeColumn

from .models import ChannelCall


class ChannelCallTable(BaseTable):
    at = DateTimeColumn(seconds=True, verbose_name="When")
    method = tables.Column()
    path = tables.Column()
    action = tables.Column()
    status = tables.Column(verbose_name="Status")
    error_code = tables.Column(verbose_name="Error")
    idempotency_key = tables.Column(verbose_name="Idempotency-Key")
    duration_ms = tables.Column(verbose_name="ms")
    fulfilment = tables.Column(accessor="fulfilment_id", verbose_name="Fulfilment")

    class Meta(BaseTable.Meta):
        model = ChannelCall
        fields = (
            "at",
            "method",
            "path",
            "action",
            "status",
            "error_code",
            "idempotency_key",
            "duration_ms",
            "fulfilment",
        )
        attrs = {"class": "table table-sm table-hover align-middle", "id": "call-table"}
        orderable = False
