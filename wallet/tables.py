"""Tables of the wallet pages."""

from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet

from backoffice.display import format_datetime
from backoffice.tables import (
    BadgeColumn,
    BaseTable,
    DateTimeColumn,
    MoneyColumn,
    format_cell,
    pk_url,
)

from .models import Gap, LedgerEntry


class LedgerTable(BaseTable):
    created_at = DateTimeColumn(verbose_name="Date")
    upstream_id = tables.Column(verbose_name="Entry")
    type = BadgeColumn()
    amount = MoneyColumn()
    balance_after = MoneyColumn(verbose_name="Balance after")
    reference = tables.Column(verbose_name="Reference")
    po_number = tables.Column(verbose_name="Purchase order", orderable=False, empty_values=())
    description = tables.Column()

    class Meta(BaseTable.Meta):
        model = LedgerEntry
        fields: tuple[str, ...] = (
            "created_at",
            "upstream_id",
            "type",
            "amount",
            "balance_after",
            "reference",
            "po_number",
            "description",
        )
        order_by = ("-created_at",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.po_url = pk_url("orders:po_detail")

    def render_po_number(self, record: LedgerEntry) -> str:
        if record.type not in (LedgerEntry.Type.ORDER, LedgerEntry.Type.REFUND):
            return ""
        po_pk = getattr(record, "po_pk", None)  # set by wallet.selectors, not a field
        if po_pk is None:
            return format_cell('<span class="badge text-bg-warning">{}</span>', "No PO")
        label = getattr(record, "po_number", None) or f"#{po_pk}"
        return format_cell('<a href="{}">{}</a>', self.po_url(po_pk), label)

    def value_po_number(self, record: LedgerEntry) -> str:
        if record.type not in (LedgerEntry.Type.ORDER, LedgerEntry.Type.REFUND):
            return ""
        po_pk = getattr(record, "po_pk", None)
        return getattr(record, "po_number", None) or ("" if po_pk is None else str(po_pk))

    def order_created_at(
        self, queryset: QuerySet[LedgerEntry], is_descending: bool
    ) -> tuple[QuerySet[LedgerEntry], bool]:
        # Chain order, not timestamps: entries within one second keep their true order.
        return queryset.order_by("-position" if is_descending else "position"), True


class UnmatchedDebitTable(LedgerTable):
    class Meta(LedgerTable.Meta):
        fields = ("created_at", "upstream_id", "type", "amount", "reference", "description")
        exclude = ("balance_after", "po_number")


class PurchaseOrderWithoutDebitTable(BaseTable):
    external_id = tables.Column(verbose_name="PO", linkify=True)
    upstream_id = tables.Column(verbose_name="Upstream order")
    status = BadgeColumn(key="orders.PurchaseOrder.status")
    source = BadgeColumn(key="orders.PurchaseOrder.source")
    total = MoneyColumn()
    customer = tables.Column()
    created_at = DateTimeColumn(verbose_name="Created")

    class Meta(BaseTable.Meta):
        order_by = ("-created_at",)


class GapTable(BaseTable):
    status = BadgeColumn()
    kind = BadgeColumn()
    after_entry = tables.Column(verbose_name="After entry", accessor="after_entry__upstream_id")
    before_entry = tables.Column(verbose_name="Before entry", accessor="before_entry__upstream_id")
    between = tables.Column(verbose_name="Between", empty_values=(), orderable=False)
    amount = MoneyColumn(verbose_name="Unaccounted")
    detected_at = DateTimeColumn(verbose_name="Detected")
    resolution = tables.Column()

    class Meta(BaseTable.Meta):
        model = Gap
        fields = (
            "status",
            "kind",
            "after_entry",
            "before_entry",
            "between",
            "amount",
            "detected_at",
            "resolution",
        )

    def render_between(self, record: Gap) -> str:
        return format_cell(
            "{} → {}",
            format_datetime(record.after_entry.created_at),
            format_datetime(record.before_entry.created_at),
        )
