"""Turning one HTTP delivery into a verified, parsed event, or a precise refusal.

Order matters: the headers are checked for shape, the signature is verified over
the raw bytes, and only then is the body parsed. An unauthenticated body is never
parsed, and nothing in the request other than the signature headers of the configured
scheme (WEBHOOK_SIGNATURE_SCHEME; no secret, no "skip verification" switch) influences
the outcome.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from licendi import ContractError, InvalidSignature, InvalidTimestamp, WebhookVerificationError
from licendi.webhooks import SignatureScheme, describe_signature, parse_event_document

from . import payloads, secrets
from .models import WebhookEvent

MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
MAX_REF_LENGTH = 64
MAX_SIGNATURE_HEADER = 4096
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def now() -> float:
    """The receiver's clock (a module attribute so tests can move it)."""
    return time.time()


class Refused(Exception):
    """The delivery is answered with `status` and not stored."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    event_id: str
    type: str
    occurred_at: datetime | None
    upstream_order_id: str
    external_id: str
    # The body with every licence key replaced by its Fernet token.
    payload: dict[str, Any] = field(repr=False)
    key_count: int = 0


def _check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    values = {
        name: (headers.get(name) or "").strip()
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise Refused(400, f"missing header(s): {', '.join(missing)}")
    if len(values["webhook-id"]) > MAX_ID_LENGTH:
        raise Refused(400, "webhook-id is too long")
    if not _TIMESTAMP.match(values["webhook-timestamp"]):
        raise Refused(400, "webhook-timestamp is not a Unix time in seconds")
    if len(values["webhook-signature"]) > MAX_SIGNATURE_HEADER:
        raise Refused(400, "webhook-signature is too long")
    return values


def looked_like(headers: Mapping[str, str]) -> str:
    """Which signature scheme a (refused) delivery's headers look like, for its log line."""
    return describe_signature(headers)


def _signed_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """The headers the configured scheme reads, checked for shape where it has fixed ones."""
    if settings.WEBHOOK_SIGNATURE_SCHEME == SignatureScheme.STANDARD_WEBHOOKS:
        return _check_headers(headers)
    name = secrets.signature_header()
    value = (headers.get(name) or "").strip()
    if not value:
        raise Refused(400, f"missing header: {name}")
    if len(value) > MAX_SIGNATURE_HEADER:
        raise Refused(400, f"{name} is too long")
    return {name: value}


def verify(headers: Mapping[str, str], body: bytes) -> None:
    """Raise Refused unless an accepting endpoint's secret signed these exact bytes."""
    values = _signed_headers(headers)
    verifier = secrets.verifier()
    try:
        try:
            if verifier is None:
                raise InvalidSignature("no webhook endpoint is registered")
            verifier.verify(headers=values, body=body, now=now())
        except InvalidSignature:
            # Maybe a secret registered by another process since this cache was filled.
            fresh = secrets.verifier(refresh=True)
            if fresh is None or fresh is verifier:
                raise
            fresh.verify(headers=values, body=body, now=now())
    except InvalidTimestamp as exc:
        raise Refused(401, "timestamp outside the accepted window") from exc
    except InvalidSignature as exc:
        raise Refused(401, "no valid signature") from exc
    except WebhookVerificationError as exc:
        raise Refused(400, "malformed signature headers") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Numbers exact, NaN and Infinity refused. Built once: json.loads with these options
# builds a decoder (and its scanner) per call. Shared between threads as json.loads
# shares its default decoder.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _decode(body: bytes) -> Any:
    """json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def _ref(data: Any, name: str) -> str:
    value = data.get(name) if isinstance(data, dict) else None
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_REF_LENGTH:
        raise Refused(400, f"data.{name} is not a valid identifier")
    return value


def parse(headers: Mapping[str, str], body: bytes) -> Delivery:
    """A verified body as a Delivery; Refused(400) when it is not a usable event."""
    try:
        # Decoded once, numbers exact (the contract check below reads this document).
        document = _decode(body)
        if not isinstance(document, dict):
            raise Refused(400, "the body is not a JSON object")
        stored, key_count = payloads.storable_payload(document, body)
    except payloads.Unstorable as exc:
        # Refused here so that it stays a 400 instead of failing in the database.
        raise Refused(400, "the body contains characters that cannot be stored") from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refused(400, "the body is not valid JSON") from exc

    # The body's id is the event id; a body without one (not a Licendi event, but
    # authentic) is kept under the Standard Webhooks message id, identical on retries.
    event_id = document.get("id", headers.get("webhook-id", "").strip())
    event_type = document.get("type", "")
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH:
        raise Refused(400, "id is not a valid event id")
    if not isinstance(event_type, str) or len(event_type) > MAX_TYPE_LENGTH:
        raise Refused(400, "type is not a valid event type")

    occurred_at = None
    if event_type in WebhookEvent.KNOWN_TYPES:
        try:
            event = parse_event_document(document)
        except ContractError as exc:
            # The field name only: a message could quote a value, and values may be keys.
            where = getattr(exc, "field", None) or "body"
            raise Refused(400, f"not a valid {event_type} event ({where})") from exc
        occurred_at = event.created_at
    data = document.get("data")
    return Delivery(
        event_id=event_id,
        type=event_type,
        occurred_at=occurred_at,
        upstream_order_id=_ref(data, "orderId"),
        external_id=_ref(data, "externalId"),
        payload=stored,
        key_count=key_count,
    )
