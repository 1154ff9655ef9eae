"""Lenient reading: each coercion with one obvious meaning, noted; what stays refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from licendi import ContractError, Observations, parsing

PRODUCT: dict[str, Any] = {
    "sku": "13200",
    "name": "Office",
    "price": "49.90",
    "netPrice": "34.93",
    "currency": "EUR",
    "category": "Office",
    "brand": "Microsoft",
    "platform": "Windows",
    "hasVariants": False,
    "inStock": True,
    "updatedAt": "2026-11-20T10:00:00Z",
}


def observed(endpoint: str = "GET /api/products") -> tuple[Observations, Any]:
    seen = Observations()
    return seen, parsing.observing(seen, endpoint)


def notes_of(seen: Observations) -> set[tuple[str, str, str]]:
    return {(n.kind, n.field, n.detail) for n in seen.notes()}


@pytest.mark.parametrize(
    ("raw", "expected", "detail"),
    [
        (1, True, "number -> boolean"),
        (0, False, "number -> boolean"),
        ("true", True, "string -> boolean"),
        ("False", False, "string -> boolean"),
        ("1", True, "string -> boolean"),
        (" 0 ", False, "string -> boolean"),
    ],
)
def test_boolean_is_read_from_numbers_and_text_and_the_coercion_is_noted(
    raw: Any, expected: bool, detail: str
) -> None:
    seen, scope = observed()
    with scope:
        product = parsing.parse_product({**PRODUCT, "inStock": raw}, "items[250]")
    assert product.in_stock is expected
    assert notes_of(seen) == {("coercion", "items[].inStock", detail)}


def test_a_real_boolean_notes_nothing() -> None:
    seen, scope = observed()
    with scope:
        parsing.parse_product(PRODUCT, "items[0]")
    assert seen.notes() == []


@pytest.mark.parametrize("raw", [2, -1, "yes", "", [], {}, Decimal("0.5")])
def test_a_boolean_without_one_obvious_meaning_is_refused(raw: Any) -> None:
    with pytest.raises(ContractError) as info:
        parsing.coerce_bool(raw, "items[3].inStock")
    assert info.value.field == "items[3].inStock"


@pytest.mark.parametrize(
    ("raw", "expected", "noted"),
    [
        ("34.93", Decimal("34.93"), False),
        (" 34.93 ", Decimal("34.93"), False),
        (Decimal("34.93"), Decimal("34.93"), True),
        (35, Decimal("35"), True),
        (0.1, Decimal("0.1"), True),
    ],
)
def test_money_is_read_from_strings_and_numbers_exactly(
    raw: Any, expected: Decimal, noted: bool
) -> None:
    seen, scope = observed()
    with scope:
        assert parsing.coerce_money(raw, "items[1].netPrice") == expected
    expected_notes = {("coercion", "items[].netPrice", "number -> decimal")} if noted else set()
    assert notes_of(seen) == expected_notes


@pytest.mark.parametrize("raw", ["abc", "", None, True, "NaN", "Infinity", [], {"amount": 1}])
def test_money_that_is_not_a_number_is_refused(raw: Any) -> None:
    with pytest.raises(ContractError):
        parsing.coerce_money(raw, "price")


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (1795478400, "epoch seconds (number) -> datetime"),
        (Decimal("1795478400.0"), "epoch seconds (number) -> datetime"),
        ("1795478400", "epoch seconds (string) -> datetime"),
    ],
)
def test_timestamp_is_read_from_epoch_seconds_and_noted(raw: Any, detail: str) -> None:
    seen, scope = observed()
    with scope:
        moment = parsing.coerce_timestamp(raw, "items[0].updatedAt")
    assert moment == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert notes_of(seen) == {("coercion", "items[].updatedAt", detail)}


def test_iso_timestamps_with_offsets_are_read_without_a_note() -> None:
    seen, scope = observed()
    with scope:
        moment = parsing.coerce_timestamp("2026-11-24T01:00:00+01:00", "updatedAt")
    assert moment == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert seen.notes() == []


@pytest.mark.parametrize("raw", [-5, 10**13, "yesterday", True, [], "2026-13-45"])
def test_timestamp_without_one_obvious_meaning_is_refused(raw: Any) -> None:
    # Milliseconds since the epoch (10**13) could as well be seconds in year 300,000.
    with pytest.raises(ContractError):
        parsing.coerce_timestamp(raw, "updatedAt")


def test_key_is_read_as_a_string_or_from_an_object_and_the_example_is_redacted() -> None:
    seen, scope = observed("POST /api/orders")
    with scope:
        assert parsing.coerce_key("AAAAA-BBBBB", "items[0].keys[0]") == "AAAAA-BBBBB"
        assert (
            parsing.coerce_key({"key": "CCCCC-DDDDD", "sku": "1"}, "items[0].keys[1]")
            == "CCCCC-DDDDD"
        )
    [note] = seen.notes()
    assert (note.kind, note.field, note.detail) == ("coercion", "items[].keys[]", "object -> key")
    assert "CCCCC" not in repr(note.example)


@pytest.mark.parametrize("raw", ["", "  ", None, 12, {"code": "X"}, {"key": ""}, ["A"]])
def test_a_key_that_cannot_be_read_is_refused(raw: Any) -> None:
    with pytest.raises(ContractError):
        parsing.coerce_key(raw, "keys[0]")


def test_items_of_reads_a_bare_array_or_a_page_object() -> None:
    assert parsing.items_of([1, 2]) == [1, 2]
    assert parsing.items_of({"items": [3], "total": 1}) == [3]
    with pytest.raises(ContractError):
        parsing.items_of({"data": [3]})


def test_unknown_and_missing_fields_are_counted_per_field_not_per_record() -> None:
    seen, scope = observed()
    shaped = {k: v for k, v in PRODUCT.items() if k != "brand"} | {"ean": "8436"}
    with scope:
        parsing.parse_page(
            {"items": [shaped, shaped, shaped], "page": 1, "pageSize": 3, "total": 3, "next": None},
            parsing.parse_product,
            page=1,
            page_size=3,
            lenient=True,
        )
    counts = {(n.kind, n.field): (n.count, n.example) for n in seen.notes()}
    assert counts == {
        ("unknown_field", "items[].ean"): (3, "8436"),
        ("missing_field", "items[].brand"): (3, None),
        ("unknown_field", "next"): (1, None),
    }


def test_a_lenient_page_rejects_unreadable_records_with_their_reason_and_keeps_the_rest() -> None:
    page = parsing.parse_page(
        {
            "items": [
                PRODUCT,
                {**PRODUCT, "sku": None},
                {**PRODUCT, "sku": "X1", "price": "twelve"},
                "not an object",
            ],
            "total": 4,
        },
        parsing.parse_product,
        page=1,
        page_size=100,
        lenient=True,
    )
    assert [p.sku for p in page.items] == ["13200"]
    reasons = [(r.ref, r.field, r.reason) for r in page.rejected]
    assert reasons == [
        ("items[1]", "items[].sku", "missing field items[1].sku"),
        ("X1", "items[].price", "items[2].price is not a decimal amount: 'twelve'"),
        ("items[3]", "items[]", "items[3] must be an object"),
    ]


def test_rejected_records_keep_their_raw_json_with_secrets_redacted() -> None:
    # A ledger entry (an order with an unreadable total is recorded, not rejected: its
    # problems are named on the Order instead).
    _, rejected = parsing.read_each(
        [{"id": "o1", "keys": ["AAAAA-BBBBB"], "secret": "whsec_x", "amount": "x"}],
        "ledger",
        parsing.parse_ledger_entry,
    )
    [record] = rejected
    assert record.ref == "o1"
    assert record.raw == {"id": "o1", "keys": "[redacted]", "secret": "[redacted]", "amount": "x"}


def test_ledger_under_another_name_is_read_and_noted_not_taken_as_empty() -> None:
    entry = {"id": "led-1", "type": "topup", "amount": "10.00", "balanceAfter": "10.00"}
    seen, scope = observed("GET /api/balance")
    with scope:
        balance = parsing.parse_balance({"balance": "10.00", "entries": [entry]})
    assert [e.id for e in balance.ledger] == ["led-1"]
    assert ("coercion", "ledger", 'ledger under "entries"') in notes_of(seen)


def test_a_balance_with_an_unrecognised_list_instead_of_a_ledger_fails_loudly() -> None:
    with pytest.raises(ContractError, match="no ledger field"):
        parsing.parse_balance({"balance": "10.00", "movements": [{"id": "m1"}]})
    entry = {"amount": "1.00", "balanceAfter": "1.00"}
    with pytest.raises(ContractError, match="several ledger-like lists"):
        parsing.parse_balance({"balance": "1.00", "a": [entry], "b": [entry]})


def test_a_balance_without_any_ledger_is_noted_as_missing() -> None:
    seen, scope = observed("GET /api/balance")
    with scope:
        balance = parsing.parse_balance({"balance": "10.00"})
    assert balance.ledger == ()
    assert ("missing_field", "ledger", "") in notes_of(seen)


def test_the_contract_sandbox_answers_note_nothing() -> None:
    """Every endpoint of the honest sandbox, read through a noting client: no drift."""
    from licendi import LicendiClient, OrderLineRequest
    from sandbox import Sandbox

    sandbox = Sandbox(products=40, seed=5, api_key="k")
    seen = Observations()
    with LicendiClient(
        "http://sandbox.test", "k", transport=sandbox.transport(), observations=seen
    ) as client:
        sku = sandbox.order_skus()[0]
        placed = client.create_order(
            items=[OrderLineRequest(sku=sku, qty=1)], external_id="PO-1", idempotency_key="i-1"
        )
        sandbox.place_order([(sku, 1)])  # a dashboard order: externalId null
        client.create_webhook(url="https://shop.example/hooks", events=["order.delivered"])
        list(client.iter_product_pages(page_size=100))
        client.get_product(sandbox.product_skus()[0])
        client.get_balance()
        client.list_orders()
        client.get_order(placed.order.id)
        client.get_order_keys(placed.order.id)
        client.list_webhooks()

    assert seen.notes() == []


def test_field_names_made_of_data_do_not_grow_the_notes_without_bound() -> None:
    from licendi.observations import MAX_NOTES, OVERFLOW_FIELD

    seen, scope = observed()
    with scope:
        parsing.parse_product({**PRODUCT, **{f"sku-{n}": n for n in range(2 * MAX_NOTES)}}, "")
    notes = seen.notes()
    assert len(notes) == MAX_NOTES + 1
    [overflow] = [n for n in notes if n.field == OVERFLOW_FIELD]
    assert overflow.count == MAX_NOTES


def test_redaction_covers_keys_under_any_name_and_key_shaped_values():
    from licendi.observations import REDACTED, redact

    raw = {
        "sku": "10491",
        "Key": "secret-1",
        "license_key": "secret-2",
        "items": [{"activationKey": "secret-3", "note": "AB12C-DE34F-GH56I-JK78L"}],
        "apiToken": "secret-4",
        "serialNumber": "secret-5",
        "name": "Windows 11 Pro",
    }
    kept = redact(raw)
    assert kept["sku"] == "10491" and kept["name"] == "Windows 11 Pro"
    assert kept["Key"] == kept["license_key"] == kept["apiToken"] == REDACTED
    assert kept["serialNumber"] == REDACTED
    assert kept["items"] == [{"activationKey": REDACTED, "note": REDACTED}]
    assert "secret" not in repr(kept) and "AB12C" not in repr(kept)
