"""Signed callbacks to a shop: a fulfilment was delivered or failed.

Standard Webhooks (licendi.webhooks.signature_headers) with the client's own secret. The
body names the fulfilment and its state, never a key: the shop fetches the keys with its
token. One delivery row per event keeps its message id across retries and resends, so
the shop can drop a repeat; each attempt is logged.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.jobs import enqueue
from licendi.webhooks import signature_headers

from ..errors import ChannelError, NotFound
from ..models import CallbackAttempt, CallbackDelivery, Fulfilment
from .clients import client_callback_secret


class CallbackFailed(Exception):
    """The shop did not take the delivery (no answer or not 2xx): retry later."""


EVENT_TYPES = {
    Fulfilment.State.DELIVERED: "fulfilment.delivered",
    Fulfilment.State.FAILED: "fulfilment.failed",
}


def callback_payload(fulfilment: Fulfilment) -> dict[str, object]:
    data: dict[str, object] = {
        "id": fulfilment.pk,
        "orderId": fulfilment.shop_order_id,
        "state": fulfilment.state,
        "url": reverse("channel_api:fulfilment_get", kwargs={"fulfilment_id": fulfilment.pk}),
    }
    if fulfilment.failure_code:
        data["error"] = {"code": fulfilment.failure_code, "message": fulfilment.failure_message}
    return {
        "type": EVENT_TYPES[Fulfilment.State(fulfilment.state)],
        "timestamp": timezone.now().isoformat(),
        "data": data,
    }


def callback_queue(*, fulfilment: Fulfilment) -> CallbackDelivery | None:
    """Record and queue the callback of a fulfilment that reached a final state."""
    client = fulfilment.client
    if not client.callback_url or fulfilment.state not in EVENT_TYPES:
        return None
    payload = callback_payload(fulfilment)
    delivery = CallbackDelivery.objects.create(
        client=client,
        fulfilment=fulfilment,
        msg_id=f"msg_{uuid.uuid4().hex}",
        event_type=str(payload["type"]),
        payload=payload,
    )
    enqueue("channel.tasks.callback_deliver", delivery_id=delivery.pk)
    return delivery


def callback_send(*, delivery_id: int) -> CallbackDelivery:
    """One attempt. Raises CallbackFailed when the shop did not answer 2xx."""
    delivery = CallbackDelivery.objects.select_related("client").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("not_found", f"Callback {delivery_id} does not exist")
    if delivery.status == CallbackDelivery.Status.DELIVERED:
        return delivery
    client = delivery.client
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = signature_headers(
        client_callback_secret(client), delivery.msg_id, int(time.time()), body
    )
    headers["content-type"] = "application/json"
    headers["user-agent"] = "reseller-backoffice-channel/1"
    status_code: int | None = None
    error = ""
    started = time.monotonic()
    try:
        response = httpx.post(
            client.callback_url,
            content=body,
            headers=headers,
            timeout=settings.CHANNEL_CALLBACK_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"answered {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        delivery = CallbackDelivery.objects.select_for_update().get(pk=delivery_id)
        CallbackAttempt.objects.create(
            delivery=delivery, status_code=status_code, error=error, duration_ms=duration_ms
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        delivery.last_attempt_at = now
        fields = ["attempts", "last_status_code", "last_error", "last_attempt_at"]
        if not error:
            delivery.status = CallbackDelivery.Status.DELIVERED
            delivery.delivered_at = now
            fields += ["status", "delivered_at"]
        delivery.save(update_fields=fields)
    if error:
        raise CallbackFailed(error)
    return delivery


def callback_give_up(*, delivery_id: int) -> None:
    CallbackDelivery.objects.filter(pk=delivery_id, status=CallbackDelivery.Status.PENDING).update(
        status=CallbackDelivery.Status.FAILED
    )


def callback_resend(*, delivery_id: int) -> CallbackDelivery:
    """Send a delivery again (same message id), whatever became of it before."""
    with transaction.atomic():
        delivery = CallbackDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("not_found", f"Callback {delivery_id} does not exist")
        if not delivery.client.callback_url:
            raise ChannelError("invalid_request", "The client has no callback URL")
        delivery.status = CallbackDelivery.Status.PENDING
        delivery.save(update_fields=["status"])
        enqueue("channel.tasks.callback_deliver", delivery_id=delivery.pk)
    return delivery
