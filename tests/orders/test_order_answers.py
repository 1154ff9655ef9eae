"""A 2xx answer to an order is never "unknown": whatever shape it comes in, the PO ends
with its upstream id, its keys and one debit, and a person is told what could not be read.

The sandbox is the upstream; a small transport between it and the client reshapes its
answers the way another supplier build might (keys as objects, fields renamed, junk).
"""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import licendi
from backoffice import crypto
from backoffice.upstream import use_transport
from licendi import parsing
from orders import services
from orders.models import PurchaseOrder

from .helpers import order_debits, upstream_orders

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status

Rewrite = Callable[[httpx.Request, Any], Any]


class Reshaping(httpx.BaseTransport):
    """Forwards to the sandbox and rewrites the JSON of successful order answers."""

    def __init__(self, inner: httpx.BaseTransport, rewrite: Rewrite, raw: bytes | None = None):
        self.inner = inner
        self.rewrite = rewrite
        self.raw = raw

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if response.status_code >= 300 or not request.url.path.startswith("/api/orders"):
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding")
        }
        if self.raw is not None and request.method == "POST":
            return httpx.Response(response.status_code, headers=headers, content=self.raw)
        body = self.rewrite(request, json.loads(response.content))
        return httpx.Response(
            response.status_code, headers=headers, content=json.dumps(body).encode()
        )


def keys_as_objects(request: httpx.Request, body: Any) -> Any:
    def reshape(order: dict) -> dict:
        for item in order.get("items", []):
            if "keys" in item:
                item["keys"] = [{"key": key, "sku": item["sku"]} for key in item["keys"]]
        return order

    if isinstance(body, dict) and isinstance(body.get("items"), list) and "id" not in body:
        body["items"] = [reshape(order) for order in body["items"]]
        return body
    if isinstance(body, dict) and "id" in body:
        return reshape(body)
    return body


def _place(po, buyer, capture, transport):
    with use_transport(transport), capture(execute=True):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    po.refresh_from_db()
    return po


def test_order_answer_with_keys_as_objects_ends_delivered_with_every_key_charged_once(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = make_po([(stock_skus[0], 2), (stock_skus[1], 3)])
    po = _place(
        po,
        buyer,
        django_capture_on_commit_callbacks,
        Reshaping(sandbox.transport(), keys_as_objects),
    )

    [order] = upstream_orders(sandbox, po.external_id)
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    assert po.keys.count() == 5
    delivered = {key for item in order["items"] for key in item["keys"]}
    assert {crypto.decrypt(k.key_encrypted) for k in po.keys.all()} == delivered
    assert not po.needs_review and po.failure_code == ""
    assert len(order_debits(sandbox, order["id"])) == 1


def test_keys_as_objects_in_the_listing_still_resolve_an_unknown_po(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)

    with use_transport(Reshaping(sandbox.transport(), keys_as_objects)):
        services.purchase_order_submit(purchase_order_id=po.pk)
        report = services.purchase_orders_import()

    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.keys.count() == 1
    assert report.skipped == [] and report.errors == []
    assert len(order_debits(sandbox, po.upstream_id)) == 1


def test_answer_naming_no_id_is_kept_flagged_and_resolved_by_external_id(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    def rename_id(request: httpx.Request, body: Any) -> Any:
        if request.method == "POST":
            body["reference"] = body.pop("id")
        return body

    po = _place(
        make_po([(stock_skus[0], 2)]),
        buyer,
        django_capture_on_commit_callbacks,
        Reshaping(sandbox.transport(), rename_id),
    )

    [order] = upstream_orders(sandbox, po.external_id)
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    assert po.keys.count() == 2
    assert po.needs_review and "could not be read" in po.review_reason
    kept = json.loads(crypto.decrypt(po.upstream_answer_encrypted))
    assert kept["reference"] == order["id"]
    assert po.failure_code == ""
    assert len(order_debits(sandbox, order["id"])) == 1


@pytest.mark.parametrize("raw", [b"<html>OK</html>", b"", b"[]", b'{"ok": true}'])
def test_answer_that_is_not_an_order_is_never_unknown_nor_code_200(
    raw, sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = _place(
        make_po([(stock_skus[0], 1)]),
        buyer,
        django_capture_on_commit_callbacks,
        Reshaping(sandbox.transport(), lambda request, body: body, raw=raw),
    )

    assert po.status == S.DELIVERED
    assert po.needs_review
    assert po.failure_code not in ("200", "201")
    assert len(upstream_orders(sandbox, po.external_id)) == 1
    assert len(order_debits(sandbox, po.upstream_id)) == 1


def test_answer_read_in_part_keeps_what_it_can_and_fetches_the_keys(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    def damage(request: httpx.Request, body: Any) -> Any:
        if request.method == "POST":
            body["total"] = "forty-two"
            body["items"][0]["keys"] = [42, {"nokey": True}]
        return body

    po = _place(
        make_po([(stock_skus[0], 2)]),
        buyer,
        django_capture_on_commit_callbacks,
        Reshaping(sandbox.transport(), damage),
    )

    [order] = upstream_orders(sandbox, po.external_id)
    assert po.upstream_id == order["id"]
    assert po.status == S.DELIVERED and po.keys.count() == 2  # read via /keys
    assert po.needs_review and "total" in po.review_reason
    assert po.upstream_answer_encrypted
    assert len(order_debits(sandbox, order["id"])) == 1


def test_answer_without_an_id_and_no_order_to_find_waits_for_its_keys_flagged(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    """If even the lookup cannot see it, the PO is paid and awaiting keys, not unknown:
    a webhook naming its externalId then completes it."""
    monkeypatch.setattr(
        services.submission, "upstream_find_by_external_id", lambda client, external_id: None
    )
    po = _place(
        make_po([(stock_skus[0], 1)]),
        buyer,
        django_capture_on_commit_callbacks,
        Reshaping(sandbox.transport(), lambda request, body: body, raw=b"{}"),
    )
    assert po.status == S.PENDING_DELIVERY and po.needs_review and po.upstream_id is None

    [order] = upstream_orders(sandbox, po.external_id)
    keys = [
        licendi.DeliveredKey(sku=item["sku"], key=key)
        for item in order["items"]
        for key in item["keys"]
    ]
    services.keys_deliver(
        upstream_order_id=order["id"], external_id=po.external_id, keys=keys, source="webhook"
    )
    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]


def test_polling_finds_an_accepted_order_whose_answer_named_no_id(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    real_find = services.submission.upstream_find_by_external_id
    monkeypatch.setattr(
        services.submission, "upstream_find_by_external_id", lambda client, external_id: None
    )
    po = _place(
        make_po([(stock_skus[0], 1)]),
        buyer,
        django_capture_on_commit_callbacks,
        Reshaping(sandbox.transport(), lambda request, body: body, raw=b"{}"),
    )
    assert po.status == S.PENDING_DELIVERY and po.upstream_id is None
    monkeypatch.setattr(services.submission, "upstream_find_by_external_id", real_find)

    counts = services.purchase_orders_poll_pending().counts

    po.refresh_from_db()
    [order] = upstream_orders(sandbox, po.external_id)
    assert counts["found_upstream"] == 1
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    assert po.invoice_number == order["invoice"]["number"]
    assert len(order_debits(sandbox, order["id"])) == 1


# ----------------------------------------------------------------- the reader itself


def test_reader_takes_keys_as_strings_or_objects_and_names_what_it_left_out():
    order = parsing.parse_order(
        {
            "order": {
                "orderId": 991,
                "status": "delivered",
                "total": 12.5,
                "invoice": "INV-7",
                "items": [
                    {"sku": "A", "qty": 2, "unitPrice": "5", "keys": ["K1", {"key": "K2"}]},
                    {"sku": "B", "qty": 1, "unitPrice": "x", "keys": [{"key": "K3"}]},
                    {"sku": "C", "qty": 1, "unitPrice": "2.5", "keys": [None, {"key": " "}]},
                ],
            }
        }
    )
    assert order.id == "991" and order.invoice_number == "INV-7"
    assert [item.sku for item in order.items] == ["A", "C"]
    assert order.items[0].keys == ("K1", "K2")
    assert len(order.problems) == 3  # B's price, C's two keys
    assert "K3" not in repr(order)


def test_listing_skips_an_order_without_id_and_reports_it():
    listing = parsing.parse_order_listing(
        {"items": [{"id": "o-1", "status": "pending", "total": "1"}, {"status": "pending"}]}
    )
    assert [o.id for o in listing.orders] == ["o-1"]
    assert len(listing.skipped) == 1 and "items[1]" in listing.skipped[0]
