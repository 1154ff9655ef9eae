"""Logging in: a throttled login form and the audit of logins, failures and logouts."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .audit import audit_record, client_ip
from .login_throttle import (
    lockout_seconds,
    login_attempt_abandoned,
    login_attempt_begin,
    login_attempt_failed,
    login_attempt_succeeded,
)
from .models import AuditEvent

USERNAME_MAX = 150


class ThrottledLoginMixin:
    """Refuses logins for a username-and-address pair, or an address, with too many
    recent failures; the password is evaluated only after a slot was reserved."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    locked_message = (
        "Too many failed logins for this account from your address, or from your address. "
        "Logins are refused for %(minutes)d minutes; ask an administrator if you are locked out."
    )

    def clean(self) -> dict[str, Any]:
        username = (self.cleaned_data.get("username") or "")[:USERNAME_MAX]
        attempt = login_attempt_begin(username=username, ip=client_ip(self.request))
        if attempt is None:
            audit_record(
                action=AuditEvent.Action.LOGIN_FAILED,
                request=self.request,
                summary=f"Login refused (locked out): {username}",
                details={"username": username, "reason": "locked"},
            )
            raise forms.ValidationError(
                self.locked_message,
                code="locked",
                params={"minutes": max(1, lockout_seconds() // 60)},
            )
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            login_attempt_failed(attempt)
            raise
        except BaseException:
            # Not a verdict on the password (e.g. a backend error): the slot is given back.
            login_attempt_abandoned(attempt)
            raise
        login_attempt_succeeded(attempt)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The Django admin's own login page gets the same throttle."""


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm


@receiver(user_logged_in, dispatch_uid="backoffice.audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(
        action=AuditEvent.Action.LOGIN,
        actor=user,
        request=request,
        summary=f"{user.get_username()} logged in",
    )


@receiver(user_login_failed, dispatch_uid="backoffice.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the attempted username: the password (already masked by Django) is never kept.
    username = str(credentials.get("username") or "")[:USERNAME_MAX]
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        request=request,
        summary=f"Failed login: {username}",
        details={"username": username},
    )


@receiver(user_logged_out, dispatch_uid="backoffice.audit_logout")
def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    audit_record(
        action=AuditEvent.Action.LOGOUT,
        actor=user,
        request=request,
        summary=f"{user.get_username()} logged out",
    )
