from typing import Any

import django_tables2 as tables

from backoffice.tables import (
    BadgeColumn,
    BaseTable,
    DateTimeColumn,
    MoneyColumn,
    SelectColumn,
    format_cell,
    money_text,
    pk_url,
)

from .models import Customer, LicenceKey, PurchaseOrder


class PurchaseOrderTable(BaseTable):
    # Linked as linkify=True would (get_absolute_url), with one reverse() per table.
    external_id = tables.Column(verbose_name="PO", empty_values=())
    status = BadgeColumn()
    source = BadgeColumn()
    customer = tables.Column()
    total = MoneyColumn()
    key_count = tables.Column(verbose_name="Keys")
    upstream_id = tables.Column(verbose_name="Licendi order")
    created_at = DateTimeColumn(verbose_name="Created")

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.po_url = pk_url("orders:po_detail")
        self.customer_url = pk_url("orders:customer_detail")

    def render_external_id(self, record: PurchaseOrder) -> str:
        return format_cell('<a href="{}">{}</a>', self.po_url(record.pk), str(record))

    def render_customer(self, value: Customer) -> str:
        return format_cell('<a href="{}">{}</a>', self.customer_url(value.pk), value)

    def render_total(self, record: PurchaseOrder) -> str:
        return money_text(record.total, record.currency)

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
    received_at = DateTimeColumn(verbose_name="Received")
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
