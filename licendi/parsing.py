"""The one place where every upstream JSON shape is decided.

Most of the Licendi payloads are [assumed] (see the contract notes): when the
real spec is read, this module is what changes. The reader is tolerant where
tolerance is safe (unknown fields ignored, optional fields may be missing, a
list may be a bare array or a page object, money may be a string or a number)
and strict where a guess would be a silent wrong value (garbage money, a
missing sku or id): those raise `ContractError` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import ContractError
from .records import (
    Axis,
    Balance,
    Combination,
    DeliveredKey,
    KeyAssigned,
    KeysStatus,
    LedgerEntry,
    Order,
    OrderDelivered,
    OrderItem,
    OrderKeys,
    OrderLineRequest,
    OrderListing,
    Page,
    Product,
    ProductDetail,
    WebhookEndpoint,
    WebhookEvent,
)

T = TypeVar("T")
Obj = Mapping[str, Any]

# Assumed when a payload omits its currency: the supplier sells and settles in EUR.
DEFAULT_CURRENCY = "EUR"


# ---------------------------------------------------------------- JSON decoding


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON and would become float money.
    raise ContractError(f"non-finite number {name} in JSON")


def loads(raw: bytes | str) -> Any:
    """Decode JSON with every non-integer number as an exact Decimal."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except ContractError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(f"response is not valid JSON: {exc}") from exc


def dumps(body: Any) -> bytes:
    """Serialise a request body once, so a retried request sends the same bytes."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- field readers


def _where(ctx: str, key: str) -> str:
    return f"{ctx}.{key}" if ctx else key


def _obj(value: Any, ctx: str) -> Obj:
    if not isinstance(value, Mapping):
        raise ContractError(f"{ctx or 'body'} must be an object", field=ctx or None)
    return value


def _list(value: Any, ctx: str) -> list[Any]:
    if not isinstance(value, list):
        raise ContractError(f"{ctx} must be a list", field=ctx)
    return value


def _req(obj: Obj, key: str, ctx: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise ContractError(f"missing field {_where(ctx, key)}", field=_where(ctx, key))
    return value


def _str(obj: Obj, key: str, ctx: str) -> str:
    value = _req(obj, key, ctx)
    # Ids and skus sometimes arrive as numbers ("sku": 13200); the text is the same.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise ContractError(
            f"{_where(ctx, key)} must be a non-empty string", field=_where(ctx, key)
        )
    return value


def _opt_str(obj: Obj, key: str, ctx: str, default: str | None = None) -> str | None:
    if obj.get(key) is None:
        return default
    value = obj[key]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ContractError(f"{_where(ctx, key)} must be a string", field=_where(ctx, key))
    return value


def _text(obj: Obj, key: str, ctx: str) -> str:
    return _opt_str(obj, key, ctx, "") or ""


def to_decimal(value: Any, name: str) -> Decimal:
    """Money from a JSON string or number; never through a binary float."""
    if isinstance(value, bool) or value is None:
        raise ContractError(f"{name} must be a decimal amount, got {value!r}", field=name)
    if isinstance(value, Decimal | int):
        result = Decimal(value)
    elif isinstance(value, float):
        # Only reached when JSON was decoded elsewhere without parse_float=Decimal;
        # str() gives the shortest repr, which is what the sender wrote.
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ContractError(f"{name} is not a decimal amount: {value!r}", field=name) from None
    else:
        raise ContractError(f"{name} must be a decimal amount, got {value!r}", field=name)
    if not result.is_finite():
        raise ContractError(f"{name} is not a finite amount: {value!r}", field=name)
    return result


def _money(obj: Obj, key: str, ctx: str) -> Decimal:
    return to_decimal(_req(obj, key, ctx), _where(ctx, key))


def _opt_money(obj: Obj, key: str, ctx: str) -> Decimal | None:
    if obj.get(key) is None:
        return None
    return to_decimal(obj[key], _where(ctx, key))


def _int(obj: Obj, key: str, ctx: str, default: int | None = None) -> int:
    value = obj.get(key)
    if value is None:
        if default is None:
            raise ContractError(f"missing field {_where(ctx, key)}", field=_where(ctx, key))
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        # "2" is tolerated; 2.5 or "two" is not.
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise ContractError(f"{_where(ctx, key)} must be an integer", field=_where(ctx, key))
    return value


def _bool(obj: Obj, key: str, ctx: str, default: bool) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ContractError(f"{_where(ctx, key)} must be a boolean", field=_where(ctx, key))
    return value


def to_datetime(value: Any, name: str) -> datetime:
    """ISO-8601 (with `Z` or an offset) to an aware UTC datetime.

    A timestamp without an offset is read as UTC: the API speaks UTC and
    refusing it would stop a whole catalog sync over a display detail.
    """
    if not isinstance(value, str):
        raise ContractError(f"{name} must be an ISO-8601 string", field=name)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ContractError(f"{name} is not an ISO-8601 datetime: {value!r}", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _opt_datetime(obj: Obj, key: str, ctx: str) -> datetime | None:
    if obj.get(key) is None:
        return None
    return to_datetime(obj[key], _where(ctx, key))


def _each(values: Sequence[Any], ctx: str, parse: Callable[[Any, str], T]) -> tuple[T, ...]:
    return tuple(parse(value, f"{ctx}[{i}]") for i, value in enumerate(values))


def _str_list(obj: Obj, key: str, ctx: str) -> tuple[str, ...]:
    values = obj.get(key)
    if values is None:
        return ()
    where = _where(ctx, key)
    result = []
    for i, value in enumerate(_list(values, where)):
        if not isinstance(value, str):
            raise ContractError(f"{where}[{i}] must be a string", field=f"{where}[{i}]")
        result.append(value)
    return tuple(result)


# ---------------------------------------------------------------- lists and pages


def unwrap_list(payload: Any, ctx: str = "") -> tuple[list[Any], Obj | None]:
    """A list may come bare or as a page object `{"items": [...], ...}`.

    Returns the items and the page object (None for a bare array).
    """
    if isinstance(payload, list):
        return payload, None
    obj = _obj(payload, ctx)
    return _list(_req(obj, "items", ctx), _where(ctx, "items")), obj


def parse_page(
    payload: Any, item: Callable[[Any, str], T], *, page: int, page_size: int
) -> Page[T]:
    """A page of `item`s; `page`/`page_size` are what was asked, used when not echoed."""
    raw_items, meta = unwrap_list(payload)
    items = _each(raw_items, "items", item)
    if meta is None:
        # A bare array is the whole collection in one go.
        return Page(items=items, page=1, page_size=max(len(items), page_size), total=len(items))
    total = meta.get("total")
    return Page(
        items=items,
        page=_int(meta, "page", "", page),
        page_size=_int(meta, "pageSize", "", page_size),
        total=None if total is None else _int(meta, "total", ""),
    )


# ---------------------------------------------------------------- catalog


def _product_fields(obj: Obj, ctx: str) -> dict[str, Any]:
    return {
        "sku": _str(obj, "sku", ctx),
        "name": _text(obj, "name", ctx),
        "price": _money(obj, "price", ctx),
        "net_price": _money(obj, "netPrice", ctx),
        "currency": _opt_str(obj, "currency", ctx, DEFAULT_CURRENCY) or DEFAULT_CURRENCY,
        "category": _text(obj, "category", ctx),
        "brand": _text(obj, "brand", ctx),
        "platform": _text(obj, "platform", ctx),
        "has_variants": _bool(obj, "hasVariants", ctx, False),
        "in_stock": _bool(obj, "inStock", ctx, True),
        "updated_at": _opt_datetime(obj, "updatedAt", ctx),
    }


def parse_product(value: Any, ctx: str = "") -> Product:
    return Product(**_product_fields(_obj(value, ctx), ctx))


def parse_axis(value: Any, ctx: str) -> Axis:
    obj = _obj(value, ctx)
    return Axis(name=_text(obj, "name", ctx), options=_str_list(obj, "options", ctx))


def parse_combination(value: Any, ctx: str) -> Combination:
    obj = _obj(value, ctx)
    where = _where(ctx, "options")
    options = []
    for i, option in enumerate(_list(obj.get("options", []), where)):
        if isinstance(option, bool) or not isinstance(option, int) or option < 0:
            raise ContractError(f"{where}[{i}] must be an option index", field=f"{where}[{i}]")
        options.append(option)
    return Combination(
        order_sku=_str(obj, "orderSku", ctx),
        options=tuple(options),
        price=_money(obj, "price", ctx),
        net_price=_money(obj, "netPrice", ctx),
        in_stock=_bool(obj, "inStock", ctx, True),
    )


def parse_product_detail(value: Any, ctx: str = "") -> ProductDetail:
    obj = _obj(value, ctx)
    return ProductDetail(
        **_product_fields(obj, ctx),
        description=_text(obj, "description", ctx),
        axes=_each(_list(obj.get("axes", []), _where(ctx, "axes")), "axes", parse_axis),
        combinations=_each(
            _list(obj.get("combinations", []), _where(ctx, "combinations")),
            "combinations",
            parse_combination,
        ),
    )


# ---------------------------------------------------------------- wallet


def parse_ledger_entry(value: Any, ctx: str) -> LedgerEntry:
    obj = _obj(value, ctx)
    return LedgerEntry(
        id=_str(obj, "id", ctx),
        type=_str(obj, "type", ctx),
        amount=_money(obj, "amount", ctx),
        balance_after=_money(obj, "balanceAfter", ctx),
        created_at=_opt_datetime(obj, "createdAt", ctx),
        reference=_opt_str(obj, "reference", ctx),
        description=_text(obj, "description", ctx),
    )


def parse_ledger_statement(raw: bytes) -> list[LedgerEntry]:
    """Ledger entries from a statement file: the balance answer's ledger JSON
    (`{"ledger": [...]}`, `{"items": [...]}` or a bare list). Raises ContractError."""
    data = loads(raw)
    if isinstance(data, Mapping):
        data = data.get("ledger", data.get("items"))
    if not isinstance(data, list):
        raise ContractError('expected a list of ledger entries or {"ledger": [...]}')
    return list(_each(data, "ledger", parse_ledger_entry))


def parse_balance(value: Any) -> Balance:
    obj = _obj(value, "")
    ledger, _ = unwrap_list(obj.get("ledger", []), "ledger")
    return Balance(
        balance=_money(obj, "balance", ""),
        currency=_opt_str(obj, "currency", "", DEFAULT_CURRENCY) or DEFAULT_CURRENCY,
        tier=_text(obj, "tier", ""),
        discount=_opt_money(obj, "discount", ""),
        ledger=_each(ledger, "ledger", parse_ledger_entry),
    )


# ---------------------------------------------------------------- orders


def _order_key(value: Any, ctx: str) -> str:
    """One key of an order item: a string, or an object carrying it under `key` (the
    shape the docs give for GET /api/orders/{id}/keys)."""
    if isinstance(value, Mapping):
        value = value.get("key")
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{ctx} is not a licence key", field=ctx)
    return value


def parse_order_item(value: Any, ctx: str, problems: list[str] | None = None) -> OrderItem:
    """An order line. Its keys are read one by one: a key that cannot be read is named
    in `problems` (when given) and the others are kept; without `problems` it raises."""
    obj = _obj(value, ctx)
    keys: list[str] = []
    raw_keys = obj.get("keys")
    if raw_keys is not None:
        where = _where(ctx, "keys")
        if isinstance(raw_keys, Mapping) and "items" in raw_keys:
            raw_keys = raw_keys["items"]
        for i, raw in enumerate(_list(raw_keys, where)):
            try:
                keys.append(_order_key(raw, f"{where}[{i}]"))
            except ContractError as exc:
                if problems is None:
                    raise
                problems.append(str(exc))
    return OrderItem(
        sku=_str(obj, "sku", ctx),
        qty=_int(obj, "qty", ctx),
        unit_price=_money(obj, "unitPrice", ctx),
        name=_text(obj, "name", ctx),
        keys=tuple(keys),
    )


def _order_object(value: Any, ctx: str) -> Obj:
    """The order itself, also when wrapped as `{"order": {...}}` or `{"data": {...}}`."""
    obj = _obj(value, ctx)
    if "id" not in obj and "orderId" not in obj:
        for wrapper in ("order", "data"):
            inner = obj.get(wrapper)
            if isinstance(inner, Mapping):
                return inner
    return obj


def order_id_of(value: Any) -> str | None:
    """The upstream order id wherever an order answer carries it, or None."""
    if not isinstance(value, Mapping):
        return None
    obj = _order_object(value, "")
    for name in ("id", "orderId", "order_id"):
        found = obj.get(name)
        if isinstance(found, int) and not isinstance(found, bool):
            return str(found)
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def parse_order(value: Any, ctx: str = "") -> Order:
    """An order answer, read field by field.

    Only a missing order id makes it unreadable (ContractError): anything else that
    cannot be read (a line, a key, the total, the invoice) is left out and named in
    `Order.problems`, because the order exists upstream and what could be read of it
    matters (its id, its keys).
    """
    obj = _order_object(value, ctx)
    order_id = order_id_of(obj)
    if order_id is None:
        raise ContractError(f"missing field {_where(ctx, 'id')}", field=_where(ctx, "id"))
    problems: list[str] = []

    def read(reader: Callable[[], T], default: T) -> T:
        try:
            return reader()
        except ContractError as exc:
            problems.append(str(exc))
            return default

    invoice_number: str | None = None
    invoice = obj.get("invoice")
    if isinstance(invoice, Mapping):
        invoice_number = read(lambda: _opt_str(invoice, "number", _where(ctx, "invoice")), None)
    elif isinstance(invoice, str) and invoice.strip():
        invoice_number = invoice.strip()  # the number itself instead of an object
    elif invoice is not None:
        problems.append(f"{_where(ctx, 'invoice')} must be an object")
    if invoice_number is None and isinstance(obj.get("invoiceNumber"), str):
        invoice_number = obj["invoiceNumber"]
    no_items: list[Any] = []
    raw_items: list[Any] = read(
        lambda: unwrap_list(obj.get("items", []), _where(ctx, "items"))[0], no_items
    )
    items: list[OrderItem] = []
    for i, raw in enumerate(raw_items):
        try:
            items.append(parse_order_item(raw, f"{_where(ctx, 'items')}[{i}]", problems))
        except ContractError as exc:
            problems.append(str(exc))
    status = read(lambda: _opt_str(obj, "status", ctx), None)
    if status is None:
        problems.append(f"missing field {_where(ctx, 'status')}")
    return Order(
        id=order_id,
        status=status or "",
        total=read(lambda: _money(obj, "total", ctx), None),
        currency=read(lambda: _opt_str(obj, "currency", ctx, DEFAULT_CURRENCY), None)
        or DEFAULT_CURRENCY,
        external_id=read(lambda: _opt_str(obj, "externalId", ctx), None),
        created_at=read(lambda: _opt_datetime(obj, "createdAt", ctx), None),
        invoice_number=invoice_number,
        items=tuple(items),
        problems=tuple(problems),
    )


def parse_order_listing(payload: Any) -> OrderListing:
    """GET /api/orders: each order read on its own; one without an id is skipped and
    reported, never allowed to stop the listing."""
    raw_items, _ = unwrap_list(payload)
    orders: list[Order] = []
    skipped: list[str] = []
    for i, raw in enumerate(raw_items):
        try:
            orders.append(parse_order(raw, f"items[{i}]"))
        except ContractError as exc:
            skipped.append(str(exc))
    return OrderListing(orders=tuple(orders), skipped=tuple(skipped))


def parse_orders(payload: Any) -> list[Order]:
    return list(parse_order_listing(payload).orders)


def parse_delivered_key(value: Any, ctx: str) -> DeliveredKey:
    obj = _obj(value, ctx)
    return DeliveredKey(
        sku=_str(obj, "sku", ctx), key=_str(obj, "key", ctx), name=_text(obj, "name", ctx)
    )


_PARTIAL_STATUSES: dict[str, KeysStatus] = {
    "pending": "pending",
    "partially_delivered": "partially_delivered",
}


def parse_order_keys(http_status: int, payload: Any) -> OrderKeys:
    """GET /api/orders/{id}/keys: 200 with a flat list means delivered [doc];
    202 means not (fully) delivered yet, with the keys so far under `keys` [assumed].
    """
    if isinstance(payload, list) or (isinstance(payload, Mapping) and "items" in payload):
        raw_keys, _ = unwrap_list(payload)
        status_hint = None
    else:
        obj = _obj(payload, "")
        raw_keys = _list(obj.get("keys", []), "keys")
        status_hint = _opt_str(obj, "status", "")
    keys = _each(raw_keys, "keys", parse_delivered_key)
    status: KeysStatus
    if http_status == 202:
        # 202 is never "delivered", whatever the body says; without a usable
        # status the presence of keys tells pending from partial.
        fallback: KeysStatus = "partially_delivered" if keys else "pending"
        status = _PARTIAL_STATUSES.get(status_hint or "", fallback)
    elif status_hint is None or status_hint == "delivered":
        status = "delivered"
    elif status_hint in _PARTIAL_STATUSES:
        status = _PARTIAL_STATUSES[status_hint]
    else:
        raise ContractError(f"unknown keys status {status_hint!r}", field="status")
    return OrderKeys(status=status, keys=keys)


def order_request_body(*, items: Sequence[OrderLineRequest], external_id: str) -> dict[str, Any]:
    return {
        "items": [{"sku": line.sku, "qty": line.qty} for line in items],
        "externalId": external_id,
    }


# ---------------------------------------------------------------- webhooks


def parse_webhook_endpoint(value: Any, ctx: str = "") -> WebhookEndpoint:
    obj = _obj(value, ctx)
    return WebhookEndpoint(
        id=_str(obj, "id", ctx),
        url=_str(obj, "url", ctx),
        events=_str_list(obj, "events", ctx),
        created_at=_opt_datetime(obj, "createdAt", ctx),
        secret=_opt_str(obj, "secret", ctx),
    )


def parse_webhook_endpoints(payload: Any) -> list[WebhookEndpoint]:
    items, _ = unwrap_list(payload)
    return list(_each(items, "items", parse_webhook_endpoint))


def webhook_request_body(*, url: str, events: Sequence[str]) -> dict[str, Any]:
    return {"url": url, "events": list(events)}


def _parse_key_assigned(obj: Obj) -> KeyAssigned:
    return KeyAssigned(
        order_id=_str(obj, "orderId", "data"),
        sku=_str(obj, "sku", "data"),
        key=_str(obj, "key", "data"),
        external_id=_opt_str(obj, "externalId", "data"),
        name=_text(obj, "name", "data"),
    )


def _parse_order_delivered(obj: Obj) -> OrderDelivered:
    return OrderDelivered(
        order_id=_str(obj, "orderId", "data"),
        keys=_each(_list(obj.get("keys", []), "data.keys"), "data.keys", parse_delivered_key),
        external_id=_opt_str(obj, "externalId", "data"),
    )


_EVENT_PARSERS: dict[str, Callable[[Obj], KeyAssigned | OrderDelivered]] = {
    "key.assigned": _parse_key_assigned,
    "order.delivered": _parse_order_delivered,
}


def parse_webhook_event(value: Any) -> WebhookEvent:
    obj = _obj(value, "")
    event_id = _str(obj, "id", "")
    event_type = _str(obj, "type", "")
    raw_data = obj.get("data", {})
    parser = _EVENT_PARSERS.get(event_type)
    data: KeyAssigned | OrderDelivered | dict[str, Any]
    if parser is None:
        # Unknown event types are kept raw so they can be stored and skipped, not lost.
        data = dict(raw_data) if isinstance(raw_data, Mapping) else {"value": raw_data}
    else:
        data = parser(_obj(raw_data, "data"))
    return WebhookEvent(
        id=event_id,
        type=event_type,
        created_at=_opt_datetime(obj, "createdAt", ""),
        data=data,
    )


# ---------------------------------------------------------------- errors


def parse_error_body(raw: bytes) -> tuple[str | None, str | None]:
    """`{"error": {"code", "message"}}` -> (code, message); anything else -> (None, None).

    Never raises: an error answer must map by status even when its body is HTML.
    """
    try:
        payload = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(payload, Mapping):
        return None, None
    error = payload.get("error")
    if isinstance(error, Mapping):
        code, message = error.get("code"), error.get("message")
    else:
        # Some APIs flatten it: {"code": ..., "message": ...} or {"error": "text"}.
        code = payload.get("code")
        message = error if isinstance(error, str) else payload.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )
