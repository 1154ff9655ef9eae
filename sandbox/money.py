"""Money and time helpers shared by the catalog and the wallet."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
CURRENCY = "EUR"


def cents(amount: Decimal) -> Decimal:
    """Quantize to cents the way the supplier's invoices round (half up)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def net_from_price(price: Decimal, discount: Decimal) -> Decimal:
    """Tier price: RRP minus the tier discount (a percentage), to the cent."""
    return cents(price * (Decimal(100) - discount) / Decimal(100))


def fmt(amount: Decimal) -> str:
    """Serialise money as the contract does: a string with exactly two places."""
    text = str(amount.quantize(CENT))
    # Decimal keeps the sign of a negative zero ("-0.00"); no real amount has one.
    return "0.00" if text == "-0.00" else text


def parse_money(value: object) -> Decimal:
    """Parse a JSON money value (string or number) strictly to a cent Decimal.

    Raises ValueError for anything that is not a finite amount with at most two
    decimal places, so callers can answer with a clear 422.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
        raise ValueError("amount must be a string or a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    if amount != amount.quantize(CENT):
        raise ValueError("amount must have at most two decimal places")
    return amount.quantize(CENT)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Second-precision UTC timestamp with a ``Z`` suffix, as in the contract."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
