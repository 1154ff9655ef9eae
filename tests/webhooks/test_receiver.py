"""The receiver: Standard Webhooks verification over the raw body, refusals, no login."""

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.http import JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from licendi.webhooks import BodyHmacVerifier
from webhooks import receiver, secrets
from webhooks.models import WebhookEvent
from webhooks.services import deliveries

from .factories import WebhookEndpointFactory, event_body, new_secret, signed_headers

pytestmark = pytest.mark.django_db

# The specification's published test vector (standard-webhooks, libraries/python tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vector_headers(signature: str = VECTOR_SIGNATURE) -> dict[str, str]:
    return {
        "HTTP_WEBHOOK_ID": VECTOR_ID,
        "HTTP_WEBHOOK_TIMESTAMP": str(VECTOR_TIMESTAMP),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


@pytest.fixture
def vector_endpoint(monkeypatch):
    WebhookEndpointFactory(secret=VECTOR_SECRET)
    monkeypatch.setattr(receiver, "now", lambda: float(VECTOR_TIMESTAMP))


def test_published_test_vector_verifies_through_the_receiver(
    client, vector_endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/hooks/licendi", data=VECTOR_BODY, content_type="application/json", **vector_headers()
        )
    assert response.status_code == 200
    # Authentic but not a Licendi event: kept under its message id and marked ignored.
    event = WebhookEvent.objects.get(event_id=VECTOR_ID)
    assert event.status == WebhookEvent.Status.IGNORED


@pytest.mark.parametrize("part", ["signature", "body"])
def test_published_test_vector_with_one_character_changed_is_refused(client, vector_endpoint, part):
    signature, body = VECTOR_SIGNATURE, VECTOR_BODY
    if part == "signature":
        signature = signature[:-2] + "A="  # the published "invalid signature" case
    else:
        body = body.replace(b"4}", b"5}")
    response = client.post(
        "/hooks/licendi", data=body, content_type="application/json", **vector_headers(signature)
    )
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_raw_bytes_verify_but_reserialised_json_does_not(post_signed, endpoint_secret, client):
    raw = b'{"id": "evt_raw", "type": "ping",  "data": {"b": 1, "a": 2}}'
    headers = signed_headers(endpoint_secret, raw)
    reserialised = json.dumps(json.loads(raw), separators=(",", ":"), sort_keys=True).encode()
    refused = client.post(
        "/hooks/licendi", data=reserialised, content_type="application/json", **headers
    )
    assert refused.status_code == 401
    accepted = client.post("/hooks/licendi", data=raw, content_type="application/json", **headers)
    assert accepted.status_code == 200
    assert WebhookEvent.objects.filter(event_id="evt_raw").count() == 1


@pytest.mark.parametrize(("offset", "accepted"), [(-1, True), (+1, True), (-2, False), (+2, False)])
def test_timestamp_tolerance_applies_in_both_directions(
    post_signed, settings, monkeypatch, offset, accepted
):
    settings.WEBHOOK_TOLERANCE_SECONDS = 300
    fixed_now = 1_800_000_000.0
    monkeypatch.setattr(receiver, "now", lambda: fixed_now)
    # ±1 -> ±(tolerance - 1) s; ±2 -> ±(tolerance + 1) s.
    skew = (300 - 1) if abs(offset) == 1 else (300 + 1)
    sent_at = fixed_now + (skew if offset > 0 else -skew)
    response = post_signed(event_body("ping", {}), at=sent_at)
    assert response.status_code == (200 if accepted else 401)


@pytest.mark.parametrize(
    "change",
    [
        {"HTTP_WEBHOOK_ID": ""},
        {"HTTP_WEBHOOK_TIMESTAMP": ""},
        {"HTTP_WEBHOOK_SIGNATURE": ""},
        {"HTTP_WEBHOOK_TIMESTAMP": "yesterday"},
        {"HTTP_WEBHOOK_TIMESTAMP": "-1"},
        {"HTTP_WEBHOOK_TIMESTAMP": "1.5"},
        {"HTTP_WEBHOOK_TIMESTAMP": "9" * 40},
        {"HTTP_WEBHOOK_ID": "x" * 300},
        {"HTTP_WEBHOOK_SIGNATURE": "v1," + "A" * 5000},
    ],
)
def test_malformed_headers_are_a_400(client, endpoint_secret, change):
    body = event_body("ping", {})
    headers = signed_headers(endpoint_secret, body)
    headers.update(change)
    response = client.post("/hooks/licendi", data=body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'"a string"',
        b'{"id": "evt_nan", "type": "ping", "data": {"x": NaN}}',
        b'{"id": 12, "type": "ping"}',
        b'{"id": "evt_t", "type": ["key.assigned"]}',
        b'{"id": "' + b"e" * 300 + b'", "type": "ping"}',
        b'{"id": "evt_nul", "type": "ping", "data": {"x": "a\\u0000b"}}',
        b'{"id": "evt_sur", "type": "ping", "data": {"x": "\\ud800"}}',
        b'{"id": "evt_\\ud800", "type": "ping"}',
        b'{"id": "evt_upper", "type": "ping", "data": {"\\uDC00": 1}}',
        # json.loads reads UTF-16 too: its escapes are not the UTF-8 bytes of "\\u0000".
        '{"id": "evt_u16", "type": "ping", "data": {"x": "a\\u0000b"}}'.encode("utf-16"),
        b'{"id": "evt_ka", "type": "key.assigned", "data": {"orderId": "ord-1", "sku": "1"}}',
        b'{"id": "evt_od", "type": "order.delivered", "data": {"orderId": "ord-1", "keys": 3}}',
        b'{"id": "evt_oid", "type": "order.delivered", "data": {"orderId": ["x"], "keys": []}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_malformed_signed_bodies_are_a_400_never_a_500(post_signed, body, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1_000_000
    response = post_signed(body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_escapes_of_storable_text_and_numbers_are_stored_as_decoded(post_signed):
    """A valid surrogate pair and an escaped backslash before "u0000" are ordinary text,
    and numbers keep the value JSON gives them (decimals as floats), though the body is
    read with exact decimals for the contract check."""
    body = (
        b'{"id": "evt_text", "type": "key.assigned", "createdAt": "2026-11-26T09:15:00Z", '
        b'"data": {"orderId": "ord-\\ud83d\\ude00", "sku": "S", "key": "K\\\\u0000", '
        b'"price": 12.10, "qty": 3, "ratio": 1e-7}}'
    )
    assert post_signed(body).status_code == 200
    event = WebhookEvent.objects.get(event_id="evt_text")
    assert event.upstream_order_id == "ord-\U0001f600"
    data = event.payload["data"]
    assert (data["price"], data["qty"], data["ratio"]) == (12.1, 3, 1e-7)
    assert isinstance(data["price"], float)
    assert [key.key for key in receiver.payloads.stored_keys(event.payload)] == ["K\\u0000"]
    assert event.occurred_at is not None


def test_a_wrong_secret_is_a_401_logged_without_the_body(post_signed, caplog):
    body = event_body("key.assigned", {"orderId": "o", "sku": "s", "key": "SECRET-KEY-VALUE"})
    with caplog.at_level(logging.WARNING, logger="webhooks"):
        response = post_signed(body, secret=new_secret())
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "refused (401)" in logged
    assert "SECRET-KEY-VALUE" not in logged


def test_a_secret_sent_in_request_headers_is_ignored(post_signed):
    attacker = new_secret()
    response = post_signed(
        event_body("ping", {}),
        secret=attacker,
        HTTP_WEBHOOK_SECRET=attacker,
        HTTP_X_WEBHOOK_SECRET=attacker,
        HTTP_X_SKIP_VERIFICATION="1",
    )
    assert response.status_code == 401


def test_no_endpoint_registered_means_every_delivery_is_refused(client):
    body = event_body("ping", {})
    response = client.post(
        "/hooks/licendi",
        data=body,
        content_type="application/json",
        **signed_headers(new_secret(), body),
    )
    assert response.status_code == 401


def test_several_signatures_in_one_header_any_valid_one_passes(client, endpoint_secret):
    body = event_body("ping", {})
    headers = signed_headers(endpoint_secret, body)
    good = headers["HTTP_WEBHOOK_SIGNATURE"]
    headers["HTTP_WEBHOOK_SIGNATURE"] = f"v1,bm90LWl0 v2,{good[3:]} {good} v1,AAAA"
    response = client.post("/hooks/licendi", data=body, content_type="application/json", **headers)
    assert response.status_code == 200


def test_the_receiver_needs_no_login_nor_csrf_token(post_signed):
    # post_signed uses an anonymous client that enforces CSRF checks.
    response = post_signed(event_body("ping", {}))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}


def test_acknowledgements_are_the_bytes_and_type_a_json_response_writes(
    post_signed: Callable[..., Any],
) -> None:
    body = event_body("ping", {})
    for status in ("accepted", "duplicate"):
        response = post_signed(body)
        expected = JsonResponse({"status": status})
        assert response.status_code == 200
        assert response.content == expected.content
        assert response["Content-Type"] == expected["Content-Type"]


def test_a_new_event_is_inserted_through_django_with_its_values_bound_server_side(
    post_signed: Callable[..., Any],
) -> None:
    body = event_body("ping", {"orderId": "ord-1", "externalId": "PO-'1"})
    with CaptureQueriesContext(connection) as queries:
        assert post_signed(body).json() == {"status": "accepted"}
    # Through Django's cursor wrapper (logged like any statement), once.
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "webhooks_webhookevent" in inserts[0]
    with deliveries._insert_cursor(connection) as cursor:
        # psycopg's server-binding cursor, not the client-side one that quotes values.
        assert isinstance(cursor.cursor, psycopg.Cursor)
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)
    event = WebhookEvent.objects.get(event_id=json.loads(body)["id"])
    assert (event.type, event.upstream_order_id, event.external_id) == ("ping", "ord-1", "PO-'1")
    assert event.status == WebhookEvent.Status.RECEIVED and event.key_count == 0
    assert event.occurred_at is None and event.received_at is not None


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_is_allowed(client, method):
    assert getattr(client, method)("/hooks/licendi").status_code == 405


def test_an_oversized_body_is_a_413(post_signed, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    body = event_body("ping", {"padding": "x" * 2048})
    response = post_signed(body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_the_secret_cache_picks_up_an_endpoint_registered_by_another_process(
    post_signed, endpoint_secret, monkeypatch
):
    assert post_signed(event_body("ping", {})).status_code == 200  # cache now filled
    other = new_secret()
    WebhookEndpointFactory(secret=other)  # written without clearing this process's cache
    monkeypatch.setattr(secrets, "REFRESH_MIN_SECONDS", 0.0)
    assert post_signed(event_body("ping", {}), secret=other).status_code == 200


def test_a_first_endpoint_registered_by_another_process_is_picked_up(client, monkeypatch):
    body = event_body("ping", {})
    secret = new_secret()

    def post():
        headers = signed_headers(secret, body)
        return client.post("/hooks/licendi", data=body, content_type="application/json", **headers)

    assert post().status_code == 401  # no endpoint yet: "none" is cached
    WebhookEndpointFactory(secret=secret)
    monkeypatch.setattr(secrets, "REFRESH_MIN_SECONDS", 0.0)
    assert post().status_code == 200


def test_bad_signatures_do_not_reload_secrets_more_than_once_a_second(
    post_signed, endpoint_secret, django_assert_num_queries
):
    assert post_signed(event_body("ping", {})).status_code == 200  # cache now filled
    with django_assert_num_queries(0):
        for _ in range(5):
            assert post_signed(event_body("ping", {}), secret=new_secret()).status_code == 401


def test_a_changed_signature_setting_takes_effect_without_clearing_the_cache(
    post_signed, endpoint_secret, settings
):
    body = event_body("ping", {})
    assert post_signed(body).status_code == 200  # a Standard Webhooks verifier is cached

    settings.WEBHOOK_SIGNATURE_SCHEME = "hmac-sha256"
    digest = hmac.new(endpoint_secret.encode(), body, hashlib.sha256).hexdigest()
    response = Client().post(
        "/hooks/licendi", data=body, content_type="application/json", HTTP_X_SIGNATURE=digest
    )

    assert response.status_code == 200
    assert isinstance(secrets.verifier(), BodyHmacVerifier)


def test_the_secret_cache_expires_after_its_period(post_signed, endpoint_secret, settings):
    settings.WEBHOOK_SECRET_CACHE_SECONDS = 0
    assert post_signed(event_body("ping", {})).status_code == 200
    other = new_secret()
    WebhookEndpointFactory(secret=other)  # written without clearing this process's cache

    # Reloaded because the cache is out of date, not because a signature failed.
    assert secrets.verifier() is not secrets.verifier()
    assert post_signed(event_body("ping", {}), secret=other).status_code == 200


def test_non_ascii_strings_are_stored_as_they_are(post_signed):
    body = event_body(
        "key.assigned",
        {"orderId": "ord-é", "sku": "SKU-1", "name": "Café ✓ 許可 🔑", "key": "ключ-🔑"},
    )

    assert post_signed(body).status_code == 200

    event = WebhookEvent.objects.get()
    assert event.upstream_order_id == "ord-é"
    assert event.payload["data"]["name"] == "Café ✓ 許可 🔑"
    assert [key.key for key in receiver.payloads.stored_keys(event.payload)] == ["ключ-🔑"]
