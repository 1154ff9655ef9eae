"""The local mirror of the Licendi catalog.

Rows are never deleted: purchase-order lines point at combinations, so a product that
vanishes upstream is only marked inactive.
"""

from django.db import models


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
    price = models.DecimalField("RRP", max_digits=12, decimal_places=2)
    net_price = models.DecimalField(max_digits=12, decimal_places=2)
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
    price = models.DecimalField("RRP", max_digits=12, decimal_places=2)
    net_price = models.DecimalField(max_digits=12, decimal_places=2)
    in_stock = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["product", "order_sku"]
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
