"""The quick readers of catalog records agree with the general ones (Hypothesis).

`parse_product`, `parse_product_detail` and `parse_combination` read a record in the
contract's exact shape without the general readers' bookkeeping. Whatever the record,
the answer must be the one the general readers give: the same values, no note lost
(a record that needs a coercion or has a missing or unknown field goes the general
way), and the same ContractError for one that cannot be read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from licendi import ContractError, Observations, parsing
from licendi.records import Product, ProductDetail

many = settings(max_examples=400, deadline=None)

odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=10**10),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**6),
    st.sampled_from(
        ["", " ", "1", "0", "true", "False", "abc", "NaN", "sNaN", "Infinity", "1e3", "1_000"]
    ),
    st.lists(st.integers(min_value=0, max_value=3), max_size=2),
    st.dictionaries(st.sampled_from(["key", "x"]), st.text(max_size=3), max_size=1),
)
texts = st.one_of(st.text(max_size=12), odd)
amounts = st.one_of(
    st.sampled_from([" 12.50 ", "\t3\n", "7", "-0.00", "1e3", "1_000"]),
    odd,
)
timestamps = st.one_of(
    st.sampled_from(["2024-05-01T10:00:00+02:00", " 2024-05-01 ", "1714550400", "yesterday"]),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda moment: moment.isoformat()
    ),
    odd,
)
flags = st.one_of(st.booleans(), odd)

# Each field: (the contract's shape, anything else a supplier might send).
contract_amounts = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(str)
contract_texts = st.text(max_size=12)
PRODUCT_VALUES: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "sku": (st.text(min_size=1, max_size=8), odd),
    "name": (contract_texts, texts),
    "price": (contract_amounts, amounts),
    "netPrice": (contract_amounts, amounts),
    "currency": (st.sampled_from(["EUR", "USD", ""]), texts),
    "category": (contract_texts, texts),
    "brand": (contract_texts, texts),
    "platform": (contract_texts, texts),
    "hasVariants": (st.booleans(), flags),
    "inStock": (st.booleans(), flags),
    "updatedAt": (
        st.datetimes(
            min_value=datetime(1971, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.just(UTC),
        ).map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
        timestamps,
    ),
}
COMBINATION_VALUES: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "orderSku": (st.text(min_size=1, max_size=8), odd),
    "options": (
        st.lists(st.integers(min_value=0, max_value=4), max_size=3),
        st.one_of(st.lists(st.integers(min_value=-1, max_value=4), max_size=3), odd),
    ),
    "price": (contract_amounts, amounts),
    "netPrice": (contract_amounts, amounts),
    "inStock": (st.booleans(), flags),
}


@st.composite
def records(
    draw: st.DrawFn, values: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]]
) -> dict[str, Any]:
    """Mostly the contract's shape; sometimes a field bent, missing, or one more."""
    record = {
        name: draw(other if draw(st.integers(min_value=0, max_value=5)) == 0 else contract)
        for name, (contract, other) in values.items()
    }
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        record.pop(draw(st.sampled_from(sorted(record))))
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        record["ean"] = draw(texts)
    return record


def general(read: Any, *args: Any) -> tuple[Any, str | None, list[Any]]:
    """What the general reader makes of a record: (value, error, notes)."""
    observations = Observations()
    with parsing.observing(observations, "GET /api/products"):
        try:
            return read(*args), None, observations.notes()
        except ContractError as exc:
            return None, str(exc), observations.notes()


def public(read: Any, *args: Any) -> tuple[Any, str | None, list[Any]]:
    return general(read, *args)


@many
@given(record=records(PRODUCT_VALUES))
def test_a_list_record_reads_the_same_either_way(record: dict[str, Any]) -> None:
    def general_product(obj: dict[str, Any]) -> Product:
        product = Product(**parsing._product_fields(obj, "items[0]"))
        parsing._known(obj, "items[0]", parsing._PRODUCT_FIELDS)
        return product

    assert public(parsing.parse_product, record, "items[0]") == general(general_product, record)


@many
@given(record=records(PRODUCT_VALUES), description=texts)
def test_a_detail_reads_the_same_either_way(record: dict[str, Any], description: Any) -> None:
    detail = {
        **record,
        "description": description,
        "axes": [{"name": "Edition", "options": ["Home", "Pro"]}],
        "combinations": [
            {"orderSku": "1::0", "options": [0], "price": "2", "netPrice": "1", "inStock": True}
        ],
    }

    def general_detail(obj: dict[str, Any]) -> ProductDetail:
        parsing._known(obj, "", parsing._DETAIL_FIELDS)
        return ProductDetail(
            **parsing._product_fields(obj, ""),
            description=parsing._text(obj, "description", ""),
            axes=parsing._each(obj["axes"], "axes", parsing.parse_axis),
            combinations=parsing._each(
                obj["combinations"], "combinations", parsing._read_combination
            ),
        )

    assert public(parsing.parse_product_detail, detail) == general(general_detail, detail)


@many
@given(record=records(COMBINATION_VALUES))
def test_a_combination_reads_the_same_either_way(record: dict[str, Any]) -> None:
    assert public(parsing.parse_combination, record, "combinations[0]") == general(
        parsing._read_combination, record, "combinations[0]"
    )


def test_a_contract_record_takes_no_note_and_keeps_exact_amounts() -> None:
    record = {
        "sku": "13200",
        "name": "Windows 11 Pro",
        "price": "259.90",
        "netPrice": "181.93",
        "currency": "EUR",
        "category": "Operating systems",
        "brand": "Microsoft",
        "platform": "Windows",
        "hasVariants": False,
        "inStock": True,
        "updatedAt": "2024-05-01T10:00:00Z",
    }
    product, error, notes = public(parsing.parse_product, record, "items[0]")

    assert error is None and notes == []
    assert product.net_price == Decimal("181.93")
    assert product.updated_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
