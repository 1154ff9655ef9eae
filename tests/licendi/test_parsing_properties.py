"""Laws of money parsing, checked on generated amounts and hostile text (Hypothesis).

Money reaches the back-office as JSON strings or numbers. Whatever the form, the amount
read is exactly the amount written (never through a binary float), and anything that is
not a finite amount is refused with a ContractError naming the field, never another
exception and never NaN or infinity.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from licendi import ContractError
from licendi.parsing import loads, parse_balance, parse_ledger_entry, to_decimal

fast = settings(max_examples=300, deadline=None)

amounts = st.decimals(allow_nan=False, allow_infinity=False)
# Typical money and extreme exponents alike.
money = st.one_of(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    amounts,
)


def with_number(fields: dict[str, str], key: str, literal: str) -> str:
    """A JSON document whose `key` is the number literal `literal`, written as is."""
    return json.dumps({**fields, key: "NUMBER"}).replace('"NUMBER"', literal)


@fast
@given(amount=money, padding=st.sampled_from(["", " ", "\t", "\n", "  \r\n"]))
def test_an_amount_written_as_text_reads_back_exactly(amount, padding):
    read = to_decimal(f"{padding}{amount}{padding}", "amount")
    assert read == amount
    # Exactly as written: same digits and exponent, so "12.30" stays "12.30".
    assert str(read) == str(amount)


@fast
@given(amount=money)
def test_a_json_number_reads_back_exactly_never_through_a_float(amount):
    read = to_decimal(loads(with_number({}, "amount", str(amount)))["amount"], "amount")
    assert read == amount


@fast
@given(amount=money)
def test_string_and_number_forms_of_a_ledger_entry_agree(amount):
    as_text = {"id": "L1", "type": "order", "amount": str(amount), "balanceAfter": "1.00"}
    fields = {"id": "L1", "type": "order", "balanceAfter": "1.00"}
    as_number = loads(with_number(fields, "amount", str(amount)))
    assert parse_ledger_entry(as_text, "ledger").amount == amount
    assert parse_ledger_entry(as_number, "ledger").amount == amount


@fast
@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_becomes_the_decimal_of_its_shortest_repr(number):
    # Reached only when JSON was decoded elsewhere: the text the sender wrote, not the
    # binary expansion (0.1 -> 0.1, not 0.1000000000000000055511151231257827).
    read = to_decimal(number, "amount")
    assert read == Decimal(repr(number))
    assert float(read) == number


@fast
@given(whole=st.integers())
def test_an_integer_reads_as_the_same_whole_amount(whole):
    assert to_decimal(whole, "amount") == whole


@fast
@given(text=st.text(max_size=40))
@example("NaN")
@example("-Infinity")
@example("sNaN")
@example("inf")
@example("1e999999999999")
@example("12,30")
@example("12.30 EUR")
@example("")
def test_any_text_is_a_finite_amount_or_a_contract_error_naming_the_field(text):
    try:
        read = to_decimal(text, "ledger.amount")
    except ContractError as exc:
        assert exc.field == "ledger.amount"
        return
    assert read.is_finite()
    assert read == Decimal(text.strip())


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_numbers_are_refused(constant):
    with pytest.raises(ContractError):
        loads(with_number({}, "balance", constant))


@fast
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_non_amount_values_are_refused_with_the_field_named(value):
    with pytest.raises(ContractError) as raised:
        parse_balance({"balance": value})
    assert raised.value.field == "balance"
