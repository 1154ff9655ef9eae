"""Factories for the orders tests, and a mirror of the sandbox catalog into catalog rows.

The mirror writes Category/Product/Combination rows straight from the sandbox's own
product details, so these tests do not depend on the catalog sync service.
"""

from decimal import Decimal

import factory
from django.utils import timezone

from backoffice import crypto
from catalog.models import Category, Combination, Product
from orders.models import Customer, LicenceKey, PurchaseOrder


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    company = factory.Sequence(lambda n: f"Company {n} S.L.")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    vat_id = factory.Sequence(lambda n: f"ESB{n:08d}")


class DraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    status = PurchaseOrder.Status.DRAFT


def mirror_sandbox_catalog(sb, skus=None) -> dict[str, Combination]:
    """Copy sandbox products (all, or the given product skus) into the catalog tables.

    Returns the combinations by order sku. A product without variants gets one
    combination whose order sku is the product sku.
    """
    now = timezone.now()
    out: dict[str, Combination] = {}
    for sku in skus or sb.product_skus():
        detail = sb.catalog.get(sku).to_detail()
        category, _ = Category.objects.get_or_create(name=detail["category"] or "Other")
        product, _ = Product.objects.update_or_create(
            sku=detail["sku"],
            defaults={
                "name": detail["name"],
                "category": category,
                "brand": detail["brand"],
                "platform": detail["platform"],
                "price": Decimal(detail["price"]),
                "net_price": Decimal(detail["netPrice"]),
                "has_variants": detail["hasVariants"],
                "in_stock": detail["inStock"],
                "first_seen_at": now,
                "last_seen_at": now,
            },
        )
        combos = detail["combinations"] or [
            {
                "orderSku": detail["sku"],
                "options": [],
                "name": "",
                "price": detail["price"],
                "netPrice": detail["netPrice"],
                "inStock": detail["inStock"],
            }
        ]
        for combo in combos:
            row, _ = Combination.objects.update_or_create(
                order_sku=combo["orderSku"],
                defaults={
                    "product": product,
                    "options": combo["options"],
                    "label": combo.get("name", ""),
                    "price": Decimal(combo["price"]),
                    "net_price": Decimal(combo["netPrice"]),
                    "in_stock": combo["inStock"],
                },
            )
            out[row.order_sku] = row
    return out


def in_stock_skus(combinations: dict[str, Combination], count: int) -> list[str]:
    return [sku for sku, combo in sorted(combinations.items()) if combo.in_stock][:count]


def stock_key(purchase_order: PurchaseOrder, n: int, customer: Customer | None = None):
    """A stored key numbered `n` (in stock unless a customer is given) and its clear value."""
    clear = f"KEY{n:02d}-AAAAA-BBBBB-CCCCC-DDD{n:02d}"
    key = LicenceKey.objects.create(
        purchase_order=purchase_order,
        order_sku="13200::0-0",
        name="Office",
        key_encrypted=crypto.encrypt(clear),
        key_hash=f"hash-{n}",
        key_masked=f"•••••-DDD{n:02d}",
        customer=customer,
        source=LicenceKey.Source.RESPONSE,
    )
    return key, clear
