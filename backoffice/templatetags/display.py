"""The display language of the pages (see backoffice.display), as template filters.

`{% load display %}` then `{{ amount|money:"EUR" }}` -> "1,234.50 EUR",
`{{ moment|datetime }}` -> "2026-12-01 14:06" in the configured time zone (TIME_ZONE),
`{{ moment|datetime_s }}` -> "2026-12-01 14:06:05", `{{ moment|day }}` -> "2026-12-01",
`{{ percent|number }}` -> "12.50", `{% time_zone %}` -> "Europe/Madrid", and the status
badges: `{{ po|badge:"status" }}`, `{{ value|badge_of:"wallet.LedgerEntry.type" }}`,
`{{ value|label_of:"wallet.LedgerEntry.type" }}` (see backoffice.badges).
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils.safestring import SafeString

from backoffice import badges
from backoffice.display import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    time_zone_name,
)

register = template.Library()


@register.filter(name="money")
def money(value: object, currency: str = "") -> str:
    return format_money(value, currency)


@register.filter(name="number")
def number(value: object, places: int = 2) -> str:
    return format_number(value, int(places))


@register.filter(name="datetime")
def datetime_filter(value: datetime | None) -> str:
    return format_datetime(value)


@register.filter(name="datetime_s")
def datetime_seconds(value: datetime | None) -> str:
    return format_datetime(value, seconds=True)


@register.filter(name="day")
def day(value: date | None) -> str:
    return format_date(value)


@register.simple_tag(name="time_zone")
def time_zone() -> str:
    return time_zone_name()


@register.filter(name="badge")
def badge(record: object, field: str) -> SafeString:
    """The badge of a model row's status-like field: `{{ po|badge:"status" }}`."""
    return badges.badge_for(record, field)


@register.filter(name="badge_of")
def badge_of(value: object, key: str) -> SafeString:
    """The badge of a bare value: `{{ row.type|badge_of:"wallet.LedgerEntry.type" }}`."""
    return badges.badge(key, value)


@register.filter(name="label_of")
def label_of(value: object, key: str) -> str:
    """The human label of a bare value, without a badge."""
    return badges.label(key, value)
