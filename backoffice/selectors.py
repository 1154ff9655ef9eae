"""Read queries for the project-level pages."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db.models import Prefetch, QuerySet

from .list_cache import kept_for
from .login_throttle import locked_until, lockouts
from .models import AuditEvent, LoginThrottle
from .permissions import ROLES


def staff_user_list() -> QuerySet[User]:
    """Every user with their roles prefetched (one query for all the roles)."""
    return (
        get_user_model()
        .objects.prefetch_related(
            Prefetch(
                "groups",
                queryset=Group.objects.filter(name__in=ROLES).order_by("name"),
                to_attr="role_groups",
            )
        )
        .order_by("-is_active", "username")
    )


def audit_event_list() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()


# The audit page's target suggestions are kept this long: a DISTINCT over the whole log on
# every page of it grows with the log; a new kind of target is suggested within minutes.
AUDIT_TARGET_TYPES_SECONDS = 300


def audit_target_types() -> list[str]:
    """The kinds of target in the audit log (suggestions for its target filter)."""
    return kept_for(AUDIT_TARGET_TYPES_SECONDS, "audit-target-types", _audit_target_types)


def _audit_target_types() -> list[str]:
    return list(
        AuditEvent.objects.exclude(target_type="")
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()
    )


def login_lockout_list() -> list[tuple[LoginThrottle, Any]]:
    """Current lockouts, newest first, each with the time it ends by itself."""
    return [(row, locked_until(row)) for row in lockouts()]
