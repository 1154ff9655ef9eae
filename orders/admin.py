"""Read-mostly admin: keys are shown masked and cannot be edited here."""

from django.contrib import admin

from .models import Customer, LicenceKey, PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "email", "vat_id")
    search_fields = ("name", "company", "email", "vat_id")


class LineInline(admin.TabularInline):
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


class EventInline(admin.TabularInline):
    model = PurchaseOrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "from_status", "to_status", "actor", "actor_label", "message")


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "source", "customer", "total", "upstream_id", "created_at")
    list_filter = ("status", "source")
    search_fields = ("external_id", "upstream_id")
    inlines = [LineInline, EventInline]
    # State changes go through the services (locks, timeline, audit), never the admin.
    readonly_fields = [f.name for f in PurchaseOrder._meta.fields]


@admin.register(LicenceKey)
class LicenceKeyAdmin(admin.ModelAdmin):
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
