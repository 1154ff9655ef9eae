"""Tables of the "Upstream problems" page."""

from __future__ import annotations

import json
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .tables import BadgeColumn, BaseTable, DateTimeColumn
from .upstream_models import DriftObservation, QuarantinedRecord

# Enough of a record to recognise it; the whole of it is one click away in the admin.
RAW_PREVIEW_CHARS = 600


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + "…"


class DriftObservationTable(BaseTable):
    endpoint = tables.Column()
    kind = BadgeColumn()
    field = tables.Column()
    detail = tables.Column(verbose_name="Change", default="")
    count = tables.Column(verbose_name="Seen")
    example = tables.Column(empty_values=(), orderable=False)
    first_seen_at = DateTimeColumn(verbose_name="First seen")
    last_seen_at = DateTimeColumn(verbose_name="Last seen")
    acknowledged_at = DateTimeColumn(verbose_name="Looked at", default="new")

    class Meta(BaseTable.Meta):
        model = DriftObservation
        fields = (
            "endpoint",
            "kind",
            "field",
            "detail",
            "count",
            "example",
            "first_seen_at",
            "last_seen_at",
            "acknowledged_at",
        )
        sequence = fields
        row_attrs = {"data-new": lambda record: "1" if record.acknowledged_at is None else "0"}

    def render_field(self, value: str) -> SafeString:
        return format_html("<code>{}</code>", value)

    def render_example(self, record: DriftObservation) -> SafeString:
        if record.kind == DriftObservation.Kind.MISSING_FIELD:
            return format_html("{}", "—")
        return format_html('<code class="small text-break">{}</code>', _json(record.example))


class QuarantinedRecordTable(BaseTable):
    created_at = DateTimeColumn(seconds=True, verbose_name="When")
    source = BadgeColumn()
    run_ref = tables.Column(verbose_name="Run", default="")
    endpoint = tables.Column()
    ref = tables.Column(verbose_name="Record")
    reason = tables.Column(orderable=False)
    raw = tables.Column(verbose_name="Raw JSON (secrets redacted)", orderable=False)

    class Meta(BaseTable.Meta):
        model = QuarantinedRecord
        per_page = 25
        fields = ("created_at", "source", "run_ref", "endpoint", "ref", "reason", "raw")
        sequence = fields

    def render_raw(self, value: Any) -> SafeString:
        return format_html('<code class="small text-break">{}</code>', _json(value))
