"""The local mirror of the Licendi catalog.

Rows are never deleted: purchase-order lines point at combinations, so a product that
vanishes upstream is only marked inactive.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models

from backoffice.display import format_money, format_number
from backoffice.money import CURRENCY, MoneyField

# Digits of a stored margin %: a selling price of 0.01 (a fixed-price rule) on a net price
# just under a hundred million (the most a catalog price may be, licendi.parsing) is a
# margin of about -1,000,000,000,000 %, which must be stored rather than stop the pricing.
MARGIN_PERCENT_DIGITS = 16


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=300)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    brand = models.CharField(max_length=100, blank=True, db_index=True)
    platform = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    # Supplier figures for the product as listed (for a product with variants: its
    # cheapest combination). Combinations carry the figures that are ordered.
    price = MoneyField("RRP")
    net_price = MoneyField()
    currency = models.CharField(max_length=3, default="EUR")
    has_variants = models.BooleanField(default=False)
    in_stock = models.BooleanField(default=True)
    upstream_updated_at = models.DateTimeField(null=True, blank=True)
    # Hash of the list data last seen: details are fetched again only when it changes.
    list_fingerprint = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "sku"]
        indexes = [models.Index(fields=["name", "sku"], name="product_name_sku")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Axis(models.Model):
    """A variation axis of a product (Edition, Devices, Years) with its option labels."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="axes")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    options = models.JSONField(default=list)

    class Meta:
        ordering = ["product", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "position"], name="axis_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} axis {self.position}: {self.name}"


class Combination(models.Model):
    """One orderable thing. A product without variants has exactly one, whose
    order_sku is the product sku, so ordering code never special-cases it."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="combinations")
    order_sku = models.CharField(max_length=100, unique=True)
    options = models.JSONField(default=list, help_text="Option index on each axis")
    label = models.CharField(max_length=300, blank=True, help_text="Option labels, joined")
    price = MoneyField("RRP")
    net_price = MoneyField()
    in_stock = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    # Denormalised from the pricing rules by catalog.pricing.pricing_apply so that the
    # list can sort and filter 60,000 rows by margin in SQL. Null selling price: the
    # combination has not been priced yet.
    selling_price = MoneyField(null=True, blank=True)
    margin = MoneyField(null=True, blank=True)
    # Null when the selling price is zero (margin % undefined): shown and filtered as
    # "below minimum margin".
    margin_percent = models.DecimalField(
        max_digits=MARGIN_PERCENT_DIGITS, decimal_places=2, null=True, blank=True
    )
    priced_by_rule = models.ForeignKey(
        "PricingRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    price_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["product", "order_sku"]
        indexes = [
            # On PostgreSQL migration 0003 rebuilds it with NULLS FIRST (SQLite's default,
            # and not a syntax SQLite accepts in an index) so one index serves both
            # directions of the margin % sort, undefined margins counting as the worst.
            models.Index(fields=["is_active", "margin_percent"], name="combo_active_margin_pct"),
            models.Index(fields=["is_active", "margin"], name="combo_active_margin"),
            models.Index(fields=["is_active", "selling_price"], name="combo_active_selling"),
            models.Index(fields=["is_active", "net_price"], name="combo_active_net"),
            models.Index(fields=["is_active", "price"], name="combo_active_rrp"),
            models.Index(fields=["price_changed_at"], name="combo_price_changed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(net_price__gte=0), name="combination_net_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="combination_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.label}".strip()


class SyncRun(models.Model):
    """One catalog sync: who started it, how far it got, what it changed.

    At most one run is `running` at a time; a partial unique index enforces it in the
    database, so two workers (or a worker and the command line) cannot both sync.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another sync was running)"

    class Trigger(models.TextChoices):
        BEAT = "beat", "Schedule"
        MANUAL = "manual", "Sync now"
        COMMAND = "command", "Command line"

    class Phase(models.TextChoices):
        STARTING = "starting", "Starting"
        LISTING = "listing", "Reading the product list"
        DETAILS = "details", "Fetching changed products"
        APPLYING = "applying", "Writing changes"
        DONE = "done", "Done"

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every progress report: a running row whose heartbeat is older than the
    # task time limit belongs to a dead worker and may be taken over.
    heartbeat_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.STARTING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    price_changes = models.PositiveIntegerField(default=0)
    detail_requests = models.PositiveIntegerField(default=0)
    # Upstream records skipped because they could not be read (see Upstream problems).
    quarantined = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="syncrun_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"Sync #{self.pk} {self.status}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def quarantine_ref(self) -> str:
        """How the upstream-problems records name this run."""
        return f"{self._meta.label}:{self.pk}"

    @property
    def progress_percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def duration(self) -> timedelta | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class PricingRule(models.Model):
    """How the selling price of a combination is derived from the supplier figures.

    The most specific active rule wins: product > brand > category > default. Without
    any rule the selling price is the supplier's RRP.
    """

    class Scope(models.TextChoices):
        DEFAULT = "default", "Default (every product)"
        CATEGORY = "category", "Category"
        BRAND = "brand", "Brand"
        PRODUCT = "product", "Product"

    class Kind(models.TextChoices):
        MARKUP_PERCENT = "markup_percent", "Markup % over net"
        MARKUP_AMOUNT = "markup_amount", "Markup amount over net"
        FIXED_PRICE = "fixed_price", "Fixed selling price"

    class Rounding(models.TextChoices):
        NONE = "none", "None (to the cent)"
        TO_99 = "to_99", "Up to .99"
        TO_49_99 = "to_49_99", "Up to .49 or .99"
        TO_WHOLE = "to_whole", "Up to a whole euro"

    # Higher wins; stored on the row so the precedence is data, not an if-chain.
    PRECEDENCE = {Scope.DEFAULT: 0, Scope.CATEGORY: 1, Scope.BRAND: 2, Scope.PRODUCT: 3}

    scope = models.CharField(max_length=10, choices=Scope.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="pricing_rules"
    )
    brand = models.CharField(max_length=100, blank=True)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="pricing_rules"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.NONE)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["scope", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gt=0), name="pricingrule_value_gt_0"),
            models.CheckConstraint(
                name="pricingrule_target_matches_scope",
                condition=(
                    models.Q(scope="default", category__isnull=True, product__isnull=True, brand="")
                    | models.Q(
                        scope="category", category__isnull=False, product__isnull=True, brand=""
                    )
                    | (
                        models.Q(scope="brand", category__isnull=True, product__isnull=True)
                        & ~models.Q(brand="")
                    )
                    | models.Q(
                        scope="product", category__isnull=True, product__isnull=False, brand=""
                    )
                ),
            ),
            # A fixed price only makes sense for one product's combinations.
            models.CheckConstraint(
                name="pricingrule_fixed_price_product_only",
                condition=~models.Q(kind="fixed_price") | models.Q(scope="product"),
            ),
            # One active rule per target, so precedence never needs a tie-break.
            models.UniqueConstraint(
                fields=["scope"],
                condition=models.Q(is_active=True, scope="default"),
                name="pricingrule_one_active_default",
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(is_active=True, scope="category"),
                name="pricingrule_one_active_per_category",
            ),
            models.UniqueConstraint(
                fields=["brand"],
                condition=models.Q(is_active=True, scope="brand"),
                name="pricingrule_one_active_per_brand",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(is_active=True, scope="product"),
                name="pricingrule_one_active_per_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.target_label}: {self.describe()}"

    @property
    def precedence(self) -> int:
        return self.PRECEDENCE[self.Scope(self.scope)]

    @property
    def target_label(self) -> str:
        if self.scope == self.Scope.CATEGORY and self.category is not None:
            return self.category.name
        if self.scope == self.Scope.BRAND:
            return self.brand
        if self.scope == self.Scope.PRODUCT and self.product is not None:
            return f"{self.product.name} ({self.product.sku})"
        return "all products"

    def describe(self) -> str:
        if self.kind == self.Kind.MARKUP_PERCENT:
            text = f"net + {format_number(self.value)}%"
        elif self.kind == self.Kind.MARKUP_AMOUNT:
            text = f"net + {format_money(self.value, CURRENCY)}"
        else:
            text = format_money(self.value, CURRENCY)
        if self.rounding != self.Rounding.NONE:
            text += f", {self.get_rounding_display().lower()}"
        return text


class PriceChange(models.Model):
    """A change of a combination's net price or RRP seen by a sync, with its effect."""

    combination = models.ForeignKey(
        Combination, on_delete=models.PROTECT, related_name="price_changes"
    )
    sync_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    old_net_price = MoneyField()
    new_net_price = MoneyField()
    old_price = MoneyField("old RRP")
    new_price = MoneyField("new RRP")
    # Our margin just before and just after the change (selling price from the rules).
    old_margin = MoneyField(null=True, blank=True)
    new_margin = MoneyField(null=True, blank=True)
    new_margin_percent = models.DecimalField(
        max_digits=MARGIN_PERCENT_DIGITS, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["-changed_at"], name="pricechange_changed_at"),
            models.Index(fields=["combination", "changed_at"], name="pricechange_combo_at"),
        ]

    def __str__(self) -> str:
        return f"{self.combination_id}: {self.old_net_price} -> {self.new_net_price}"

    @property
    def net_delta(self):  # type: ignore[no-untyped-def]
        return self.new_net_price - self.old_net_price
