"""Signed callbacks: a delivered or failed fulfilment is announced to the shop, signed
with Standard Webhooks and the client's own secret, retried, logged and resendable."""

import json

import pytest
import standardwebhooks
from django.urls import reverse

from channel import services, tasks
from channel.models import CallbackDelivery, Fulfilment

from .conftest import bearer, order_body, paid

pytestmark = pytest.mark.django_db
URL = "/channel/v1/fulfilments"


@pytest.fixture
def shop_with_callback(make_shop, callback_server):
    return make_shop(callback_url=callback_server.url)


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def _post(api, body, key="key-1"):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(
                URL, body, content_type="application/json", headers={"Idempotency-Key": key}
            )

    return _post


def verified(server, secret):
    """Every delivery the server got, verified with the standardwebhooks package."""
    webhook = standardwebhooks.Webhook(secret)
    return [webhook.verify(body, headers) for headers, body in server.received]


def test_a_failed_upstream_order_is_reported_to_the_shop_signed(
    sandbox, combos, in_stock, shop_with_callback, callback_server, post
):
    sandbox.faults.inject(method="POST", path="/api/orders", kind="status", status=402)
    combo = combos[in_stock[0]]
    api = bearer(shop_with_callback.token)
    response = post(api, order_body([(combo.order_sku, 1, paid(combo))]))
    assert response.status_code == 202

    [event] = verified(callback_server, shop_with_callback.callback_secret)
    assert event["type"] == "fulfilment.failed"
    assert event["data"]["id"] == response.json()["id"]
    assert event["data"]["orderId"] == response.json()["orderId"]
    assert event["data"]["error"]["code"] == "upstream_refused"
    assert event["data"]["url"] == response.json()["url"]
    got = api.get(response.json()["url"]).json()
    assert got["state"] == "failed" and got["keys"] == []
    delivery = CallbackDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_a_delivered_purchase_is_announced_without_keys_in_the_body(
    sandbox, combos, in_stock, shop_with_callback, callback_server, post
):
    combo = combos[in_stock[0]]
    response = post(
        bearer(shop_with_callback.token), order_body([(combo.order_sku, 2, paid(combo))])
    )
    [event] = verified(callback_server, shop_with_callback.callback_secret)
    assert event["type"] == "fulfilment.delivered"
    assert event["data"]["state"] == "delivered"
    body = callback_server.received[0][1].decode()
    for key in bearer(shop_with_callback.token).get(response.json()["url"]).json()["keys"]:
        assert key["key"] not in body


def test_a_tampered_or_foreign_secret_callback_does_not_verify(
    sandbox, combos, in_stock, shop_with_callback, callback_server, post, make_shop
):
    combo = combos[in_stock[0]]
    post(bearer(shop_with_callback.token), order_body([(combo.order_sku, 1, paid(combo))]))
    headers, body = callback_server.received[0]
    other_secret = make_shop().callback_secret
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(other_secret).verify(body, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(shop_with_callback.callback_secret).verify(body + b" ", headers)


def test_a_shop_that_answers_500_gets_the_callback_again_with_the_same_id(
    sandbox, combos, in_stock, shop_with_callback, callback_server, post
):
    callback_server.answers = [500, 503]
    combo = combos[in_stock[0]]
    post(bearer(shop_with_callback.token), order_body([(combo.order_sku, 1, paid(combo))]))
    delivery = CallbackDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1  # the task retries later

    # The retries, as the worker runs them after their backoff.
    for retries in (1, 2):
        result = tasks.callback_deliver.apply(
            kwargs={"delivery_id": delivery.pk}, retries=retries, throw=False
        )
    assert result.get() == "delivered"
    ids = {headers["webhook-id"] for headers, _ in callback_server.received}
    assert len(callback_server.received) == 3 and ids == {delivery.msg_id}
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.order_by("at", "id")] == [500, 503, 204]
    verified(callback_server, shop_with_callback.callback_secret)  # every attempt re-signed


def test_a_callback_given_up_is_marked_failed_and_can_be_resent_from_the_page(
    sandbox,
    combos,
    in_stock,
    shop_with_callback,
    callback_server,
    post,
    admin_client,
    django_capture_on_commit_callbacks,
):
    callback_server.answers = [500, 500]
    combo = combos[in_stock[0]]
    post(bearer(shop_with_callback.token), order_body([(combo.order_sku, 1, paid(combo))]))
    delivery = CallbackDelivery.objects.get()
    last = tasks.callback_deliver.apply(
        kwargs={"delivery_id": delivery.pk}, retries=tasks.CALLBACK_MAX_RETRIES
    )
    assert last.get() == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2

    page = admin_client.get(reverse("channel:client_detail", args=[shop_with_callback.client.pk]))
    assert delivery.msg_id in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("channel:callback_resend", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert callback_server.received[-1][0]["webhook-id"] == delivery.msg_id


def test_no_callback_url_means_no_callback(sandbox, combos, in_stock, shop, post):
    combo = combos[in_stock[0]]
    post(bearer(shop.token), order_body([(combo.order_sku, 1, paid(combo))]))
    assert Fulfilment.objects.get().state == "delivered"
    assert CallbackDelivery.objects.count() == 0


def test_the_callback_body_is_the_stored_payload(
    shop_with_callback, callback_server, sandbox, combos, in_stock, post
):
    combo = combos[in_stock[0]]
    post(bearer(shop_with_callback.token), order_body([(combo.order_sku, 1, paid(combo))]))
    delivery = CallbackDelivery.objects.get()
    assert json.loads(callback_server.received[0][1]) == delivery.payload
    assert services.client_callback_secret(delivery.client) == shop_with_callback.callback_secret
