"""The floor of the webhook comparison: the least a Django view can do for a delivery.

It verifies the Standard Webhooks HMAC (secret decrypted once per process) and INSERTs
the body as one row, ON CONFLICT DO NOTHING, in autocommit. No parsing beyond the
headers, no audit, no queueing. Served at /bench/floor next to every project URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

FLOOR_TABLE = "bench_floor_event"
_secret: list[bytes] = []


def _key() -> bytes:
    if not _secret:
        from backoffice import crypto
        from webhooks.models import WebhookEndpoint

        token = WebhookEndpoint.objects.values_list("secret_encrypted", flat=True).first()
        _secret.append(base64.b64decode(crypto.decrypt(token or "").removeprefix("whsec_")))
    return _secret[0]


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    body = request.body
    msg_id = request.headers.get("webhook-id", "")
    timestamp = request.headers.get("webhook-timestamp", "")
    signatures = request.headers.get("webhook-signature", "")
    if not (msg_id and timestamp.isdigit() and signatures):
        return JsonResponse({"error": "missing headers"}, status=400)
    if abs(time.time() - int(timestamp)) > 300:
        return JsonResponse({"error": "timestamp"}, status=401)
    expected = base64.b64encode(
        hmac.new(_key(), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    if not any(
        hmac.compare_digest(expected, part.partition(",")[2]) for part in signatures.split()
    ):
        return JsonResponse({"error": "no valid signature"}, status=401)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} (event_id, payload, received_at) "  # noqa: S608 - constant
            "VALUES (%s, %s::jsonb, now()) ON CONFLICT (event_id) DO NOTHING RETURNING id",
            [msg_id, body.decode()],
        )
        created = cursor.fetchone() is not None
    return JsonResponse({"status": "accepted" if created else "duplicate"})


urlpatterns = [
    path("bench/floor", floor),
    path("", include("backoffice.urls")),
]
