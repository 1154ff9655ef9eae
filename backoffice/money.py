"""The one definition of money in the database and in arithmetic.

Every amount is a Decimal with two places. Amounts in the database are `MoneyField`s of
14 digits (up to 999,999,999,999.99), wide enough for a wallet's running balance and
for any price or order total, so that an amount copied from one table to another
always fits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

CENT = Decimal("0.01")
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2
# Licendi prices, charges and pays out in euros; a record that says otherwise keeps its
# own `currency` field, but tables and exports name this one in their headers.
CURRENCY = "EUR"


class MoneyField(models.DecimalField):  # type: ignore[type-arg]
    """A DecimalField of 14 digits with 2 places.

    It deconstructs as a plain DecimalField, so migrations do not depend on this class
    and a change of width shows up as an ordinary AlterField.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
