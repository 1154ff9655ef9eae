"""Django admin: the audit log is read-only, and the admin login is throttled too."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from .accounts import AdminLoginForm
from .models import AuditEvent

admin.site.login_form = AdminLoginForm

# ModelAdmin is generic to the type checker only (not subscriptable at run time).
if TYPE_CHECKING:
    AuditEventAdminBase = admin.ModelAdmin[AuditEvent]
else:
    AuditEventAdminBase = admin.ModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(AuditEventAdminBase):
    list_display = ("created_at", "actor_name", "action", "target_type", "target_id", "summary")
    list_filter = ("action",)
    search_fields = ("actor_name", "target_id", "summary")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
