"""Read-mostly admin: keys are shown masked and cannot be edited here."""

from typing import TYPE_CHECKING

from django.contrib import admin

from .models import Customer, LicenceKey, PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine

# The admin classes are generic only to the type checker (django-stubs); at run time
# they are plain classes (django-stubs-ext is not a runtime dependency).
if TYPE_CHECKING:
    CustomerAdminBase = admin.ModelAdmin[Customer]
    PurchaseOrderAdminBase = admin.ModelAdmin[PurchaseOrder]
    LicenceKeyAdminBase = admin.ModelAdmin[LicenceKey]
    LineInlineBase = admin.TabularInline[PurchaseOrderLine, PurchaseOrder]
    EventInlineBase = admin.TabularInline[PurchaseOrderEvent, PurchaseOrder]
else:
    CustomerAdminBase = PurchaseOrderAdminBase = LicenceKeyAdminBase = admin.ModelAdmin
    LineInlineBase = EventInlineBase = admin.TabularInline


@admin.register(Customer)
class CustomerAdmin(CustomerAdminBase):
    list_display = ("name", "company", "email", "vat_id")
    search_fields = ("name", "company", "email", "vat_id")


class LineInline(LineInlineBase):
    model = PurchaseOrderLine
    extra = 0
    can_delete = False
    readonly_fields = (
        "combination",
        "order_sku",
        "name",
        "quantity",
        "unit_net_price",
        "upstream_unit_price",
        "in_stock_at_confirmation",
    )


class EventInline(EventInlineBase):
    model = PurchaseOrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "from_status", "to_status", "actor", "actor_label", "message")


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(PurchaseOrderAdminBase):
    list_display = ("__str__", "status", "source", "customer", "total", "upstream_id", "created_at")
    list_filter = ("status", "source")
    search_fields = ("external_id", "upstream_id")
    inlines = [LineInline, EventInline]
    # State changes go through the services (locks, timeline, audit), never the admin.
    readonly_fields = [f.name for f in PurchaseOrder._meta.fields]


@admin.register(LicenceKey)
class LicenceKeyAdmin(LicenceKeyAdminBase):
    list_display = (
        "purchase_order",
        "order_sku",
        "key_masked",
        "customer",
        "source",
        "received_at",
    )
    list_filter = ("source",)
    search_fields = ("order_sku", "purchase_order__external_id")
    exclude = ("key_encrypted", "key_hash")
    readonly_fields = (
        "purchase_order",
        "line",
        "order_sku",
        "name",
        "key_masked",
        "customer",
        "source",
        "received_at",
        "assigned_at",
        "emailed_at",
    )

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
