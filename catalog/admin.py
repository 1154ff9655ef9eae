"""Django admin: the mirror and the sync history are read-only here.

The mirror is written by the sync only and pricing rules through the back-office pages
(which audit the change and reprice); editing them in the admin would skip both.
"""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Category, Combination, PriceChange, PricingRule, Product, SyncRun

# ModelAdmin is generic for the type checker only (django-stubs); at run time it is not.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("sku", "name", "brand", "category", "has_variants", "is_active")
    list_filter = ("is_active", "has_variants", "category")
    search_fields = ("sku", "name", "brand")


@admin.register(Combination)
class CombinationAdmin(ReadOnlyAdmin):
    list_display = ("order_sku", "product", "net_price", "price", "selling_price", "margin")
    list_select_related = ("product",)
    search_fields = ("order_sku",)


@admin.register(PriceChange)
class PriceChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "combination", "old_net_price", "new_net_price")
    list_select_related = ("combination__product",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "status", "trigger", "seen", "price_changes")
    list_filter = ("status", "trigger")


@admin.register(PricingRule)
class PricingRuleAdmin(ReadOnlyAdmin):
    list_display = ("scope", "kind", "value", "rounding", "is_active", "updated_at")
    list_filter = ("scope", "is_active")
