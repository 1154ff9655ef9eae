"""Fulfilments: keys from stock at once, or bought through an ordinary PO; replay and 422."""

from decimal import Decimal

import pytest

from channel.models import ChannelCall, Fulfilment
from orders.models import LicenceKey, PurchaseOrder

from .conftest import add_stock_keys, order_body, paid

pytestmark = pytest.mark.django_db
URL = "/channel/v1/fulfilments"


@pytest.fixture
def post(shop_api, django_capture_on_commit_callbacks):
    """post(body, key) -> response; runs what the request queued (the PO submission)."""

    def _post(body, key="key-1", api=None):
        with django_capture_on_commit_callbacks(execute=True):
            return (api or shop_api).post(
                URL, body, content_type="application/json", headers={"Idempotency-Key": key}
            )

    return _post


def clear_keys(fulfilment_id):
    from backoffice import crypto

    f = Fulfilment.objects.get(pk=fulfilment_id)
    keys = LicenceKey.objects.filter(customer=f.customer)
    return sorted(crypto.decrypt(k.key_encrypted) for k in keys)


def test_keys_in_stock_are_delivered_at_once_with_201(sandbox, combos, in_stock, post):
    sku = in_stock[0]
    stock = add_stock_keys(sku, 3)
    response = post(order_body([(sku, 2, paid(combos[sku]))], email="Ana@Example.com"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "delivered"
    assert len(body["keys"]) == 2 and {k["sku"] for k in body["keys"]} == {sku}
    assert sorted(k["key"] for k in body["keys"]) == clear_keys(body["id"])
    fulfilment = Fulfilment.objects.get(pk=body["id"])
    assert fulfilment.purchase_order is None
    assert fulfilment.customer.email == "Ana@Example.com"
    # The two oldest stock keys went to the customer; the third is still in stock.
    assert list(LicenceKey.objects.filter(customer__isnull=True).values_list("pk", flat=True)) == [
        stock[2].pk
    ]
    assert sandbox.orders == {}


def test_keys_not_in_stock_are_bought_with_a_po_for_the_customer(
    sandbox, combos, in_stock, post, shop_api
):
    sku = in_stock[1]
    response = post(order_body([(sku, 2, paid(combos[sku]))]))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["keys"] == []
    assert body["url"] == f"/channel/v1/fulfilments/{body['id']}"
    fulfilment = Fulfilment.objects.select_related("purchase_order").get(pk=body["id"])
    po = fulfilment.purchase_order
    assert po.status == PurchaseOrder.Status.DELIVERED
    assert po.customer == fulfilment.customer and po.external_id
    assert fulfilment.state == "delivered"  # followed the PO through the post_save signal
    assert len(sandbox.orders) == 1

    got = shop_api.get(body["url"]).json()
    assert got["state"] == "delivered"
    assert sorted(k["key"] for k in got["keys"]) == clear_keys(body["id"])
    assert len(got["keys"]) == 2


def test_stock_covers_what_it_can_and_a_po_buys_the_rest(sandbox, combos, in_stock, post, shop_api):
    sku = in_stock[0]
    add_stock_keys(sku, 1)
    response = post(order_body([(sku, 3, paid(combos[sku]))]))
    assert response.status_code == 202
    assert response.json()["lines"][0]["fromStock"] == 1
    po = Fulfilment.objects.get(pk=response.json()["id"]).purchase_order
    assert list(po.lines.values_list("order_sku", "quantity")) == [(sku, 2)]
    got = shop_api.get(response.json()["url"]).json()
    assert got["state"] == "delivered" and len(got["keys"]) == 3


def test_same_key_and_body_replays_the_first_answer(sandbox, combos, in_stock, post):
    sku = in_stock[0]
    add_stock_keys(sku, 4)
    body = order_body([(sku, 2, paid(combos[sku]))])
    first = post(body, key="replay-me")
    # The same order as the shop might re-encode it: key order and number format differ.
    reencoded = {
        "lines": [{"price": f"{paid(combos[sku])}0", "quantity": 2, "orderSku": sku}],
        "customer": body["customer"],
        "orderId": body["orderId"],
    }
    second = post(reencoded, key="replay-me")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Fulfilment.objects.count() == 1
    assert LicenceKey.objects.filter(customer__isnull=True).count() == 2


def test_replay_of_an_accepted_purchase_does_not_buy_twice(sandbox, combos, in_stock, post):
    body = order_body([(in_stock[2], 1, paid(combos[in_stock[2]]))])
    first = post(body, key="buy-once")
    second = post(body, key="buy-once")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert len(sandbox.orders) == 1 and PurchaseOrder.objects.count() == 1


def test_same_key_with_another_body_is_422(sandbox, combos, in_stock, post):
    sku = in_stock[0]
    add_stock_keys(sku, 3)
    body = order_body([(sku, 1, paid(combos[sku]))])
    assert post(body, key="k").status_code == 201
    other = {**body, "lines": [{**body["lines"][0], "quantity": 2}]}
    response = post(other, key="k")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert LicenceKey.objects.filter(customer__isnull=True).count() == 2


def test_the_same_shop_order_under_a_new_key_is_a_409(sandbox, combos, in_stock, post):
    sku = in_stock[0]
    add_stock_keys(sku, 3)
    body = order_body([(sku, 1, paid(combos[sku]))], order_id="WC-1001")
    assert post(body, key="a").status_code == 201
    response = post(body, key="b")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_order"


def test_no_idempotency_key_is_refused(sandbox, combos, in_stock, shop_api):
    body = order_body([(in_stock[0], 1, paid(combos[in_stock[0]]))])
    response = shop_api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_idempotency_key"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"orderId": "x", "customer": {"email": "not-an-email", "name": "A"}, "lines": []},
        {
            "orderId": "x",
            "customer": {"email": "a@b.c", "name": "A"},
            "lines": [{"orderSku": "1", "quantity": -1, "price": "1.00"}],
        },
        {
            "orderId": "x",
            "customer": {"email": "a@b.c", "name": "A"},
            "lines": [{"orderSku": "1", "quantity": 1, "price": "1.001"}],
        },
        {
            "orderId": "x" * 101,
            "customer": {"email": "a@b.c", "name": "A"},
            "lines": [{"orderSku": "1", "quantity": 1, "price": "1.00"}],
        },
        {
            "orderId": "x",
            "customer": {"email": "a@b.c", "name": "A"},
            "lines": [{"orderSku": "1", "quantity": 1, "price": "NaN"}],
        },
        ["not", "an", "object"],
    ],
)
def test_malformed_bodies_are_400_with_a_reason(db, shop_api, body):
    response = shop_api.post(
        URL, body, content_type="application/json", headers={"Idempotency-Key": "m"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert Fulfilment.objects.count() == 0


def test_a_fulfilment_of_another_client_is_404(sandbox, combos, in_stock, post, make_shop):
    from .conftest import bearer

    sku = in_stock[0]
    add_stock_keys(sku, 1)
    first = post(order_body([(sku, 1, paid(combos[sku]))]))
    other = bearer(make_shop().token).get(first.json()["url"])
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"


def test_calls_are_logged_with_their_idempotency_key_and_fulfilment(
    sandbox, combos, in_stock, post
):
    sku = in_stock[0]
    add_stock_keys(sku, 1)
    response = post(order_body([(sku, 1, paid(combos[sku]))]), key="log-me")
    call = ChannelCall.objects.get()
    assert (call.status, call.idempotency_key, call.fulfilment_id, call.action) == (
        201,
        "log-me",
        response.json()["id"],
        "fulfilments:write",
    )
    key = response.json()["keys"][0]["key"]
    row = " ".join(str(v) for v in ChannelCall.objects.values().get().values())
    assert key not in row


def test_net_cost_not_customer_price_is_what_the_caps_count(sandbox, combos, in_stock, post):
    sku = in_stock[0]
    add_stock_keys(sku, 1)
    response = post(order_body([(sku, 1, paid(combos[sku], "3.00"))]))
    fulfilment = Fulfilment.objects.get(pk=response.json()["id"])
    assert fulfilment.cost_total == combos[sku].net_price
    assert fulfilment.paid_total == paid(combos[sku], "3.00")
    assert fulfilment.paid_total > Decimal("0")


def test_keys_under_a_dropped_encryption_key_answer_503_not_500(
    sandbox, combos, in_stock, post, shop_api, settings
):
    from cryptography.fernet import Fernet

    sku = in_stock[0]
    add_stock_keys(sku, 1)
    first = post(order_body([(sku, 1, paid(combos[sku]))]))
    assert first.status_code == 201
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = shop_api.get(first.json()["url"])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "keys_unreadable"
