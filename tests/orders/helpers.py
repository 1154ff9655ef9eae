"""Small readers of the sandbox's books used by the orders tests."""


def upstream_orders(sb, external_id: str) -> list[dict]:
    return [o for o in sb.orders.values() if o["externalId"] == external_id]


def order_debits(sb, upstream_id: str | None = None) -> list[dict]:
    return [
        e
        for e in sb.ledger
        if e["type"] == "order" and (upstream_id is None or e["reference"] == upstream_id)
    ]
