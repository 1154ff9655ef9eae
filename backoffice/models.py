"""Project-wide models: the permission holder and the audit log."""

from typing import Any

from django.conf import settings
from django.db import models

from .permissions import PERMISSIONS


class Access(models.Model):
    """Holds the project's custom permissions; no table rows are ever stored."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS)

    def __str__(self) -> str:
        return "access"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only")


class AuditEvent(models.Model):
    """One sensitive action: who did what to which object, when and from where.

    Append-only through the application: the queryset and the model refuse update and
    delete. Never holds a secret; `details` carries identifiers, not values.
    """

    class Action(models.TextChoices):
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logout"
        KEY_REVEAL = "key_reveal", "Key revealed"
        KEY_COPY = "key_copy", "Key copied"
        KEY_EXPORT = "key_export", "Keys exported"
        KEY_EMAIL = "key_email", "Keys emailed"
        KEY_ASSIGN = "key_assign", "Key assigned"
        PO_CONFIRM = "po_confirm", "PO confirmed"
        PO_APPROVE = "po_approve", "PO approved"
        PO_REJECT = "po_reject", "PO rejected"
        PO_CANCEL = "po_cancel", "PO cancelled"
        PO_CHECK_UPSTREAM = "po_check_upstream", "PO checked with Licendi"
        PO_NOT_PLACED_REQUEST = "po_not_placed_request", "PO asked to be marked not placed"
        PO_NOT_PLACED = "po_not_placed", "PO marked not placed"
        UNEXPECTED_KEY_DECISION = "unexpected_key_decision", "Unexpected key decided"
        PRICING_RULE_CHANGE = "pricing_rule_change", "Pricing rule changed"
        WEBHOOK_ENDPOINT_CHANGE = "webhook_endpoint_change", "Webhook endpoint changed"
        SECRET_ROTATION = "secret_rotation", "Secret rotated"
        EXPORT = "export", "Data exported"
        USER_CHANGE = "user_change", "User changed"
        LOGIN_LOCKOUT_LIFT = "login_lockout_lift", "Login lockout lifted"
        KEY_EMAIL_FAILED = "key_email_failed", "Key e-mail failed"
        KEYS_ROTATED = "keys_rotated", "Encryption keys rotated"
        WEBHOOK_EVENTS_REPROCESS = "webhook_events_reprocess", "Webhook events reprocessed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept if the user goes")
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="backoffice__target__idx")
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only")


class LoginThrottle(models.Model):
    """Recent failed logins of one username from one address, or from one address.

    Written only by backoffice.login_throttle, with single atomic statements. A row at
    or above its limit whose last failure is younger than LOGIN_LOCKOUT_SECONDS is a
    lockout; Admins see those on the lockouts page and may lift them.
    """

    class Scope(models.TextChoices):
        PAIR = "pair", "Username from address"
        ADDRESS = "address", "Address"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    # Normalised (stripped, lower-case); empty for an address row.
    username = models.CharField(max_length=150, blank=True)
    # Empty when the client address is unknown.
    ip_address = models.CharField(max_length=45, blank=True)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    last_failure_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_failure_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "username", "ip_address"], name="login_throttle_unique_subject"
            )
        ]

    def __str__(self) -> str:
        who = f"{self.username} from " if self.username else ""
        return f"{who}{self.ip_address or 'unknown address'}: {self.failures} failures"


# Models of the upstream reports live in their own module; imported so Django sees them.
from .upstream_models import DriftObservation, QuarantinedRecord  # noqa: E402

__all__ = ["Access", "AuditEvent", "DriftObservation", "LoginThrottle", "QuarantinedRecord"]
