"""Webhook endpoints and signed, retried, at-least-once deliveries."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from sandbox import Sandbox

from .conftest import Skus, order

HOOK_URL = "https://backoffice.test/hooks/licendi"


class Recorder:
    """A webhook receiver that answers from a script of statuses (then 200)."""

    def __init__(self, *statuses: int | Exception) -> None:
        self.script = list(statuses)
        self.calls: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.calls.append((url, headers, body))
        if self.script:
            outcome = self.script.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return 200

    def events(self) -> list[dict]:
        return [json.loads(body) for _, _, body in self.calls]


def register(api: httpx.Client, events: list[str] | None = None, url: str = HOOK_URL) -> dict:
    response = api.post(
        "/api/webhooks", json={"url": url, "events": events or ["order.delivered", "key.assigned"]}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_registration_returns_the_secret_once(api: httpx.Client) -> None:
    created = register(api, ["order.delivered"])
    assert created["id"].startswith("wh-") and len(created["id"]) == 7
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["order.delivered"] and created["url"] == HOOK_URL
    listed = api.get("/api/webhooks").json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    assert api.delete(f"/api/webhooks/{created['id']}").status_code == 204
    assert api.get("/api/webhooks").json() == []
    missing = api.delete(f"/api/webhooks/{created['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://x.test/h", "events": ["order.delivered"]},
        {"url": "not a url", "events": ["order.delivered"]},
        {"url": 5, "events": ["order.delivered"]},
        {"url": HOOK_URL, "events": []},
        {"url": HOOK_URL, "events": "order.delivered"},
        {"url": HOOK_URL, "events": ["order.shipped"]},
        {"url": HOOK_URL},
    ],
)
def test_invalid_registrations_are_422(api: httpx.Client, body: dict) -> None:
    response = api.post("/api/webhooks", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_webhook"


def test_delivered_order_sends_a_signed_order_delivered(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    endpoint = register(api)
    receiver = Recorder()
    sb.webhook_sender = receiver
    placed = order(api, [(skus.in_stock()[0], 2)], "k-1", "PO-7").json()
    assert sb.deliver_webhooks() == 1
    ((url, headers, body),) = receiver.calls
    assert url == HOOK_URL
    event = Webhook(endpoint["secret"]).verify(body, headers)
    assert event["type"] == "order.delivered" and headers["webhook-id"] == event["id"]
    assert event["id"].startswith("evt_") and len(event["id"]) == 30
    assert event["data"] == {
        "orderId": placed["id"],
        "externalId": "PO-7",
        "keys": [
            {"sku": placed["items"][0]["sku"], "name": placed["items"][0]["name"], "key": key}
            for key in placed["items"][0]["keys"]
        ],
    }
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(body, headers)
    assert sb.deliver_webhooks() == 0  # nothing left


def test_release_sends_key_assigned_per_key_then_order_delivered(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    register(api)
    receiver = Recorder()
    sb.webhook_sender = receiver
    placed = order(api, [(skus.in_stock()[0], 1), (skus.backorder()[0], 2)], "k-1").json()
    sb.deliver_webhooks()
    assert receiver.calls == []  # partially delivered: nothing to announce yet
    sb.release_pending()
    assert sb.deliver_webhooks() == 3
    kinds = [event["type"] for event in receiver.events()]
    assert kinds == ["key.assigned", "key.assigned", "order.delivered"]
    assigned = [event["data"]["key"] for event in receiver.events()[:2]]
    final = api.get(f"/api/orders/{placed['id']}").json()
    assert assigned == final["items"][1]["keys"]
    all_keys = [k["key"] for k in receiver.events()[2]["data"]["keys"]]
    assert all_keys == final["items"][0]["keys"] + final["items"][1]["keys"]
    assert len({event["id"] for event in receiver.events()}) == 3


def test_only_subscribed_events_go_to_an_endpoint(sb: Sandbox, api: httpx.Client, skus: Skus):
    register(api, ["order.delivered"], "https://a.test/h")
    register(api, ["key.assigned"], "https://b.test/h")
    receiver = Recorder()
    sb.webhook_sender = receiver
    order(api, [(skus.backorder()[0], 1)], "k-1")
    sb.release_pending()
    sb.deliver_webhooks()
    routed = sorted((url, json.loads(body)["type"]) for url, _, body in receiver.calls)
    assert routed == [("https://a.test/h", "order.delivered"), ("https://b.test/h", "key.assigned")]


def test_failed_deliveries_are_retried_with_the_same_id(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    endpoint = register(api)
    receiver = Recorder(500, httpx.ConnectError("refused"))
    sb.webhook_sender = receiver
    order(api, [(skus.in_stock()[0], 1)], "k-1")
    assert sb.deliver_webhooks() == 0
    assert sb.deliver_webhooks() == 0
    assert sb.deliver_webhooks() == 1
    log = sb.webhook_deliveries
    assert [entry["attempt"] for entry in log] == [1, 2, 3]
    assert [entry["status"] for entry in log] == [500, None, 200]
    assert "ConnectError" in log[1]["error"]
    assert len({headers["webhook-id"] for _, headers, _ in receiver.calls}) == 1
    for _, headers, body in receiver.calls:
        Webhook(endpoint["secret"]).verify(body, headers)


def test_delivery_gives_up_after_max_attempts(sb: Sandbox, api: httpx.Client, skus: Skus):
    register(api)
    sb.webhook_sender = Recorder(*([503] * 20))
    order(api, [(skus.in_stock()[0], 1)], "k-1")
    for _ in range(10):
        sb.deliver_webhooks()
    assert len(sb.webhook_deliveries) == sb.delivery.max_attempts == 6
    assert sb.delivery.pending() == 0


def test_duplicate_deliveries_on_request(sb: Sandbox, api: httpx.Client, skus: Skus) -> None:
    register(api, ["order.delivered"])
    receiver = Recorder()
    sb.webhook_sender = receiver
    sb.duplicate_next_deliveries = 1
    order(api, [(skus.in_stock()[0], 1)], "k-1")
    order(api, [(skus.in_stock()[1], 1)], "k-2")
    assert sb.deliver_webhooks() == 2
    ids = [headers["webhook-id"] for _, headers, _ in receiver.calls]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]


def test_deleted_endpoint_gets_nothing_more(sb: Sandbox, api: httpx.Client, skus: Skus) -> None:
    endpoint = register(api)
    receiver = Recorder()
    sb.webhook_sender = receiver
    order(api, [(skus.in_stock()[0], 1)], "k-1")
    api.delete(f"/api/webhooks/{endpoint['id']}")
    assert sb.deliver_webhooks() == 0 and receiver.calls == []


def test_background_thread_delivers_and_backs_off(sb: Sandbox, api: httpx.Client, skus: Skus):
    register(api)
    receiver = Recorder(500)
    sb.webhook_sender = receiver
    sb.delivery.backoff = 0.05
    sb.start_delivery_thread()
    try:
        order(api, [(skus.in_stock()[0], 1)], "k-1")
        deadline = time.monotonic() + 5
        while len(receiver.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sb.stop_delivery_thread()
    assert [entry["status"] for entry in sb.webhook_deliveries] == [500, 200]
