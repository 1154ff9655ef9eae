"""Read-only admin: the mirror is written by syncs and imports only, never by hand."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import BalanceSnapshot, Gap, LedgerEntry, SyncFailure, SyncStatus

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
else:  # generic to the type checker only (no django-stubs-ext at run time)
    ModelAdminBase = admin.ModelAdmin


class ReadOnlyAdmin(ModelAdminBase):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("upstream_id", "created_at", "type", "amount", "balance_after", "reference")
    list_filter = ("type", "source")
    search_fields = ("upstream_id", "reference")
    date_hierarchy = "created_at"


@admin.register(Gap)
class GapAdmin(ReadOnlyAdmin):
    list_display = ("id", "status", "kind", "amount", "detected_at", "closed_at")
    list_filter = ("status", "kind")
    list_select_related = ("after_entry", "before_entry")


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "balance", "currency", "tier", "discount")


@admin.register(SyncFailure)
class SyncFailureAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "error_class", "status_code", "code")


@admin.register(SyncStatus)
class SyncStatusAdmin(ReadOnlyAdmin):
    list_display = ("last_success_at", "last_attempt_at", "failures_in_a_row", "last_error_at")
