"""Notifications to staff: an inbox row per recipient, and each user's e-mail choices.

A condition notifies each recipient once: (recipient, kind, dedupe key) is unique in the
database, so the periodic scan and the immediate receivers may both report it safely.
Nothing here holds a licence key: titles are built from order numbers, amounts and counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationKind(models.TextChoices):
    APPROVAL_NEEDED = "approval_needed", "Purchase order awaits approval"
    PO_PROBLEM = "po_problem", "Purchase order failed or outcome unknown"
    LOW_BALANCE = "low_balance", "Wallet balance low"
    LEDGER_GAP = "ledger_gap", "New gap in the wallet ledger"
    SYNC_FAILED = "sync_failed", "Catalog or wallet sync failed"
    MARGIN_DROP = "margin_drop", "Price change pushed combinations below the minimum margin"


class Notification(models.Model):
    class EmailState(models.TextChoices):
        NOT_WANTED = "not_wanted", "Not e-mailed (preference or no address)"
        PENDING = "pending", "To be e-mailed"
        SENT = "sent", "E-mailed"
        FAILED = "failed", "E-mail failed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    # What makes the condition one condition (e.g. "po-12-confirmed-1764590000").
    dedupe_key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    # A path inside the back-office: the page of the thing the notification is about.
    link = models.CharField(max_length=500)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=12, choices=EmailState.choices, default=EmailState.NOT_WANTED
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Why the last attempt failed (backoffice.mail: redacted, safe to show).
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Kind and key first: the scan looks up which recipients already have a
            # condition, and this index answers that too.
            models.UniqueConstraint(
                fields=["kind", "dedupe_key", "recipient"], name="notification_once_per_condition"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            # The badge counts unread rows of one user on every page.
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["id"], condition=Q(email_state="pending"), name="notification_email_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice for one kind; without a row, the kind is e-mailed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: e-mail {'on' if self.email else 'off'}"
