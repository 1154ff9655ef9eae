"""The display language of the pages: money and date-times shown one way everywhere.

`{% load display %}` then `{{ amount|money:"EUR" }}` -> "1,234.50 EUR" and
`{{ moment|datetime }}` -> "2026-12-01 14:06" in the configured time zone (TIME_ZONE).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone

from backoffice.money import CENT

register = template.Library()

DATETIME_FORMAT = "%Y-%m-%d %H:%M"
EMPTY = "—"


def format_money(value: object, currency: str = "") -> str:
    """Two decimals, thousands separators and the currency; "—" for no amount."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            return EMPTY
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return EMPTY
    text = f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


def format_datetime(value: datetime | None) -> str:
    """An aware date-time in the configured time zone, to the minute; "—" for none."""
    if value is None:
        return EMPTY
    if timezone.is_naive(value):
        return value.strftime(DATETIME_FORMAT)
    return timezone.localtime(value).strftime(DATETIME_FORMAT)


@register.filter(name="money")
def money(value: object, currency: str = "") -> str:
    return format_money(value, currency)


@register.filter(name="datetime")
def datetime_filter(value: datetime | None) -> str:
    return format_datetime(value)
