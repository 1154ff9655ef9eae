"""The event log: filters, detail with masked keys only, reprocess action and command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.payloads import encrypt_payload

from .factories import WebhookEventFactory

pytestmark = pytest.mark.django_db

CLEAR_KEY = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"


def stored_event(**kwargs) -> WebhookEvent:
    body = {
        "id": kwargs.get("event_id", "evt_detail"),
        "type": "order.delivered",
        "data": {
            "orderId": "ord-1",
            "externalId": "PO-2026-000001",
            "keys": [{"sku": "13200::0-0", "name": "Office", "key": CLEAR_KEY}],
        },
    }
    payload, count = encrypt_payload(body)
    defaults = {
        "event_id": body["id"],
        "type": "order.delivered",
        "upstream_order_id": "ord-1",
        "external_id": "PO-2026-000001",
        "payload": payload,
        "key_count": count,
    }
    defaults.update(kwargs)
    return WebhookEventFactory(**defaults)


def test_the_detail_page_shows_keys_masked_only(admin_client):
    event = stored_event(status=WebhookEvent.Status.WAITING)
    response = admin_client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert CLEAR_KEY.encode() not in response.content
    assert b"UVWXY" in response.content  # the masked tail
    assert b"Reprocess" in response.content


def test_the_list_filters_by_status_type_date_and_order(admin_client):
    waiting = stored_event(event_id="evt_w", status=WebhookEvent.Status.WAITING)
    stored_event(
        event_id="evt_p",
        status=WebhookEvent.Status.PROCESSED,
        upstream_order_id="ord-2",
        external_id="PO-2026-000002",
        received_at=timezone.now() - timedelta(days=5),
    )
    WebhookEventFactory(event_id="evt_ping", type="ping", status=WebhookEvent.Status.IGNORED)

    def ids(query: str) -> set[str]:
        response = admin_client.get("/webhooks/" + query)
        assert response.status_code == 200
        return {
            name
            for name in ("evt_w", "evt_p", "evt_ping")
            if f">{name}<".encode() in response.content
        }

    assert ids("") == {"evt_w", "evt_p", "evt_ping"}
    assert ids("?status=waiting") == {"evt_w"}
    assert ids("?type=other") == {"evt_ping"}
    assert ids("?type=order.delivered") == {"evt_w", "evt_p"}
    assert ids("?order=ord-2") == {"evt_p"}
    assert ids("?order=PO-2026-000001") == {"evt_w"}
    today = timezone.localdate().isoformat()
    assert ids(f"?received_min={today}") == {"evt_w", "evt_ping"}
    assert ids("?status=nonsense").issubset({"evt_w", "evt_p", "evt_ping"})
    assert CLEAR_KEY.encode() not in admin_client.get("/webhooks/").content
    assert waiting.pk


def test_reprocessing_an_unknown_event_is_a_404(admin_client):
    assert admin_client.post("/webhooks/events/999999/reprocess/").status_code == 404
    assert admin_client.get("/webhooks/events/999999/").status_code == 404


def test_the_command_reprocesses_failed_events_by_default_and_by_ids(monkeypatch):
    failed = stored_event(event_id="evt_f", status=WebhookEvent.Status.FAILED, error="boom")
    ignored = WebhookEventFactory(type="ping", status=WebhookEvent.Status.RECEIVED)
    out = StringIO()
    call_command("webhooks_reprocess", stdout=out)
    failed.refresh_from_db()
    # No purchase order matches ord-1 / PO-2026-000001 here: it now waits for its order.
    assert failed.status == WebhookEvent.Status.WAITING
    assert "Reprocessed 1 event(s)" in out.getvalue()

    call_command("webhooks_reprocess", "--ids", str(ignored.pk), stdout=out)
    ignored.refresh_from_db()
    assert ignored.status == WebhookEvent.Status.IGNORED


def test_the_task_for_a_removed_event_does_nothing():
    from webhooks.tasks import webhook_event_process

    assert webhook_event_process.delay(987654321).get() == "missing"
