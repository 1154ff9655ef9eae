"""Selling prices and margins: pure arithmetic on Decimals, no database access.

Kept apart from the services so precedence and rounding are testable on their own and
the bulk recomputation (`catalog.services.pricing.pricing_apply`) stays a thin loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from backoffice.money import CENT

from .models import PricingRule

HUNDRED = Decimal(100)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _ceil(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal(1), rounding=ROUND_CEILING)


def round_price(amount: Decimal, rounding: str) -> Decimal:
    """Round a selling price UP to a price point, so rounding never eats margin.

    to_99: the smallest X.99 not below the amount (12.30 -> 12.99, 13.00 -> 13.99).
    to_49_99: the smallest X.49 or X.99 not below it (12.30 -> 12.49, 12.50 -> 12.99).
    to_whole: the smallest whole euro not below it (12.01 -> 13.00).
    """
    amount = cents(amount)
    if rounding == PricingRule.Rounding.TO_99:
        return _ceil(amount + CENT) - CENT
    if rounding == PricingRule.Rounding.TO_49_99:
        return _ceil((amount + CENT) * 2) / 2 - CENT
    if rounding == PricingRule.Rounding.TO_WHOLE:
        return _ceil(amount).quantize(CENT)
    return amount


def selling_price_for(*, net: Decimal, rrp: Decimal, rule: PricingRule | None) -> Decimal:
    """The selling price of one combination under `rule` (None: the supplier's RRP)."""
    if rule is None:
        return cents(rrp)
    if rule.kind == PricingRule.Kind.FIXED_PRICE:
        # A fixed price is what the user typed: rounding it would silently change it.
        return cents(rule.value)
    if rule.kind == PricingRule.Kind.MARKUP_PERCENT:
        raw = net * (HUNDRED + rule.value) / HUNDRED
    else:
        raw = net + rule.value
    return round_price(raw, rule.rounding)


def margin_for(*, selling: Decimal, net: Decimal) -> tuple[Decimal, Decimal | None]:
    """(margin, margin %) with margin % of the selling price; None when selling is 0."""
    margin = cents(selling - net)
    if selling == 0:
        return margin, None
    return margin, cents(margin * HUNDRED / selling)


@dataclass(frozen=True, slots=True)
class Priced:
    selling_price: Decimal
    margin: Decimal
    margin_percent: Decimal | None
    rule_id: int | None


class RuleBook:
    """The active rules indexed by target: resolving one combination is dict lookups."""

    def __init__(self, rules: Iterable[PricingRule]) -> None:
        self.default: PricingRule | None = None
        self.by_category: dict[int, PricingRule] = {}
        self.by_brand: dict[str, PricingRule] = {}
        self.by_product: dict[int, PricingRule] = {}
        for rule in rules:
            if not rule.is_active:
                continue
            if rule.scope == PricingRule.Scope.PRODUCT and rule.product_id is not None:
                self.by_product[rule.product_id] = rule
            elif rule.scope == PricingRule.Scope.BRAND:
                self.by_brand[rule.brand.casefold()] = rule
            elif rule.scope == PricingRule.Scope.CATEGORY and rule.category_id is not None:
                self.by_category[rule.category_id] = rule
            else:
                self.default = rule

    @classmethod
    def load(cls) -> RuleBook:
        return cls(PricingRule.objects.filter(is_active=True))

    def rule_for(
        self, *, product_id: int, category_id: int | None, brand: str
    ) -> PricingRule | None:
        """Precedence: product > brand > category > default."""
        return (
            self.by_product.get(product_id)
            or (self.by_brand.get(brand.casefold()) if brand else None)
            or (self.by_category.get(category_id) if category_id is not None else None)
            or self.default
        )

    def price(
        self,
        *,
        product_id: int,
        category_id: int | None,
        brand: str,
        net: Decimal,
        rrp: Decimal,
    ) -> Priced:
        rule = self.rule_for(product_id=product_id, category_id=category_id, brand=brand)
        selling = selling_price_for(net=net, rrp=rrp, rule=rule)
        margin, percent = margin_for(selling=selling, net=net)
        return Priced(selling, margin, percent, rule.pk if rule is not None else None)
