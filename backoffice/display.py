"""The display language of the back-office: how a person reads money and time.

One place for it, used by templates (`{% load display %}`), tables, e-mails and
notifications alike:

- money: two decimals, thousands separators and the currency, "1,234.50 EUR";
- date-times: in the configured time zone (settings.TIME_ZONE, named in the footer of
  every page), one format, "2026-12-01 14:06" (with seconds, "2026-12-01 14:06:05", for
  the logs where events a few seconds apart must read apart); dates "2026-12-01";
- charts get the same: local wall times and the money format (see `chart_time`).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

from .money import CENT

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
DATETIME_SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"
EMPTY = "—"


def format_money(value: object, currency: str = "") -> str:
    """Two decimals, thousands separators and the currency; "—" for no amount."""
    if type(value) is not Decimal:  # a stored amount is one: no conversion, no checks
        if value is None or value == "" or isinstance(value, bool):
            return EMPTY
        try:
            value = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return EMPTY
    if not value.is_finite():
        return EMPTY
    try:
        amount = value.quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        return EMPTY
    return f"{amount:,.2f} {currency}" if currency else f"{amount:,.2f}"


def format_number(value: object, places: int = 2) -> str:
    """A figure that is not money (a percentage, a discount): `places` decimals with
    thousands separators; "—" for none."""
    if value is None or value == "" or isinstance(value, bool):
        return EMPTY
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            return EMPTY
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return EMPTY
    return f"{number:,.{places}f}"


def local(value: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """An aware date-time in the configured time zone, or `zone` when given (the
    current zone looked up once for many); a naive one is taken as is."""
    # timezone.localtime() without its own second naive check: a list shows 50 times.
    if value.utcoffset() is None:
        return value
    return value.astimezone(zone or timezone.get_current_timezone())


def format_datetime(
    value: dt.datetime | dt.date | None, *, seconds: bool = False, zone: dt.tzinfo | None = None
) -> str:
    """A date-time in the configured time zone (`zone`: that zone, see `local`), to the
    minute (or second); "—" for none. A date alone is written as a date."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, dt.datetime):
        return format_date(value)
    return local(value, zone).strftime(DATETIME_SECONDS_FORMAT if seconds else DATETIME_FORMAT)


def format_date(value: dt.date | None) -> str:
    """The day of a date or date-time (a date-time's day in the configured zone)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dt.datetime):
        value = local(value)
    return value.strftime(DATE_FORMAT)


def chart_time(value: dt.datetime) -> str:
    """A date-time as a chart's x value: the local wall time, with no offset, so that
    the browser draws it as the pages write it whatever the viewer's own zone."""
    return local(value).replace(tzinfo=None, microsecond=0).isoformat()


def time_zone_name() -> str:
    """The name of the zone every time is shown in ("Europe/Madrid")."""
    return str(timezone.get_current_timezone_name())
