"""The sales channel: API clients (one per shop), the offers feed, fulfilments, callbacks.

Invariants live in the database: a client's token hash is unique; a fulfilment is unique
per (client, Idempotency-Key) and per (client, shop order id), so a retried or doubled
request never buys twice; an offer's change marker `seq` is unique and only grows.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

from backoffice.money import MoneyField


class Action(models.TextChoices):
    """What a client may do; each API operation names the one it needs."""

    OFFERS_READ = "offers:read", "Read offers"
    FULFILMENTS_WRITE = "fulfilments:write", "Create fulfilments"
    FULFILMENTS_READ = "fulfilments:read", "Read fulfilments"


class ApiClient(models.Model):
    """One shop. Its token is shown once and stored as a keyed hash only."""

    name = models.CharField(max_length=100, unique=True)
    # The first characters of the token: lets staff and logs tell tokens apart.
    token_prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    # The hash of the token replaced by the last rotation: it answers "token_rotated".
    previous_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    actions = models.JSONField(default=list)
    allow_out_of_stock = models.BooleanField(
        default=False, help_text="Offer and sell combinations Licendi has no stock of"
    )
    allow_below_margin = models.BooleanField(
        default=False, help_text="Offer combinations below MIN_MARGIN_PERCENT"
    )
    daily_spend_cap = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Net cost of fulfilments per day (EUR)"
    )
    order_spend_cap = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Net cost of one fulfilment (EUR)"
    )
    margin_floor_percent = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="Refuse a line paid below net price plus this percentage",
    )
    approval_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="A purchase above this net cost waits for an Approver",
    )
    callback_url = models.URLField(max_length=500, blank=True)
    # whsec_ secret, Fernet-encrypted (backoffice.crypto).
    callback_secret_encrypted = models.TextField(blank=True)
    # The user the client's purchase orders are created and confirmed by (no password,
    # cannot log in): PO timelines and the four-eyes rule see a named, non-human actor.
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="channel_client"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(daily_spend_cap__gte=0, order_spend_cap__gte=0),
                name="apiclient_caps_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(approval_threshold__gte=0), name="apiclient_threshold_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("channel:client_detail", args=[self.pk])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def may(self, action: str) -> bool:
        return action in self.actions


class ChannelCall(models.Model):
    """One API call: who, what, outcome, how long. Never a token, key or body."""

    client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    action = models.CharField(max_length=32, blank=True)
    status = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    fulfilment = models.ForeignKey(
        "Fulfilment", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    duration_ms = models.PositiveIntegerField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "-at"], name="channelcall_client_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class OfferCounter(models.Model):
    """The last change marker given out. Locked by every offers refresh, which makes the
    writers take turns: markers are committed in increasing order, so a reader that has
    seen marker N never later finds a new row below N."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"offers at {self.last_seq}"


class Offer(models.Model):
    """The channel's view of one combination, and the marker of its last change.

    Kept by channel.services.offers_refresh from the catalog, so catalog knows nothing of
    the channel. `seq` moves whenever anything a shop sees (price, stock, whether it is
    offered at all) changes.
    """

    combination = models.OneToOneField(
        "catalog.Combination", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    order_sku = models.CharField(max_length=100)
    product_sku = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    # As wide as the catalog's selling price it copies (an amount rule may add billions).
    selling_price = MoneyField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    in_stock = models.BooleanField()
    # Active in the catalog and priced: could be offered at all.
    sellable = models.BooleanField()
    # At or above MIN_MARGIN_PERCENT when refreshed.
    meets_margin = models.BooleanField()
    seq = models.BigIntegerField(unique=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.order_sku} @{self.seq}"


class Fulfilment(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    FINAL_STATES = frozenset({State.DELIVERED, State.FAILED})

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="fulfilments")
    idempotency_key = models.CharField(max_length=100)
    # SHA-256 of the canonical request body: a reused key with another body is refused.
    request_hash = models.CharField(max_length=64)
    shop_order_id = models.CharField(max_length=100)
    customer = models.ForeignKey(
        "orders.Customer", on_delete=models.PROTECT, related_name="channel_fulfilments"
    )
    purchase_order = models.OneToOneField(
        "orders.PurchaseOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="channel_fulfilment",
    )
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.PENDING, db_index=True
    )
    # The net cost of every line: what the spend caps count.
    cost_total = models.DecimalField(max_digits=12, decimal_places=2)
    paid_total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # The first answer, replayed for the same key and body (keys are never stored here:
    # a replayed 201 reads them again from the encrypted key rows).
    answer_status = models.PositiveSmallIntegerField()
    stock_keys = models.ManyToManyField("orders.LicenceKey", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"], name="fulfilment_unique_key"
            ),
            models.UniqueConstraint(
                fields=["client", "shop_order_id"], name="fulfilment_unique_shop_order"
            ),
            models.CheckConstraint(
                condition=models.Q(cost_total__gte=0), name="fulfilment_cost_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} order {self.shop_order_id}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class FulfilmentLine(models.Model):
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.CASCADE, related_name="lines")
    combination = models.ForeignKey(
        "catalog.Combination", on_delete=models.PROTECT, related_name="+"
    )
    order_sku = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField()
    unit_price_paid = models.DecimalField(max_digits=12, decimal_places=2)
    unit_net_price = models.DecimalField(max_digits=12, decimal_places=2)
    from_stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["fulfilment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fulfilment", "order_sku"], name="fulfilment_line_unique_sku"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="fulfilment_line_qty_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_sku}"


class CallbackDelivery(models.Model):
    """One event sent to a shop's callback URL, with its retries."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (retries exhausted)"

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="callbacks")
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.CASCADE, related_name="callbacks")
    # The Standard Webhooks message id: the same on every retry and resend, so the shop
    # can drop a repeat.
    msg_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id}"


class CallbackAttempt(models.Model):
    delivery = models.ForeignKey(
        CallbackDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["delivery", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"
