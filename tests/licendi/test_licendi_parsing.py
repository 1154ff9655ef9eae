from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from licendi import ContractError, OrderLineRequest, parsing
from licendi.records import KeyAssigned, OrderDelivered

PRODUCT: dict[str, Any] = {
    "sku": "13200",
    "name": "Microsoft Office 2021 Professional Plus",
    "category": "Office",
    "brand": "Microsoft",
    "platform": "Windows",
    "price": "49.90",
    "netPrice": "34.93",
    "currency": "EUR",
    "hasVariants": True,
    "inStock": True,
    "updatedAt": "2026-11-20T10:00:00Z",
}

ORDER: dict[str, Any] = {
    "id": "ord-8f3a2c",
    "externalId": "PO-2026-001",
    "status": "delivered",
    "createdAt": "2026-11-26T09:12:00Z",
    "total": "41.86",
    "currency": "EUR",
    "invoice": {"number": "INV-2026-004211"},
    "items": [
        {
            "sku": "13200::0-0",
            "name": "Office 2021 Home & Student, 1 PC",
            "qty": 2,
            "unitPrice": "20.93",
            "keys": ["AAAAA-11111", "BBBBB-22222"],
        }
    ],
}


def page_of(items: list[Any], **meta: Any) -> bytes:
    return json.dumps({"items": items, **meta}).encode()


def parse_products(raw: bytes, page: int = 1, page_size: int = 100) -> Any:
    return parsing.parse_page(
        parsing.loads(raw), parsing.parse_product, page=page, page_size=page_size
    )


def test_product_page_object_is_parsed_with_its_paging_fields() -> None:
    result = parse_products(page_of([PRODUCT], page=3, pageSize=50, total=2417), page=3)

    assert (result.page, result.page_size, result.total) == (3, 50, 2417)
    product = result.items[0]
    assert product.sku == "13200"
    assert product.price == Decimal("49.90")
    assert product.net_price == Decimal("34.93")
    assert product.has_variants is True
    assert product.updated_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_bare_array_is_accepted_as_the_whole_collection() -> None:
    result = parse_products(json.dumps([PRODUCT, {**PRODUCT, "sku": "2"}]).encode())

    assert [p.sku for p in result.items] == ["13200", "2"]
    assert result.total == 2
    assert result.page == 1


def test_page_object_without_total_leaves_total_unknown() -> None:
    result = parse_products(page_of([PRODUCT]), page=2, page_size=10)

    assert result.total is None
    assert (result.page, result.page_size) == (2, 10)


def test_money_as_json_number_is_exact_decimal() -> None:
    raw = b'{"sku": "1", "name": "x", "price": 0.10, "netPrice": 0.20}'
    product = parsing.parse_product(parsing.loads(raw))

    assert product.price == Decimal("0.10")
    assert product.price + product.net_price == Decimal("0.30")
    assert isinstance(product.price, Decimal)


def test_money_as_string_and_as_integer_both_parse() -> None:
    product = parsing.parse_product({**PRODUCT, "price": "0.10", "netPrice": 7})

    assert product.price + Decimal("0.20") == Decimal("0.30")
    assert product.net_price == Decimal(7)


def test_money_given_as_python_float_goes_through_its_shortest_text() -> None:
    assert parsing.to_decimal(0.1, "price") == Decimal("0.1")


@pytest.mark.parametrize(
    "bad", ["12,50", "abc", "", True, None, [], {"amount": 1}, "NaN", "Infinity"]
)
def test_garbage_money_is_a_contract_error_naming_the_field(bad: Any) -> None:
    with pytest.raises(ContractError) as caught:
        parsing.parse_product({**PRODUCT, "netPrice": bad})

    assert caught.value.field == "netPrice"
    assert "netPrice" in str(caught.value)


def test_nan_literal_in_json_is_rejected() -> None:
    with pytest.raises(ContractError):
        parsing.loads(b'{"price": NaN}')


def test_unknown_fields_are_ignored() -> None:
    product = parsing.parse_product({**PRODUCT, "ean": "123", "promo": {"x": 1}})

    assert product.sku == "13200"


def test_missing_optional_fields_take_documented_defaults() -> None:
    product = parsing.parse_product({"sku": "9", "name": "Thing", "price": "1", "netPrice": "1"})

    assert product.currency == "EUR"
    assert product.category == ""
    assert product.has_variants is False
    assert product.in_stock is True
    assert product.updated_at is None


def test_missing_sku_is_a_contract_error_with_its_position() -> None:
    body = page_of([PRODUCT, {k: v for k, v in PRODUCT.items() if k != "sku"}])

    with pytest.raises(ContractError) as caught:
        parse_products(body)

    assert caught.value.field == "items[1].sku"


def test_numeric_sku_is_read_as_its_text() -> None:
    assert parsing.parse_product({**PRODUCT, "sku": 13200}).sku == "13200"


def test_list_that_is_neither_array_nor_page_object_is_rejected() -> None:
    with pytest.raises(ContractError):
        parse_products(b'{"products": []}')


def test_invalid_json_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        parsing.loads(b"<html>oops</html>")


def test_datetime_with_offset_is_normalised_to_utc_and_naive_is_read_as_utc() -> None:
    assert parsing.to_datetime("2026-11-20T11:00:00+01:00", "t") == datetime(
        2026, 11, 20, 10, tzinfo=UTC
    )
    assert parsing.to_datetime("2026-11-20T10:00:00", "t").tzinfo is UTC


def test_garbage_datetime_is_a_contract_error() -> None:
    with pytest.raises(ContractError) as caught:
        parsing.parse_product({**PRODUCT, "updatedAt": "yesterday"})

    assert caught.value.field == "updatedAt"


def test_product_detail_with_axes_and_combinations() -> None:
    detail = parsing.parse_product_detail(
        {
            **PRODUCT,
            "description": "Suite",
            "axes": [
                {"name": "Edition", "options": ["Home & Student", "Professional Plus"]},
                {"name": "Devices", "options": ["1 PC", "5 PCs"]},
            ],
            "combinations": [
                {
                    "orderSku": "13200::1-0",
                    "options": [1, 0],
                    "price": "59.90",
                    "netPrice": 41.93,
                    "inStock": False,
                }
            ],
        }
    )

    assert detail.axes[1].options == ("1 PC", "5 PCs")
    combination = detail.combinations[0]
    assert combination.order_sku == "13200::1-0"
    assert combination.options == (1, 0)
    assert combination.net_price == Decimal("41.93")
    assert combination.in_stock is False


def test_product_detail_without_variants_has_empty_axes() -> None:
    detail = parsing.parse_product_detail({**PRODUCT, "hasVariants": False})

    assert detail.axes == ()
    assert detail.combinations == ()


def test_combination_with_negative_option_index_is_rejected() -> None:
    with pytest.raises(ContractError) as caught:
        parsing.parse_product_detail(
            {
                **PRODUCT,
                "combinations": [
                    {"orderSku": "1::0", "options": [-1], "price": "1", "netPrice": "1"}
                ],
            }
        )

    assert caught.value.field == "combinations[0].options[0]"


def test_balance_with_signed_ledger_amounts() -> None:
    balance = parsing.parse_balance(
        parsing.loads(
            b'{"balance": "1520.40", "currency": "EUR", "tier": "Gold", "discount": "30.00",'
            b' "ledger": [{"id": "led-1", "createdAt": "2026-11-26T09:12:00Z", "type": "order",'
            b' "amount": "-41.86", "balanceAfter": "1520.40", "reference": "ord-8f3a2c",'
            b' "description": "Order"}]}'
        )
    )

    assert balance.balance == Decimal("1520.40")
    assert balance.discount == Decimal("30.00")
    entry = balance.ledger[0]
    assert entry.amount == Decimal("-41.86")
    assert entry.balance_after == Decimal("1520.40")
    assert entry.reference == "ord-8f3a2c"


def test_balance_without_ledger_or_discount() -> None:
    balance = parsing.parse_balance({"balance": 10})

    assert balance.ledger == ()
    assert balance.discount is None


def test_ledger_entry_missing_balance_after_is_rejected() -> None:
    with pytest.raises(ContractError) as caught:
        parsing.parse_balance(
            {"balance": "1", "ledger": [{"id": "l", "type": "topup", "amount": "1"}]}
        )

    assert caught.value.field == "ledger[0].balanceAfter"


def test_order_with_invoice_and_keys() -> None:
    order = parsing.parse_order(ORDER)

    assert order.invoice_number == "INV-2026-004211"
    assert order.total == Decimal("41.86")
    assert order.items[0].keys == ("AAAAA-11111", "BBBBB-22222")
    assert order.items[0].unit_price == Decimal("20.93")


def test_order_list_items_without_keys_or_invoice() -> None:
    summary = {k: v for k, v in ORDER.items() if k not in ("items", "invoice")}
    orders = parsing.parse_orders({"items": [summary], "page": 1, "total": 1})

    assert orders[0].items == ()
    assert orders[0].invoice_number is None


def test_orders_as_bare_array() -> None:
    assert [o.id for o in parsing.parse_orders([ORDER])] == ["ord-8f3a2c"]


def test_keys_200_flat_list_means_delivered() -> None:
    keys = parsing.parse_order_keys(200, [{"sku": "1", "name": "n", "key": "K-1"}])

    assert keys.status == "delivered"
    assert keys.keys[0].key == "K-1"


def test_keys_202_without_keys_means_pending() -> None:
    assert parsing.parse_order_keys(202, {"status": "pending"}).status == "pending"


def test_keys_202_with_keys_so_far_means_partially_delivered() -> None:
    keys = parsing.parse_order_keys(202, {"keys": [{"sku": "1", "key": "K-1"}]})

    assert keys.status == "partially_delivered"
    assert len(keys.keys) == 1


def test_order_request_body_uses_upstream_names() -> None:
    body = parsing.order_request_body(
        items=[OrderLineRequest(sku="13200::0-0", qty=2)], external_id="PO-1"
    )

    assert body == {"items": [{"sku": "13200::0-0", "qty": 2}], "externalId": "PO-1"}


def test_key_assigned_event_is_typed() -> None:
    event = parsing.parse_webhook_event(
        {
            "id": "evt_1",
            "type": "key.assigned",
            "createdAt": "2026-11-26T09:15:00Z",
            "data": {"orderId": "o1", "externalId": "PO-1", "sku": "1", "name": "n", "key": "K"},
        }
    )

    assert isinstance(event.data, KeyAssigned)
    assert event.data.key == "K"


def test_order_delivered_event_is_typed() -> None:
    event = parsing.parse_webhook_event(
        {
            "id": "evt_2",
            "type": "order.delivered",
            "data": {"orderId": "o1", "keys": [{"sku": "1", "key": "K"}]},
        }
    )

    assert isinstance(event.data, OrderDelivered)
    assert event.data.keys[0].key == "K"


def test_unknown_event_type_keeps_raw_data() -> None:
    event = parsing.parse_webhook_event({"id": "evt_3", "type": "order.refunded", "data": {"a": 1}})

    assert event.data == {"a": 1}


def test_event_missing_id_is_a_contract_error() -> None:
    with pytest.raises(ContractError) as caught:
        parsing.parse_webhook_event({"type": "key.assigned", "data": {}})

    assert caught.value.field == "id"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"error": {"code": "out_of_stock", "message": "gone"}}', ("out_of_stock", "gone")),
        (b'{"code": "x", "message": "y"}', ("x", "y")),
        (b"<html>Bad Gateway</html>", (None, None)),
        (b"", (None, None)),
        (b"[1]", (None, None)),
    ],
)
def test_error_body_parsing_never_raises(raw: bytes, expected: tuple[Any, Any]) -> None:
    assert parsing.parse_error_body(raw) == expected
