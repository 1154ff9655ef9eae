from typing import TYPE_CHECKING

from django.contrib import admin

from .models import ApiClient, CallbackDelivery, ChannelCall, Fulfilment

if TYPE_CHECKING:
    # Generic only for the type checker: Django's classes are not subscriptable at runtime.
    ApiClientAdminBase = admin.ModelAdmin[ApiClient]
    ChannelCallAdminBase = admin.ModelAdmin[ChannelCall]
    FulfilmentAdminBase = admin.ModelAdmin[Fulfilment]
    CallbackDeliveryAdminBase = admin.ModelAdmin[CallbackDelivery]
else:
    ApiClientAdminBase = ChannelCallAdminBase = admin.ModelAdmin
    FulfilmentAdminBase = CallbackDeliveryAdminBase = admin.ModelAdmin


@admin.register(ApiClient)
class ApiClientAdmin(ApiClientAdminBase):
    list_display = ("name", "token_prefix", "revoked_at", "created_at")
    exclude = ("token_hash", "previous_token_hash", "callback_secret_encrypted")
    readonly_fields = ("token_prefix", "service_user", "created_by", "revoked_at")


@admin.register(ChannelCall)
class ChannelCallAdmin(ChannelCallAdminBase):
    list_display = ("at", "client", "method", "path", "status", "error_code", "duration_ms")
    list_filter = ("status",)


@admin.register(Fulfilment)
class FulfilmentAdmin(FulfilmentAdminBase):
    list_display = ("id", "client", "shop_order_id", "state", "cost_total", "created_at")
    list_filter = ("state",)
    exclude = ("stock_keys",)


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(CallbackDeliveryAdminBase):
    list_display = ("msg_id", "client", "event_type", "status", "attempts", "created_at")
