"""No licence key is stored in clear, whatever the field that carries it."""

import importlib
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from backoffice import crypto
from webhooks.models import WebhookEvent
from webhooks.payloads import CLEAR_PATHS, encrypt_payload, map_tokens, stored_keys

from .factories import WebhookEventFactory, event_body

pytestmark = pytest.mark.django_db

KEY = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"


def _raw_payload(event_id: str) -> str:
    """The stored body exactly as PostgreSQL holds it (no model code in the way)."""
    table = WebhookEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT payload::text FROM {table} WHERE event_id = %s", [event_id])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "data",
    [
        {"orderId": "ord-1", "keys": [{"sku": "S", "name": "N", "key": KEY}]},
        {"orderId": "ord-1", "keys": [KEY]},
        {"orderId": "ord-1", "licenseKey": KEY},
        {"orderId": "ord-1", "Key": KEY},
        {"orderId": "ord-1", "items": [{"delivery": {"codes": [{"value": KEY}]}}]},
        {"orderId": "ord-1", "note": f"your key is {KEY}"},
        {"orderId": "ord-1", "keys": [{"sku": "S", "licenseKey": KEY, "KEY": KEY}]},
    ],
    ids=["key", "bare-strings", "licenseKey", "Key", "nested-unknown", "free-text", "two-names"],
)
def test_a_delivered_key_is_never_stored_in_clear(post_signed, data):
    for event_type in ("order.delivered", "something.new"):
        body = event_body(event_type, data)
        event_id = json.loads(body)["id"]

        response = post_signed(body)

        assert response.status_code in (200, 400)
        if response.status_code == 200:
            assert KEY not in _raw_payload(event_id)


def test_the_fields_the_back_office_reads_stay_readable_and_the_keys_decrypt(post_signed):
    body = event_body(
        "order.delivered",
        {
            "orderId": "ord-77",
            "externalId": "PO-77",
            "keys": [{"sku": "13200::0-0", "name": "Office", "key": KEY}],
            "invoice": "INV-1",
            "quantity": 3,
        },
    )

    assert post_signed(body).status_code == 200

    event = WebhookEvent.objects.get()
    data = event.payload["data"]
    assert (event.payload["type"], data["orderId"], data["externalId"]) == (
        "order.delivered",
        "ord-77",
        "PO-77",
    )
    assert data["keys"][0]["sku"] == "13200::0-0"
    assert data["quantity"] == 3
    assert crypto.decrypt(data["invoice"]) == "INV-1"
    assert [key.key for key in stored_keys(event.payload)] == [KEY]
    assert event.key_count == 1


def test_every_string_outside_the_allow_list_is_a_token():
    document = {
        "id": "evt_1",
        "type": "t",
        "createdAt": "2026-01-01T00:00:00Z",
        "extra": "x",
        "data": {"orderId": "o", "deep": [{"a": "b", "n": 1, "z": None}]},
    }

    stored, count = encrypt_payload(document)

    seen: list[str] = []
    map_tokens(stored, lambda token: seen.append(crypto.decrypt(token)) or token)
    assert sorted(seen) == ["b", "x"]
    assert count == 0
    assert ("data", "orderId") in CLEAR_PATHS


def test_the_migration_encrypts_old_bodies_and_keeps_their_key_tokens():
    migration = importlib.import_module(
        "webhooks.migrations.0002_encrypt_every_unread_payload_value"
    )
    token = crypto.encrypt(KEY)
    old = WebhookEventFactory(
        payload={
            "id": "evt_old",
            "type": "order.delivered",
            "data": {
                "orderId": "ord-1",
                "keys": [{"sku": "S", "name": "N", "key": token, "licenseKey": KEY}],
            },
        }
    )
    from django.apps import apps

    migration.encrypt_unread_values(apps, None)

    old.refresh_from_db()
    assert KEY not in json.dumps(old.payload)
    entry = old.payload["data"]["keys"][0]
    assert entry["key"] == token
    assert crypto.decrypt(entry["licenseKey"]) == KEY
    assert [key.key for key in stored_keys(old.payload)] == [KEY]


def test_the_stored_body_is_a_jsonb_object_and_the_times_are_exact(post_signed):
    """The receiver binds the body as text and its datetimes as they are: PostgreSQL
    holds a JSON object (queried by path, numbers as numbers), not a JSON string."""
    before = timezone.now()
    body = event_body(
        "key.assigned",
        {"orderId": "ord-9", "externalId": "PO-9", "sku": "S", "key": KEY, "price": 1.25},
    )
    event_id = json.loads(body)["id"]

    assert post_signed(body).status_code == 200

    table = WebhookEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT jsonb_typeof(payload), payload #>> '{{data,orderId}}', "  # noqa: S608
            f"jsonb_typeof(payload #> '{{data,price}}') FROM {table} WHERE event_id = %s",
            [event_id],
        )
        assert cursor.fetchone() == ("object", "ord-9", "number")
    event = WebhookEvent.objects.get(payload__data__orderId="ord-9")
    assert event.payload["data"]["price"] == 1.25
    assert event.occurred_at == datetime(2026, 11, 26, 9, 15, tzinfo=UTC)
    assert before <= event.received_at <= timezone.now()
