import django_tables2 as tables
from django.utils.html import format_html

from backoffice.tables import BaseTable, MoneyColumn, SelectColumn

from .models import Customer, LicenceKey, PurchaseOrder

STATUS_BADGE = {
    "draft": "secondary",
    "awaiting_approval": "warning",
    "queued": "info",
    "submitting": "info",
    "unknown": "warning",
    "pending_delivery": "primary",
    "partially_delivered": "primary",
    "delivered": "success",
    "failed": "danger",
    "cancelled": "secondary",
    "held": "warning",
}


def status_badge(record: PurchaseOrder) -> str:
    return format_html(
        '<span class="badge text-bg-{}" data-status="{}">{}</span>',
        STATUS_BADGE.get(record.status, "secondary"),
        record.status,
        record.get_status_display(),
    )


class PurchaseOrderTable(BaseTable):
    external_id = tables.Column(verbose_name="PO", linkify=True, empty_values=())
    status = tables.Column()
    source = tables.Column()
    customer = tables.Column(linkify=True)
    total = MoneyColumn()
    key_count = tables.Column(verbose_name="Keys")
    upstream_id = tables.Column(verbose_name="Licendi order")
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        model = PurchaseOrder
        fields = (
            "external_id",
            "status",
            "source",
            "customer",
            "total",
            "key_count",
            "upstream_id",
            "created_at",
        )
        order_by = ("-created_at",)
        row_attrs = {"data-po": lambda record: record.pk}

    def render_external_id(self, record: PurchaseOrder) -> str:
        return str(record)

    def render_status(self, record: PurchaseOrder) -> str:
        return status_badge(record)

    def render_total(self, record: PurchaseOrder) -> str:
        return f"{record.total} {record.currency}"

    def value_external_id(self, record: PurchaseOrder) -> str:
        return str(record)


class CustomerTable(BaseTable):
    name = tables.Column(linkify=True)
    company = tables.Column()
    email = tables.Column()
    vat_id = tables.Column(verbose_name="VAT id")
    order_count = tables.Column(verbose_name="Orders")
    key_count = tables.Column(verbose_name="Keys")

    class Meta(BaseTable.Meta):
        model = Customer
        fields = ("name", "company", "email", "vat_id", "order_count", "key_count")
        order_by = ("name",)


class StockKeyTable(BaseTable):
    select = SelectColumn(
        form="key-bulk",
        label=lambda record: (
            f"key {record.key_masked} ({record.order_sku}) of {record.purchase_order}"
        ),
    )
    purchase_order = tables.Column(verbose_name="PO", linkify=True)
    order_sku = tables.Column(verbose_name="Order sku")
    name = tables.Column(verbose_name="Product")
    key_masked = tables.Column(verbose_name="Key")
    received_at = tables.DateTimeColumn(verbose_name="Received", format="Y-m-d H:i")
    assign = tables.TemplateColumn(
        template_name="orders/_key_assign_cell.html", orderable=False, verbose_name=""
    )

    class Meta(BaseTable.Meta):
        model = LicenceKey
        fields = (
            "select",
            "purchase_order",
            "order_sku",
            "name",
            "key_masked",
            "received_at",
            "assign",
        )
        order_by = ("-received_at",)
        row_attrs = {"data-key": lambda record: record.pk}

    export_exclude = ("select",)
