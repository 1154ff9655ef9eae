"""The one place where every upstream JSON shape is decided.

Most of the Licendi payloads are [assumed] (see the contract notes): when the
real spec is read, this module is what changes. The reader is tolerant where
tolerance is safe and strict where a guess would be a silent wrong value:

- A value with one obvious meaning is coerced (`coerce_bool`, `coerce_money`,
  `coerce_timestamp`, `coerce_key`, `items_of`), and the coercion is noted.
- Unknown fields are ignored and missing optional fields take their default;
  both are noted.
- Garbage (money that is not a number, a missing sku or id) raises
  `ContractError` naming the field. Listings read each record on its own
  (`read_each`): an unreadable record is returned as `Rejected` with its reason
  and the rest of the listing stands.

Notes go to the `Observations` collector set with `observing(...)` (the client
does it around each answer it parses); without one they are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import ContractError
from .observations import NoteKind, Observations, Rejected, field_pattern, redact
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


# ---------------------------------------------------------------- observations

_observing: ContextVar[tuple[Observations, str] | None] = ContextVar(
    "licendi_observing", default=None
)


@contextmanager
def observing(observations: Observations | None, endpoint: str) -> Iterator[None]:
    """Note what the parsers notice while reading `endpoint` ("GET /api/products")."""
    token = _observing.set(None if observations is None else (observations, endpoint))
    try:
        yield
    finally:
        _observing.reset(token)


def note(kind: NoteKind, where: str, detail: str = "", example: Any = None) -> None:
    """Tell the current collector (if any) about a deviation at field `where`."""
    scope = _observing.get()
    if scope is not None:
        observations, endpoint = scope
        observations.add(
            endpoint=endpoint,
            kind=kind,
            field=field_pattern(where) or "(body)",
            detail=detail,
            example=example,
        )


def _known(obj: Obj, ctx: str, names: Collection[str]) -> None:
    for name in obj:
        if name not in names:
            note("unknown_field", _where(ctx, str(name)), example=obj[name])


def _missing(obj: Obj, key: str, ctx: str) -> None:
    # Absent, not null: an explicit null is a documented "no value".
    if key not in obj:
        note("missing_field", _where(ctx, key))


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


# ---------------------------------------------------------------- coercions

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
# Epoch seconds beyond this (year 5138) are more likely milliseconds: not one obvious
# meaning, so refused rather than read as a date thousands of years away.
_MAX_EPOCH_SECONDS = 10**11


def coerce_bool(value: Any, name: str) -> bool:
    """A boolean; also `1`/`0` and `"true"`/`"false"`/`"1"`/`"0"` (noted)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal) and value in (0, 1):
        note("coercion", name, "number -> boolean", value)
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        note("coercion", name, "string -> boolean", value)
        return value.strip().lower() in _TRUE
    raise ContractError(f"{name} must be a boolean, got {value!r}", field=name)


def coerce_money(value: Any, name: str) -> Decimal:
    """Money from a JSON string or number; never through a binary float.

    The contract prefers strings, so a number is accepted and noted.
    """
    if isinstance(value, bool) or value is None:
        raise ContractError(f"{name} must be a decimal amount, got {value!r}", field=name)
    if isinstance(value, Decimal | int):
        note("coercion", name, "number -> decimal", value)
        result = Decimal(value)
    elif isinstance(value, float):
        # Only reached when JSON was decoded elsewhere without parse_float=Decimal;
        # str() gives the shortest repr, which is what the sender wrote.
        note("coercion", name, "number -> decimal", value)
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


# Kept under its first name for existing callers.
to_decimal = coerce_money

# A catalog price is what one licence costs: never negative, never a hundred million.
# Beyond that it is a broken record, quarantined like any other, not a price to mirror:
# stored, it would stop the whole sync or the pricing after it (the money columns hold 12
# integer digits, and a selling price may be 11 times the net price under the markup
# cap, or the net price plus a rule's amount of up to 10 integer digits).
MAX_CATALOG_PRICE = Decimal("100000000")


def coerce_price(value: Any, name: str) -> Decimal:
    """`coerce_money` of a catalog price: at least 0 and below MAX_CATALOG_PRICE."""
    amount = coerce_money(value, name)
    if not 0 <= amount < MAX_CATALOG_PRICE:
        raise ContractError(f"{name} is not a catalog price: {value!r}", field=name)
    return amount


def coerce_timestamp(value: Any, name: str) -> datetime:
    """An aware UTC datetime from ISO 8601 (with `Z` or an offset), or from epoch
    seconds as a JSON number or a string of digits (noted).

    An ISO timestamp without an offset is read as UTC: the API speaks UTC and
    refusing it would stop a whole catalog sync over a display detail.
    """
    epoch: Decimal | None = None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        epoch = Decimal(value)
    elif isinstance(value, str) and value.strip().isdigit():
        epoch = Decimal(value.strip())
    if epoch is not None:
        if not epoch.is_finite() or not 0 <= epoch < _MAX_EPOCH_SECONDS:
            raise ContractError(f"{name} is not a plausible epoch time: {value!r}", field=name)
        note("coercion", name, f"epoch seconds ({_kind_of(value)}) -> datetime", value)
        return datetime.fromtimestamp(float(epoch), tz=UTC)
    if not isinstance(value, str):
        raise ContractError(f"{name} must be an ISO-8601 string", field=name)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ContractError(f"{name} is not an ISO-8601 datetime: {value!r}", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# Kept under its first name for existing callers.
to_datetime = coerce_timestamp


def coerce_key(value: Any, name: str) -> str:
    """A licence key: a non-empty string, or an object carrying one under `key`
    (the shape of GET /api/orders/{id}/keys), noted."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        key = value.get("key")
        if isinstance(key, str) and key.strip():
            note("coercion", name, "object -> key", value)
            return key
        raise ContractError(f"{name} is an object without a readable key", field=name)
    raise ContractError(f"{name} must be a licence key, got a {_kind_of(value)}", field=name)


def items_of(payload: Any, ctx: str = "") -> list[Any]:
    """The records of a listing: a bare array, or the `items` of a page object."""
    return unwrap_list(payload, ctx)[0]


def record_ref(raw: Any, fallback: str) -> str:
    """What names a record in a report: its sku or id when it has a usable one."""
    if isinstance(raw, Mapping):
        for name in ("sku", "id", "orderSku"):
            value = raw.get(name)
            if isinstance(value, str) and value.strip():
                return value[:200]
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
    return fallback


def read_each(
    values: Sequence[Any], ctx: str, parse: Callable[[Any, str], T]
) -> tuple[tuple[T, ...], tuple[Rejected, ...]]:
    """Parse each record on its own: the readable ones, and the others with their
    reason (raw JSON redacted) instead of one exception that loses the whole list."""
    parsed: list[T] = []
    rejected: list[Rejected] = []
    for i, value in enumerate(values):
        where = f"{ctx}[{i}]"
        try:
            parsed.append(parse(value, where))
        except ContractError as exc:
            rejected.append(
                Rejected(
                    ref=record_ref(value, where),
                    reason=exc.message,
                    field=field_pattern(exc.field) if exc.field else None,
                    raw=redact(value),
                )
            )
    return tuple(parsed), tuple(rejected)


# ---------------------------------------------------------------- field readers


def _where(ctx: str, key: str) -> str:
    return f"{ctx}.{key}" if ctx else key


def _obj(value: Any, ctx: str) -> Obj:
    # A decoded body's objects are dicts: checked first, as isinstance() against the
    # Mapping ABC goes through ABCMeta.__instancecheck__ each time.
    if type(value) is not dict and not isinstance(value, Mapping):
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
        _missing(obj, key, ctx)
        return default
    value = obj[key]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ContractError(f"{_where(ctx, key)} must be a string", field=_where(ctx, key))
    return value


def _text(obj: Obj, key: str, ctx: str) -> str:
    return _opt_str(obj, key, ctx, "") or ""


def _money(obj: Obj, key: str, ctx: str) -> Decimal:
    return coerce_money(_req(obj, key, ctx), _where(ctx, key))


def _price(obj: Obj, key: str, ctx: str) -> Decimal:
    return coerce_price(_req(obj, key, ctx), _where(ctx, key))


def _opt_money(obj: Obj, key: str, ctx: str) -> Decimal | None:
    if obj.get(key) is None:
        _missing(obj, key, ctx)
        return None
    return coerce_money(obj[key], _where(ctx, key))


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
        _missing(obj, key, ctx)
        return default
    return coerce_bool(value, _where(ctx, key))


def _opt_datetime(obj: Obj, key: str, ctx: str) -> datetime | None:
    if obj.get(key) is None:
        _missing(obj, key, ctx)
        return None
    return coerce_timestamp(obj[key], _where(ctx, key))


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


_PAGE_FIELDS = frozenset({"items", "page", "pageSize", "total"})


def parse_page(
    payload: Any,
    item: Callable[[Any, str], T],
    *,
    page: int,
    page_size: int,
    lenient: bool = False,
) -> Page[T]:
    """A page of `item`s; `page`/`page_size` are what was asked, used when not echoed.

    `lenient`: an unreadable record lands in `Page.rejected` instead of failing the
    page (for listings whose records stand on their own, like the catalog).
    """
    raw_items, meta = unwrap_list(payload)
    rejected: tuple[Rejected, ...] = ()
    if lenient:
        items, rejected = read_each(raw_items, "items", item)
    else:
        items = _each(raw_items, "items", item)
    if meta is None:
        # A bare array is the whole collection in one go.
        return Page(
            items=items,
            page=1,
            page_size=max(len(raw_items), page_size),
            total=len(raw_items),
            rejected=rejected,
        )
    _known(meta, "", _PAGE_FIELDS)
    total = meta.get("total")
    return Page(
        items=items,
        page=_int(meta, "page", "", page),
        page_size=_int(meta, "pageSize", "", page_size),
        total=None if total is None else _int(meta, "total", ""),
        rejected=rejected,
    )


# ---------------------------------------------------------------- catalog


_PRODUCT_FIELDS = frozenset(
    {
        "sku",
        "name",
        "price",
        "netPrice",
        "currency",
        "category",
        "brand",
        "platform",
        "hasVariants",
        "inStock",
        "updatedAt",
    }
)
_DETAIL_FIELDS = _PRODUCT_FIELDS | {"description", "axes", "combinations"}
_AXIS_FIELDS = frozenset({"name", "options"})
_COMBINATION_FIELDS = frozenset({"orderSku", "options", "price", "netPrice", "inStock"})
_BALANCE_FIELDS = frozenset({"balance", "currency", "tier", "discount", "ledger"})
_LEDGER_FIELDS = frozenset(
    {"id", "type", "amount", "balanceAfter", "createdAt", "reference", "description"}
)
_WEBHOOK_ENDPOINT_FIELDS = frozenset({"id", "url", "events", "createdAt", "secret"})


def _product_fields(obj: Obj, ctx: str) -> dict[str, Any]:
    return {
        "sku": _str(obj, "sku", ctx),
        "name": _text(obj, "name", ctx),
        "price": _price(obj, "price", ctx),
        "net_price": _price(obj, "netPrice", ctx),
        "currency": _opt_str(obj, "currency", ctx, DEFAULT_CURRENCY) or DEFAULT_CURRENCY,
        "category": _text(obj, "category", ctx),
        "brand": _text(obj, "brand", ctx),
        "platform": _text(obj, "platform", ctx),
        "has_variants": _bool(obj, "hasVariants", ctx, False),
        "in_stock": _bool(obj, "inStock", ctx, True),
        "updated_at": _opt_datetime(obj, "updatedAt", ctx),
    }


# --- the contract's exact shape, read quickly
#
# A sync reads tens of thousands of list records and details; nearly all of them are in
# the contract's exact shape. For those, the readers below give the same values as the
# general ones in far less time: no field path is built, no note looked up. Anything
# else (a field missing or unknown, a value of another type, one that needs a coercion
# or cannot be read) makes them answer None, and the general readers then read the
# record, noting and refusing as ever. `tests/licendi/test_parsing_fast_path.py` checks
# that both agree on every record the quick readers accept.


def _fast_text(value: Any, default: str = "") -> str | None:
    if type(value) is str:
        return value
    return default if value is None else None


def _fast_price(value: Any) -> Decimal | None:
    if type(value) is not str:
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and 0 <= amount < MAX_CATALOG_PRICE else None


def _fast_timestamp(value: Any) -> datetime | bool | None:
    """The datetime, None for null, or False when the general reader must decide."""
    if value is None:
        return None
    if type(value) is not str:
        return False
    text = value.strip()
    if text.isdigit():
        return False  # epoch seconds: a coercion, noted by the general reader
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _contract_product_fields(obj: Obj) -> dict[str, Any] | None:
    """`_product_fields` of a record whose product fields are all present and of the
    contract's types; None when the general reader must read it."""
    sku = obj["sku"]
    if type(sku) is not str or not sku:
        return None
    name = _fast_text(obj["name"])
    category = _fast_text(obj["category"])
    brand = _fast_text(obj["brand"])
    platform = _fast_text(obj["platform"])
    currency = _fast_text(obj["currency"], DEFAULT_CURRENCY)
    price = _fast_price(obj["price"])
    net_price = _fast_price(obj["netPrice"])
    has_variants = obj["hasVariants"]
    if has_variants is None:
        has_variants = False
    in_stock = obj["inStock"]
    if in_stock is None:
        in_stock = True
    updated_at = _fast_timestamp(obj["updatedAt"])
    if (
        name is None
        or category is None
        or brand is None
        or platform is None
        or currency is None
        or price is None
        or net_price is None
        or type(has_variants) is not bool
        or type(in_stock) is not bool
        or updated_at is False
    ):
        return None
    return {
        "sku": sku,
        "name": name,
        "price": price,
        "net_price": net_price,
        "currency": currency or DEFAULT_CURRENCY,
        "category": category,
        "brand": brand,
        "platform": platform,
        "has_variants": has_variants,
        "in_stock": in_stock,
        "updated_at": updated_at,
    }


def _contract_combination(obj: Obj) -> Combination | None:
    """`parse_combination` of a record with exactly the contract's fields and types."""
    order_sku, options = obj["orderSku"], obj["options"]
    if type(order_sku) is not str or not order_sku or type(options) is not list:
        return None
    for option in options:
        if type(option) is not int or option < 0:
            return None
    price, net_price = _fast_price(obj["price"]), _fast_price(obj["netPrice"])
    in_stock = obj["inStock"]
    if in_stock is None:
        in_stock = True
    if price is None or net_price is None or type(in_stock) is not bool:
        return None
    return Combination(
        order_sku=order_sku,
        options=tuple(options),
        price=price,
        net_price=net_price,
        in_stock=in_stock,
    )


def parse_product(value: Any, ctx: str = "") -> Product:
    if type(value) is dict and value.keys() == _PRODUCT_FIELDS:
        fields = _contract_product_fields(value)
        if fields is not None:
            return Product(**fields)
    obj = _obj(value, ctx)
    product = Product(**_product_fields(obj, ctx))
    _known(obj, ctx, _PRODUCT_FIELDS)
    return product


def parse_axis(value: Any, ctx: str) -> Axis:
    obj = _obj(value, ctx)
    _known(obj, ctx, _AXIS_FIELDS)
    return Axis(name=_text(obj, "name", ctx), options=_str_list(obj, "options", ctx))


def parse_combination(value: Any, ctx: str) -> Combination:
    if type(value) is dict and value.keys() == _COMBINATION_FIELDS:
        combination = _contract_combination(value)
        if combination is not None:
            return combination
    return _read_combination(value, ctx)


def _read_combination(value: Any, ctx: str) -> Combination:
    obj = _obj(value, ctx)
    _known(obj, ctx, _COMBINATION_FIELDS)
    where = _where(ctx, "options")
    options = []
    for i, option in enumerate(_list(obj.get("options", []), where)):
        if isinstance(option, bool) or not isinstance(option, int) or option < 0:
            raise ContractError(f"{where}[{i}] must be an option index", field=f"{where}[{i}]")
        options.append(option)
    return Combination(
        order_sku=_str(obj, "orderSku", ctx),
        options=tuple(options),
        price=_price(obj, "price", ctx),
        net_price=_price(obj, "netPrice", ctx),
        in_stock=_bool(obj, "inStock", ctx, True),
    )


def parse_product_detail(value: Any, ctx: str = "") -> ProductDetail:
    obj = _obj(value, ctx)
    _known(obj, ctx, _DETAIL_FIELDS)
    fields = None
    if type(obj) is dict and obj.keys() == _DETAIL_FIELDS:
        fields = _contract_product_fields(obj)
    return ProductDetail(
        **(fields if fields is not None else _product_fields(obj, ctx)),
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
    _known(obj, ctx, _LEDGER_FIELDS)
    return LedgerEntry(
        id=_str(obj, "id", ctx),
        type=_str(obj, "type", ctx),
        amount=_money(obj, "amount", ctx),
        balance_after=_money(obj, "balanceAfter", ctx),
        created_at=_opt_datetime(obj, "createdAt", ctx),
        reference=_opt_str(obj, "reference", ctx),
        description=_text(obj, "description", ctx),
    )


def _looks_like_ledger(value: Any) -> bool:
    if isinstance(value, Mapping) and isinstance(value.get("items"), list):
        value = value["items"]
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(e, Mapping) and "balanceAfter" in e and "amount" in e for e in value)
    )


def _ledger_payload(obj: Obj) -> tuple[Any, str]:
    """The ledger and the name it came under.

    An answer without `ledger` must not read as an empty ledger while the entries sit
    under another name (the wallet would look healthy with nothing mirrored): exactly
    one other field holding ledger-shaped entries is read as the ledger (noted);
    several such fields, or a list of something else where the ledger should be, is
    a ContractError.
    """
    if "ledger" in obj:
        return obj["ledger"] if obj["ledger"] is not None else [], "ledger"
    candidates = sorted(
        str(name)
        for name, value in obj.items()
        if name not in _BALANCE_FIELDS and _looks_like_ledger(value)
    )
    if len(candidates) == 1:
        name = candidates[0]
        note("coercion", "ledger", f'ledger under "{name}"', obj[name])
        return obj[name], name
    if candidates:
        raise ContractError(
            f"no ledger field, and several ledger-like lists: {', '.join(candidates)}",
            field="ledger",
        )
    other_lists = sorted(
        str(name)
        for name, value in obj.items()
        if name not in _BALANCE_FIELDS and isinstance(value, list | Mapping) and value
    )
    if other_lists:
        raise ContractError(
            f"no ledger field, but unrecognised lists: {', '.join(other_lists)}",
            field="ledger",
        )
    note("missing_field", "ledger")
    return [], "ledger"


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
    raw_ledger, ledger_name = _ledger_payload(obj)
    _known(obj, "", _BALANCE_FIELDS | {ledger_name})
    ledger, _ = unwrap_list(raw_ledger, ledger_name)
    return Balance(
        balance=_money(obj, "balance", ""),
        currency=_opt_str(obj, "currency", "", DEFAULT_CURRENCY) or DEFAULT_CURRENCY,
        tier=_text(obj, "tier", ""),
        discount=_opt_money(obj, "discount", ""),
        ledger=_each(ledger, ledger_name, parse_ledger_entry),
    )


# ---------------------------------------------------------------- orders


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
                # A string, or an object with `key` (noted as a coercion).
                keys.append(coerce_key(raw, f"{where}[{i}]"))
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
    _known(obj, ctx, _WEBHOOK_ENDPOINT_FIELDS)
    return WebhookEndpoint(
        id=_str(obj, "id", ctx),
        url=_str(obj, "url", ctx),
        events=_str_list(obj, "events", ctx),
        created_at=_opt_datetime(obj, "createdAt", ctx),
        # Returned only at registration: its absence from a listing is the contract.
        secret=_opt_str(obj, "secret", ctx) if "secret" in obj else None,
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
