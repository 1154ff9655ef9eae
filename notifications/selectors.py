"""Read queries of the notifications: who holds a role, a user's inbox, unread count."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q, QuerySet

from backoffice import permissions as p

from .models import Notification, NotificationKind, NotificationPreference

# Who is told of each kind: the holders of the permission the role concerned grants.
KIND_PERMISSION: dict[str, str] = {
    NotificationKind.APPROVAL_NEEDED: p.APPROVE_ORDERS,
    NotificationKind.PO_PROBLEM: p.PLACE_ORDERS,
    NotificationKind.LOW_BALANCE: p.VIEW_FINANCE,
    NotificationKind.LEDGER_GAP: p.VIEW_FINANCE,
    NotificationKind.SYNC_FAILED: p.RUN_SYNCS,
    NotificationKind.MARGIN_DROP: p.MANAGE_PRICING,
}

# The badge's count is kept this long; creating or reading notifications clears it, so
# the delay only shows across processes with separate caches (the demo's local memory).
UNREAD_CACHE_SECONDS = 30


def users_with_permission(perm: str) -> QuerySet[Any]:
    """Active users holding `perm` through a role (group), directly, or as superuser."""
    app_label, codename = perm.split(".", 1)
    through_group = Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    )
    direct = Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    )
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(through_group | direct | Q(is_superuser=True))
        .distinct()
    )


def kinds_for(user: Any) -> list[NotificationKind]:
    """The kinds `user` may receive (their roles decide)."""
    return [NotificationKind(kind) for kind, perm in KIND_PERMISSION.items() if user.has_perm(perm)]


def email_preferences(user: Any) -> dict[str, bool]:
    """E-mail on/off per kind for `user`; kinds without a row are on."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: chosen.get(kind, True) for kind in NotificationKind.values}


def inbox(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user: Any) -> int:
    """One indexed COUNT, kept briefly in the cache (the badge shows on every page)."""
    key = unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return int(count)
