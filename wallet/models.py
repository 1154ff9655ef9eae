"""The wallet mirror: balance snapshots, the ledger entries seen upstream, sync status, gaps.

Upstream only ever shows the 20 most recent ledger entries, so the mirror is the
record finance staff audit. Every entry is stored once by its upstream id, and the
order of the chain is kept in `position` (sparse integers) so that entries learned
later (an import of a statement) can be placed between entries already stored.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from backoffice.money import MoneyField


class BalanceSnapshot(models.Model):
    """The balance, tier and discount as upstream reported them; a new row only on change."""

    balance = MoneyField()
    currency = models.CharField(max_length=3, default="EUR")
    tier = models.CharField(max_length=60, blank=True, default="")
    discount = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    recorded_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-recorded_at", "-id")
        get_latest_by = ("recorded_at", "id")

    def __str__(self) -> str:
        return f"{self.balance} {self.currency} ({self.tier}) at {self.recorded_at:%Y-%m-%d %H:%M}"

    def same_as(
        self, *, balance: Decimal, currency: str, tier: str, discount: Decimal | None
    ) -> bool:
        return (self.balance, self.currency, self.tier, self.discount) == (
            balance,
            currency,
            tier,
            discount,
        )


class SyncStatus(models.Model):
    """One row (pk=1): when the wallet was last read, and how the last attempt ended.

    Its row lock also serialises syncs and imports, so two workers never place
    the same entries twice or audit a half-written chain.
    """

    SINGLETON_PK = 1

    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    last_read_count = models.PositiveIntegerField(default=0)
    last_new_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "sync status"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="wallet_syncstatus_singleton"),
        ]

    def __str__(self) -> str:
        return f"Wallet sync status (last success {self.last_success_at})"


class SyncFailure(models.Model):
    """A failed wallet sync with its cause: a failure is never silent."""

    occurred_at = models.DateTimeField(db_index=True)
    error_class = models.CharField(max_length=100)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    code = models.CharField(max_length=100, blank=True, default="")
    message = models.TextField()

    class Meta:
        ordering = ("-occurred_at", "-id")

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.error_class}: {self.message[:60]}"


class LedgerEntry(models.Model):
    class Type(models.TextChoices):
        TOPUP = "topup", "Top-up"
        ORDER = "order", "Order"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    class Source(models.TextChoices):
        SYNC = "sync", "Wallet sync"
        IMPORT = "import", "Import"

    upstream_id = models.CharField(max_length=64, unique=True)
    # Chain order (oldest first). Sparse so that imported entries fit between neighbours.
    position = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    # Not a choices field: upstream may add types and the mirror keeps them as-is.
    type = models.CharField(max_length=30)
    amount = MoneyField()
    balance_after = MoneyField()
    # For order and refund entries: the upstream order id (PurchaseOrder.upstream_id).
    reference = models.CharField(max_length=64, blank=True, default="")
    description = models.TextField(blank=True, default="")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SYNC)
    first_seen_at = models.DateTimeField()

    class Meta:
        ordering = ("-position",)
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["type", "created_at"], name="wallet_led_type_created"),
            # Pattern ops: serves both reference = upstream_id (matching) and the
            # prefix search of the ledger page (LIKE 'ord-8f%' under any collation).
            models.Index(
                fields=["reference"],
                name="wallet_led_reference_like",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["amount"], name="wallet_led_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream_id} {self.type} {self.amount}"

    @property
    def balance_before(self) -> Decimal:
        return self.balance_after - self.amount


class Gap(models.Model):
    """A break in the balanceAfter chain between two adjacent stored entries.

    `amount` is the money unaccounted for: what the entries missing between
    `after_entry` and `before_entry` must add up to.
    """

    class Kind(models.TextChoices):
        MISSED = "missed", "Entries missed between two reads"
        MISMATCH = "mismatch", "Amount does not chain"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    after_entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="gaps_after"
    )
    before_entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="gaps_before"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = MoneyField()
    detected_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("-detected_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["after_entry", "before_entry"], name="wallet_gap_unique_pair"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="wallet_gap_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Gap {self.after_entry_id}->{self.before_entry_id} {self.amount} ({self.status})"
