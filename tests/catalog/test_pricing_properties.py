"""Laws of selling prices and margins, checked on generated amounts (Hypothesis).

The example-based tests in test_pricing.py show the price points; these state what must
hold for every amount: rounding goes up to the nearest price point and never below the
amount, a markup is never eaten by rounding, the margin is the price minus net exactly,
and the most specific rule wins whatever the letter case of the brand.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.models import PricingRule
from catalog.pricing import RuleBook, margin_for, round_price, selling_price_for

R = PricingRule.Rounding
K = PricingRule.Kind
S = PricingRule.Scope
CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# How far apart the price points of each rounding are, and the cents they end in.
STEP = {R.NONE: CENT, R.TO_99: Decimal(1), R.TO_49_99: Decimal("0.50"), R.TO_WHOLE: Decimal(1)}
ENDINGS = {
    R.TO_99: {Decimal("0.99")},
    R.TO_49_99: {Decimal("0.49"), Decimal("0.99")},
    R.TO_WHOLE: {Decimal("0.00")},
}

fast = settings(max_examples=300, deadline=None)

# Raw prices as computation leaves them: up to six decimals, up to a million euros.
raw_amounts = st.decimals(
    min_value=0, max_value=1_000_000, places=6, allow_nan=False, allow_infinity=False
)
# Money as stored: cents; small amounts often, where half cents and price points are dense.
money = st.one_of(
    st.decimals(min_value=0, max_value=20, places=2, allow_nan=False),
    st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False),
)
positive_money = st.decimals(min_value=CENT, max_value=100_000, places=2, allow_nan=False)
# Markups staff actually type, and any other up to the form's limit.
percents = st.one_of(
    st.sampled_from([Decimal(p) for p in ("5", "10", "12.5", "15", "20", "25", "33.33", "50")]),
    st.decimals(min_value=CENT, max_value=1000, places=2, allow_nan=False),
)
roundings = st.sampled_from(list(R))


def cents(amount: Decimal) -> Decimal:
    """To the cent, half a cent up: the one rounding money gets before price points."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def rule(kind: str, value: Decimal, rounding: str = R.NONE) -> PricingRule:
    scope = S.PRODUCT if kind == K.FIXED_PRICE else S.DEFAULT
    return PricingRule(scope=scope, kind=kind, value=value, rounding=rounding)


@fast
@given(amount=raw_amounts, rounding=roundings)
def test_rounding_lands_on_the_nearest_price_point_at_or_above_the_amount(amount, rounding):
    price = round_price(amount, rounding)
    at_least = cents(amount)

    assert price >= at_least
    # The nearest one: the price point one step lower would be below the amount.
    assert price - STEP[rounding] < at_least
    assert price.as_tuple().exponent == -2
    if rounding in ENDINGS:
        assert price % 1 in ENDINGS[rounding]


@fast
@given(amount=raw_amounts, rounding=roundings)
def test_rounding_a_rounded_price_changes_nothing(amount, rounding):
    price = round_price(amount, rounding)
    assert round_price(price, rounding) == price


@fast
@given(a=raw_amounts, b=raw_amounts, rounding=roundings)
def test_rounding_keeps_the_order_of_prices(a, b, rounding):
    low, high = sorted((a, b))
    assert round_price(low, rounding) <= round_price(high, rounding)


@fast
@given(net=money, percent=percents, rounding=roundings)
def test_a_percent_markup_is_never_eaten_by_rounding(net, percent, rounding):
    selling = selling_price_for(net=net, rrp=Decimal(0), rule=rule(K.MARKUP_PERCENT, percent))
    rounded = selling_price_for(
        net=net, rrp=Decimal(0), rule=rule(K.MARKUP_PERCENT, percent, rounding)
    )
    margin, _ = margin_for(selling=rounded, net=net)

    assert selling == cents(net * (HUNDRED + percent) / HUNDRED)
    assert rounded >= selling
    assert margin >= cents(net * percent / HUNDRED)


@fast
@given(net=money, markup=positive_money, rounding=roundings)
def test_an_amount_markup_is_never_eaten_by_rounding(net, markup, rounding):
    selling = selling_price_for(
        net=net, rrp=Decimal(0), rule=rule(K.MARKUP_AMOUNT, markup, rounding)
    )
    assert selling - net >= markup
    assert selling - STEP[rounding] < net + markup


@fast
@given(net=money, rrp=money, price=positive_money, rounding=roundings)
def test_a_fixed_price_is_kept_as_typed_and_no_rule_means_the_rrp(net, rrp, price, rounding):
    assert selling_price_for(net=net, rrp=rrp, rule=rule(K.FIXED_PRICE, price, rounding)) == price
    assert selling_price_for(net=net, rrp=rrp, rule=None) == rrp


@fast
@given(selling=money, net=money)
def test_margin_is_price_minus_net_exactly_and_its_percent_is_of_the_price(selling, net):
    margin, percent = margin_for(selling=selling, net=net)

    assert margin == selling - net
    if selling == 0:
        assert percent is None
        return
    exact = margin * HUNDRED / selling
    assert percent is not None
    assert abs(percent - exact) <= Decimal("0.005")
    assert percent.as_tuple().exponent == -2
    # Sold at or above cost: between 0 % and 100 % of the price.
    if margin >= 0:
        assert Decimal(0) <= percent <= HUNDRED


@st.composite
def rule_books(draw: st.DrawFn) -> tuple[dict[str, PricingRule], str]:
    """Some of the four scopes have an active rule; the product's brand in any case."""
    brand = draw(st.sampled_from(["Microsoft", "Adobe", "Kaspersky Lab", "ÉDITEUR"]))
    written = "".join(
        char.upper() if draw(st.booleans()) else char.lower() for char in brand
    )  # the rule's brand as staff typed it
    present = draw(st.sets(st.sampled_from(list(S))))
    rules: dict[str, PricingRule] = {}
    for pk, scope in enumerate(sorted(present), start=1):
        targets = {
            S.DEFAULT: {},
            S.CATEGORY: {"category_id": 7},
            S.BRAND: {"brand": written},
            S.PRODUCT: {"product_id": 42},
        }[S(scope)]
        rules[scope] = PricingRule(
            pk=pk,
            scope=scope,
            kind=K.MARKUP_PERCENT,
            value=Decimal(10),
            is_active=draw(st.booleans()),
            **targets,
        )
    return rules, brand


@fast
@given(book=rule_books())
def test_the_most_specific_active_rule_wins(book):
    rules, brand = book
    found = RuleBook(rules.values()).rule_for(product_id=42, category_id=7, brand=brand)

    active = [rules[s] for s in (S.PRODUCT, S.BRAND, S.CATEGORY, S.DEFAULT) if s in rules]
    active = [r for r in active if r.is_active]
    assert found is (active[0] if active else None)
