"""Read-only admin views: changes go through the pages and services (audit, upstream)."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import WebhookEndpoint, WebhookEvent

# ModelAdmin is generic to the type checker only (not subscriptable at run time).
if TYPE_CHECKING:
    ReadOnlyAdminBase = admin.ModelAdmin[Model]
else:
    ReadOnlyAdminBase = admin.ModelAdmin


class ReadOnlyAdmin(ReadOnlyAdminBase):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("upstream_id", "url", "status", "created_at", "deleted_at")
    list_filter = ("status",)
    exclude = ("secret_encrypted",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "status", "upstream_order_id", "received_at")
    list_filter = ("status", "type")
    search_fields = ("event_id", "upstream_order_id", "external_id")
    # The payload holds key tokens only, but there is no reason to show them here.
    exclude = ("payload",)
