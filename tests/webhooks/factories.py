"""Factories and builders for the webhooks tests."""

import base64
import json
import secrets as random_secrets
import time
import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from backoffice import crypto
from licendi.webhooks import signature_headers
from orders.models import PurchaseOrder, PurchaseOrderLine
from webhooks.models import WebhookEndpoint, WebhookEvent


def new_secret() -> str:
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(32)).decode()


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """`WebhookEndpointFactory(secret=...)` stores the secret encrypted, like registration."""

    class Meta:
        model = WebhookEndpoint
        exclude = ("secret",)

    secret = factory.LazyFunction(new_secret)
    upstream_id = factory.Sequence(lambda n: f"wh-test-{n}")
    url = "http://testserver/hooks/licendi"
    events = factory.LazyFunction(lambda: ["order.delivered", "key.assigned"])
    secret_encrypted = factory.LazyAttribute(lambda o: crypto.encrypt(o.secret))


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    event_id = factory.Sequence(lambda n: f"evt_test_{n:06d}")
    type = "order.delivered"
    received_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(lambda o: {"id": o.event_id, "type": o.type, "data": {}})


def purchase_order_submitting(*, lines: list[tuple[str, int]], external_id: str | None = None):
    """A PO as it stands once confirmed and about to be sent: the outbox row."""
    po = PurchaseOrder.objects.create(
        status=PurchaseOrder.Status.SUBMITTING,
        external_id=external_id or f"PO-T-{uuid.uuid4().hex[:10].upper()}",
        idempotency_key=uuid.uuid4(),
        total=Decimal("0.00"),
    )
    for sku, qty in lines:
        PurchaseOrderLine.objects.create(
            purchase_order=po, order_sku=sku, name=sku, quantity=qty, unit_net_price=Decimal("1")
        )
    return po


def event_body(event_type: str, data: dict, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": event_type,
            "createdAt": "2026-11-26T09:15:00Z",
            "data": data,
        },
        separators=(",", ":"),
    ).encode()


def signed_headers(secret: str, body: bytes, *, msg_id: str | None = None, at: float | None = None):
    """Django test-client keyword arguments for a signed delivery."""
    if msg_id is None:
        try:
            msg_id = json.loads(body).get("id")
        except (ValueError, AttributeError, RecursionError):
            msg_id = None
        if not isinstance(msg_id, str) or not msg_id.isascii() or not 0 < len(msg_id) <= 255:
            msg_id = f"msg_{uuid.uuid4().hex}"
    headers = signature_headers(secret, msg_id, int(time.time() if at is None else at), body)
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
