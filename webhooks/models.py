"""Webhook endpoints registered with Licendi and the deliveries they receive.

Invariants in the database: an upstream endpoint id is registered once, and an
event id is stored once (the receiver inserts with ON CONFLICT DO NOTHING on it),
which is what makes at-least-once delivery apply exactly once.

Nothing here holds a secret in clear: endpoint secrets are Fernet tokens, and the
licence keys inside a stored event body are replaced by Fernet tokens before the
row is written (see `webhooks.payloads`).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse


class WebhookEndpoint(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        # Replaced by a newer endpoint: still accepted until the rotation is finished.
        RETIRING = "retiring", "Retiring (rotation in progress)"
        DELETED = "deleted", "Deleted"

    # Statuses whose secret verifies incoming deliveries.
    ACCEPTING_STATUSES = (Status.ACTIVE, Status.RETIRING)

    upstream_id = models.CharField(max_length=64, unique=True)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.upstream_id} ({self.get_status_display()})"

    @property
    def is_accepting(self) -> bool:
        return self.status in self.ACCEPTING_STATUSES


class WebhookEvent(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        WAITING = "waiting", "Waiting for its order"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored (unknown type)"
        # Waited longer than WEBHOOK_FOREIGN_AFTER_HOURS while the order import kept
        # running: most likely an order placed outside this back-office. Kept and shown,
        # and still applied if its order turns up later.
        FOREIGN = "foreign", "Order not ours"

    # The event types Licendi sends, defined here once: the ones applied, offered when
    # registering an endpoint, and filtered on in the event log.
    KNOWN_TYPES = ("order.delivered", "key.assigned")
    # Statuses an order arriving (or the beat task) should try again.
    WAITING_STATUSES = (Status.WAITING, Status.FOREIGN)
    # Statuses in which processing has nothing left to do.
    DONE_STATUSES = (Status.PROCESSED, Status.IGNORED)

    # Unique through Meta.constraints (the receiver's ON CONFLICT target): unlike
    # unique=True, that adds no second, LIKE-pattern index to maintain on every insert.
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    upstream_order_id = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    # The delivered body with every licence key replaced by its Fernet token.
    payload = models.JSONField(default=dict)
    key_count = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    last_duplicate_at = models.DateTimeField(null=True, blank=True)
    keys_stored = models.PositiveIntegerField(default=0)
    purchase_order = models.ForeignKey(
        "orders.PurchaseOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
        db_index=False,  # a partial index below: a new event has no PO yet
    )
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event_id"], name="webhook_event_id_unique")]
        # Every index is written by each delivery's INSERT, so only those a query uses:
        # the drain and the status filter (status, received_at), the list's order
        # (received_at), the order filter and the waiting events of an order (order ids),
        # and a PO's events (partial: a received event has no PO, so no entry).
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["upstream_order_id"], name="webhook_event_order_id"),
            models.Index(fields=["external_id"], name="webhook_event_external_id"),
            models.Index(
                fields=["purchase_order"],
                name="webhook_event_po",
                condition=models.Q(purchase_order__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:event_detail", args=[self.pk])

    @property
    def can_reprocess(self) -> bool:
        return self.status not in self.DONE_STATUSES
