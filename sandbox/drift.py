"""The drifting sandbox: the contract's answers as a real supplier might bend them.

`Sandbox(drift=True)` (or `python -m sandbox --drift`) serves, instead of the
contract's exact shapes, the variants a tolerant reader must take in its stride:

- booleans as `1`/`0` (`inStock`, `hasVariants`);
- money as JSON numbers (`34.93`) on every other product, in combinations, balance
  and ledger;
- timestamps as epoch seconds (`updatedAt`, `createdAt`);
- an unknown field on every product (`ean`);
- the balance's ledger under `entries` instead of `ledger`;
- an order's keys as objects (`[{"sku", "key"}]`) in every order answer, and
  `GET /api/orders` listing orders with their keys in that shape;

and a few truly broken records that a reader must quarantine, not guess:

- a product whose list `price` is `"N/A"`;
- a product record without a sku (named only by its `ean`);
- a product whose detail has a combination with `netPrice` `"call us"`.

The transformations are pure functions of the body and the sku, so the same product
looks the same on every read (a sync of an unchanged drifting catalog changes nothing).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

# Catalogs smaller than this get no broken records: a handful of products with three
# unreadable ones would be a wholesale change, not an odd record.
MIN_PRODUCTS_FOR_BROKEN = 40


def _number(value: Any) -> Any:
    """A contract money string as a JSON number (exact: the text survives float repr)."""
    if not isinstance(value, str):
        return value
    amount = Decimal(value)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _epoch(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _flag(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _ean(sku: str) -> str:
    return f"84{zlib.crc32(sku.encode()) % 10**11:011d}"


class Drift:
    """Bends the answers of one sandbox; `broken` names the products made unreadable."""

    def __init__(self, skus: Sequence[str]) -> None:
        ordered = sorted(skus)
        if len(ordered) >= MIN_PRODUCTS_FOR_BROKEN:
            step = len(ordered) // 3
            self.bad_price, self.no_sku, self.bad_detail = (
                ordered[5],
                ordered[5 + step],
                ordered[5 + 2 * step],
            )
        else:
            self.bad_price = self.no_sku = self.bad_detail = ""

    @property
    def broken(self) -> dict[str, str]:
        """sku -> what is wrong with it (empty for a small catalog)."""
        if not self.bad_price:
            return {}
        return {
            self.bad_price: "list price is not a number",
            self.no_sku: "list record has no sku",
            self.bad_detail: "detail has a combination whose net price is not a number",
        }

    @staticmethod
    def _money_as_numbers(sku: str) -> bool:
        return zlib.crc32(sku.encode()) % 2 == 0

    def _product(self, body: dict[str, Any]) -> dict[str, Any]:
        sku = str(body["sku"])
        out = dict(body)
        out["inStock"] = _flag(out.get("inStock"))
        out["hasVariants"] = _flag(out.get("hasVariants"))
        out["updatedAt"] = _epoch(out.get("updatedAt"))
        out["ean"] = _ean(sku)
        if self._money_as_numbers(sku):
            out["price"], out["netPrice"] = _number(out["price"]), _number(out["netPrice"])
        return out

    def product_item(self, item: dict[str, Any]) -> dict[str, Any]:
        sku = str(item["sku"])
        out = self._product(item)
        if sku == self.bad_price:
            out["price"] = "N/A"
        if sku == self.no_sku:
            del out["sku"]
        return out

    def product_detail(self, detail: dict[str, Any]) -> dict[str, Any]:
        sku = str(detail["sku"])
        out = self._product(detail)
        out["combinations"] = [
            {
                **combo,
                "inStock": _flag(combo.get("inStock")),
                "price": _number(combo["price"]),
                "netPrice": _number(combo["netPrice"]),
            }
            for combo in detail.get("combinations", [])
        ]
        if sku == self.bad_detail:
            if out["combinations"]:
                out["combinations"][0]["netPrice"] = "call us"
            else:
                out["netPrice"] = "call us"
        return out

    def balance(self, body: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in body.items() if k != "ledger"}
        out["balance"] = _number(body["balance"])
        out["entries"] = [
            {
                **entry,
                "amount": _number(entry["amount"]),
                "balanceAfter": _number(entry["balanceAfter"]),
                "createdAt": _epoch(entry.get("createdAt")),
            }
            for entry in body.get("ledger", [])
        ]
        return out

    def order(self, body: dict[str, Any]) -> dict[str, Any]:
        out = dict(body)
        out["createdAt"] = _epoch(out.get("createdAt"))
        out["items"] = [
            {
                **line,
                "keys": [{"sku": line["sku"], "key": key} for key in line.get("keys", [])],
            }
            if "keys" in line
            else dict(line)
            for line in body.get("items", [])
        ]
        return out
