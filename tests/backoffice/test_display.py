"""backoffice.display: the one way amounts and times are written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backoffice.display import EMPTY, format_datetime, format_money, local


class Amount(Decimal):
    """A Decimal subclass (a value some library hands over)."""


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("1234.5"), "EUR", "1,234.50 EUR"),
        (Decimal("-186.025"), "EUR", "-186.03 EUR"),  # half up, away from zero
        (Decimal("2.675"), "", "2.68"),
        (Decimal("0"), "EUR", "0.00 EUR"),
        (Decimal("-0.001"), "", "-0.00"),
        (Amount("3.335"), "", "3.34"),
        (7, "USD", "7.00 USD"),
        (1.005, "", "1.01"),  # through its text, "1.005"
        ("1234567.891", "", "1,234,567.89"),
        (None, "EUR", EMPTY),
        ("", "EUR", EMPTY),
        (True, "", EMPTY),
        ("abc", "", EMPTY),
        (Decimal("NaN"), "", EMPTY),
        (Decimal("sNaN"), "", EMPTY),
        (Decimal("-Infinity"), "", EMPTY),
        ("inf", "", EMPTY),
        (Decimal("1e40"), "EUR", EMPTY),  # more digits than the context holds
    ],
)
def test_format_money(value: object, currency: str, expected: str) -> None:
    assert format_money(value, currency) == expected


def test_times_are_written_in_the_configured_zone() -> None:
    moment = dt.datetime(2026, 7, 1, 12, 5, 9, tzinfo=dt.UTC)
    with timezone.override(ZoneInfo("Europe/Madrid")):
        assert local(moment) == moment
        assert local(moment).tzinfo == ZoneInfo("Europe/Madrid")
        assert format_datetime(moment) == "2026-07-01 14:05"
        assert format_datetime(moment, seconds=True) == "2026-07-01 14:05:09"
    with timezone.override(ZoneInfo("America/New_York")):
        assert format_datetime(moment) == "2026-07-01 08:05"


def test_a_naive_time_is_written_as_it_is() -> None:
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)  # a naive time: the case under test
    with timezone.override(ZoneInfo("Europe/Madrid")):
        assert local(naive) is naive
        assert format_datetime(naive) == "2026-01-02 03:04"
    assert format_datetime(dt.date(2026, 1, 2)) == "2026-01-02"
    assert format_datetime(None) == EMPTY
