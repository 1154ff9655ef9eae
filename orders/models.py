"""Customers, purchase orders, their lines, the licence keys they deliver and their timeline.

Invariants live in the database: a PO's external id, upstream id and Idempotency-Key are
unique; a licence key is unique per (order, order sku, keyed hash), so the same key
arriving in the order response, by webhook and by polling is stored once.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.expressions import Combinable
from django.urls import reverse

from backoffice.money import MoneyField


class Customer(models.Model):
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    vat_id = models.CharField("VAT id", max_length=40, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["email"]),
            # The customer list's order: its pages are read from the index.
            models.Index(fields=["name", "id"], name="customer_name_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def get_absolute_url(self) -> str:
        return reverse("orders:customer_detail", args=[self.pk])


class PurchaseOrderCounter(models.Model):
    """One row per year holding the last number given out.

    Incremented under a row lock inside the confirming transaction, so numbers are
    sequential and a rolled-back confirmation gives its number back (no gaps).
    """

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        UNKNOWN = "unknown", "Outcome unknown"
        PENDING_DELIVERY = "pending_delivery", "Pending delivery"
        PARTIALLY_DELIVERED = "partially_delivered", "Partially delivered"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        HELD = "held", "Held (price changed)"

    class Source(models.TextChoices):
        BACKOFFICE = "backoffice", "Back-office"
        IMPORTED = "imported", "Imported"

    # Statuses in which upstream may have (or certainly has) an order for this PO.
    UPSTREAM_STATUSES = frozenset(
        {
            Status.SUBMITTING,
            Status.UNKNOWN,
            Status.PENDING_DELIVERY,
            Status.PARTIALLY_DELIVERED,
            Status.DELIVERED,
        }
    )
    # Statuses whose keys are still to come (polled by purchase_orders_poll_pending).
    AWAITING_KEYS_STATUSES = frozenset({Status.PENDING_DELIVERY, Status.PARTIALLY_DELIVERED})
    # Statuses that background work moves on without anyone acting (submission, retries,
    # delivery): the PO page follows them live and stops once the PO leaves them.
    IN_FLIGHT_STATUSES = frozenset(
        {
            Status.QUEUED,
            Status.SUBMITTING,
            Status.UNKNOWN,
            Status.PENDING_DELIVERY,
            Status.PARTIALLY_DELIVERED,
        }
    )

    external_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    upstream_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    idempotency_key = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.BACKOFFICE, db_index=True
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
    )
    note = models.TextField(blank=True)
    total = MoneyField(default=Decimal("0.00"))
    upstream_total = MoneyField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.TextField(blank=True)
    # Price guard: the figures that held the order (per line: confirmed and current net).
    hold_details = models.JSONField(default=dict, blank=True)
    invoice_number = models.CharField(max_length=64, blank=True)
    # Something Licendi said about this order could not be read (an answer in a shape
    # the client does not know): the PO goes on, and staff see why it needs a look.
    needs_review = models.BooleanField(default=False, db_index=True)
    review_reason = models.TextField(blank=True)
    # The raw 2xx answer to the order, encrypted (it may hold licence keys), kept when
    # any part of it could not be read so nothing upstream said is lost.
    upstream_answer_encrypted = models.TextField(blank=True)
    # "Mark as not placed" needs two people: who asked, then someone else approves.
    not_placed_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    not_placed_requested_at = models.DateTimeField(null=True, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0), name="po_total_gte_0"),
            # Once a PO has left the draft state it carries what makes the call repeatable.
            models.CheckConstraint(
                condition=models.Q(source="imported")
                | models.Q(status__in=["draft", "cancelled"])
                | models.Q(external_id__isnull=False),
                name="po_external_id_after_draft",
            ),
            models.CheckConstraint(
                condition=models.Q(source="imported")
                | models.Q(status__in=["draft", "cancelled"])
                | models.Q(idempotency_key__isnull=False),
                name="po_idempotency_key_after_draft",
            ),
        ]

    def __str__(self) -> str:
        if self.external_id:
            return self.external_id
        # An order placed outside the back-office may have no externalId (or one already
        # used here): Licendi's own id names it, not a draft number it never had.
        if self.source == self.Source.IMPORTED and self.upstream_id:
            return f"Licendi {self.upstream_id}"
        return f"Draft #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("orders:po_detail", args=[self.pk])

    @property
    def is_read_only(self) -> bool:
        return self.source == self.Source.IMPORTED

    @property
    def is_in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT and not self.is_read_only


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    combination = models.ForeignKey(
        "catalog.Combination",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="purchase_order_lines",
    )
    order_sku = models.CharField(max_length=100)
    name = models.CharField(max_length=300, blank=True)
    quantity = models.PositiveIntegerField()
    # The net price shown when the line was added; frozen when the PO is confirmed.
    unit_net_price = MoneyField()
    upstream_unit_price = MoneyField(null=True, blank=True)
    # Whether the local catalog showed it in stock at confirmation: the price guard holds
    # an order only when stock disappeared after staff decided, not when they knew.
    in_stock_at_confirmation = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "order_sku"], name="po_line_unique_sku"
            ),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="po_line_qty_gte_1"),
            models.CheckConstraint(
                condition=models.Q(unit_net_price__gte=0), name="po_line_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_sku}"

    @property
    def line_total(self) -> Decimal:
        total: Decimal = self.unit_net_price * self.quantity
        return total


def missing_details() -> Combinable:
    """Delivered POs still without their Licendi invoice, charged total or line prices:
    their order answer was lost and re-reading the order has not succeeded yet. Used by
    the polling sweep (orders) and the reconciliation page (wallet)."""
    return models.Q(status=PurchaseOrder.Status.DELIVERED) & (
        models.Q(upstream_id__isnull=True)
        | models.Q(invoice_number="")
        | models.Q(upstream_total__isnull=True)
        | models.Exists(
            PurchaseOrderLine.objects.filter(
                purchase_order=models.OuterRef("pk"), upstream_unit_price__isnull=True
            )
        )
    )


class LicenceKey(models.Model):
    class Source(models.TextChoices):
        RESPONSE = "response", "Order response"
        WEBHOOK = "webhook", "Webhook"
        POLLING = "polling", "Polling"
        IMPORT = "import", "Import"

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="keys")
    line = models.ForeignKey(
        PurchaseOrderLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="keys"
    )
    order_sku = models.CharField(max_length=100)
    name = models.CharField(max_length=300, blank=True)
    # Fernet token (backoffice.crypto); the clear key is never stored.
    key_encrypted = models.TextField()
    # HMAC of the normalised key: finds duplicates without decrypting.
    key_hash = models.CharField(max_length=64, db_index=True)
    key_masked = models.CharField(max_length=20)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="keys"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "order_sku", "key_hash"], name="licence_key_unique"
            ),
        ]
        indexes = [
            # The stock list (keys not yet given to a customer), newest first, read from
            # the index however many keys customers already hold.
            models.Index(
                fields=["-received_at", "-id"],
                condition=models.Q(customer__isnull=True),
                name="licence_key_stock_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_sku} {self.key_masked}"

    @property
    def in_stock(self) -> bool:
        return self.customer_id is None


class UnexpectedKey(models.Model):
    """A key Licendi delivered that no line of its PO can take: a sku the PO never
    ordered, or more keys than a line's quantity. Kept encrypted, never counted towards
    delivery, and waiting for a person's decision."""

    class Decision(models.TextChoices):
        PENDING = "", "Needs a decision"
        KEPT = "kept", "Kept (sorted out with Licendi)"
        DISMISSED = "dismissed", "Dismissed"

    class Reason(models.TextChoices):
        UNKNOWN_SKU = "unknown_sku", "Sku not on this order"
        OVER_DELIVERED = "over_delivered", "More keys than ordered"

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="unexpected_keys"
    )
    order_sku = models.CharField(max_length=100)
    name = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    key_encrypted = models.TextField()
    key_hash = models.CharField(max_length=64, db_index=True)
    key_masked = models.CharField(max_length=20)
    source = models.CharField(max_length=16, choices=LicenceKey.Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(
        max_length=16, choices=Decision.choices, default=Decision.PENDING, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "order_sku", "key_hash"], name="unexpected_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_sku} {self.key_masked} ({self.get_reason_display()})"


class PurchaseOrderEvent(models.Model):
    """One entry of a PO's timeline: a state change or a notable step, who/what, when."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For steps taken by no user: "worker", "webhook", "beat", "import".
    actor_label = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["purchase_order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}: {self.from_status} -> {self.to_status}"

    @property
    def who(self) -> str:
        if self.actor is not None:
            return self.actor.get_username()
        return self.actor_label or "system"
