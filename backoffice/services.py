"""Managing staff users: create, change roles, deactivate (never delete). Every change
is audited as USER_CHANGE with the roles before and after; never a password.
Lifting a login lockout is audited as LOGIN_LOCKOUT_LIFT."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .audit import audit_record
from .login_throttle import limit_for, locked_until
from .models import AuditEvent, LoginThrottle
from .permissions import ROLES

User = get_user_model()


class StaffUserError(Exception):
    """A change that is not allowed in the user's current state."""


def _role_names(user: Any) -> list[str]:
    return sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def _check_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise StaffUserError(f"Unknown role(s): {', '.join(unknown)}")
    return sorted(set(roles))


def _audit(*, actor: Any, user: Any, change: str, **details: Any) -> None:
    audit_record(
        action=AuditEvent.Action.USER_CHANGE,
        actor=actor,
        target=user,
        summary=f"User {user.get_username()}: {change}",
        details={"username": user.get_username(), "change": change, **details},
    )


@transaction.atomic
def staff_user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    roles: list[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Any:
    roles = _check_roles(roles)
    if User.objects.filter(username__iexact=username).exists():
        raise StaffUserError(f"A user named {username!r} already exists")
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    user.groups.set(Group.objects.filter(name__in=roles))
    _audit(actor=actor, user=user, change="created", roles_after=roles)
    return user


@transaction.atomic
def staff_user_update(
    *,
    actor: Any,
    user: Any,
    roles: list[str],
    email: str,
    first_name: str,
    last_name: str,
) -> Any:
    """Sets the user's roles (groups outside ROLES are left alone) and profile."""
    user = User.objects.select_for_update().get(pk=user.pk)
    roles = _check_roles(roles)
    before = _role_names(user)
    if user.pk == actor.pk and "Admin" in before and "Admin" not in roles:
        raise StaffUserError("You cannot remove the Admin role from yourself")
    profile_changed = (user.email, user.first_name, user.last_name) != (
        email,
        first_name,
        last_name,
    )
    if before == roles and not profile_changed:
        return user
    user.email, user.first_name, user.last_name = email, first_name, last_name
    user.save(update_fields=["email", "first_name", "last_name"])
    user.groups.remove(*Group.objects.filter(name__in=set(before) - set(roles)))
    user.groups.add(*Group.objects.filter(name__in=set(roles) - set(before)))
    _audit(
        actor=actor,
        user=user,
        change="roles changed" if before != roles else "profile changed",
        roles_before=before,
        roles_after=roles,
    )
    return user


@transaction.atomic
def staff_user_deactivate(*, actor: Any, user: Any) -> Any:
    """The user can no longer log in (open sessions stop working at once); rows that
    point at them (orders, audit) keep pointing at them."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise StaffUserError("You cannot deactivate yourself")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    _audit(actor=actor, user=user, change="deactivated", roles=_role_names(user))
    return user


@transaction.atomic
def staff_user_activate(*, actor: Any, user: Any) -> Any:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit(actor=actor, user=user, change="reactivated", roles=_role_names(user))
    return user


@transaction.atomic
def login_lockout_lift(*, throttle_pk: int) -> LoginThrottle:
    """Forget the failures of one locked pair or address: logins are evaluated again.

    Raises LoginThrottle.DoesNotExist when it is gone (expired, or lifted by someone else).
    """
    row = LoginThrottle.objects.select_for_update().get(pk=throttle_pk)
    was_locked = row.failures >= limit_for(row.scope)
    details = {
        "scope": row.scope,
        "username": row.username,
        "ip_address": row.ip_address,
        "failures": row.failures,
        "locked_until": locked_until(row).isoformat(),
    }
    who = f"{row.username} from {row.ip_address or 'an unknown address'}"
    if row.scope == LoginThrottle.Scope.ADDRESS:
        who = f"address {row.ip_address or 'unknown'}"
    LoginThrottle.objects.filter(pk=row.pk).delete()
    audit_record(
        action=AuditEvent.Action.LOGIN_LOCKOUT_LIFT,
        target_type=LoginThrottle._meta.label,
        target_id=str(throttle_pk),
        summary=f"Login lockout lifted: {who}" + ("" if was_locked else " (not locked)"),
        details=details,
    )
    return row
