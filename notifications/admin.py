from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from .models import Notification, NotificationPreference

if TYPE_CHECKING:
    NotificationAdminBase = admin.ModelAdmin[Notification]
    PreferenceAdminBase = admin.ModelAdmin[NotificationPreference]
else:  # ModelAdmin is generic for the type checker only
    NotificationAdminBase = PreferenceAdminBase = admin.ModelAdmin


@admin.register(Notification)
class NotificationAdmin(NotificationAdminBase):
    list_display = ("created_at", "recipient", "kind", "title", "read_at", "email_state")
    list_filter = ("kind", "email_state")
    search_fields = ("title", "recipient__username")
    # A record of what was said to whom: not written by hand.
    readonly_fields = tuple(f.name for f in Notification._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(PreferenceAdminBase):
    list_display = ("user", "kind", "email")
    list_filter = ("kind", "email")
