"""Standard Webhooks signatures (https://www.standardwebhooks.com), sign and verify.

Implemented on the standard library rather than wrapping `standardwebhooks`
because the receiver needs what that package's `Webhook.verify` does not offer:
raw bytes that need not be UTF-8, several secrets at once (rotation), an
injectable clock, and distinct errors for missing headers, bad timestamps and
bad signatures. The tests check interoperability with that package and with
the specification's published test vector.

Scheme: HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{raw body}` keyed by
the base64-decoded part of a `whsec_<base64>` secret; the `webhook-signature`
header holds one or more space-separated `v1,<base64 signature>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
import time
from collections.abc import Iterable, Mapping

from . import parsing
from .records import WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
DEFAULT_TOLERANCE = 300  # seconds, in both directions (replay window and clock skew)
SIGNATURE_VERSION = "v1"

# Unix seconds as an integer; refusing signs, fractions and absurd lengths keeps
# the arithmetic below exact and cheap.
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class WebhookVerificationError(Exception):
    """The delivery must be answered with 4xx and not processed."""


class MissingHeaders(WebhookVerificationError):
    pass


class InvalidTimestamp(WebhookVerificationError):
    pass


class InvalidSignature(WebhookVerificationError):
    pass


def decode_secret(secret: str) -> bytes:
    """`whsec_<base64>` (prefix optional) -> key bytes; ValueError when malformed."""
    if not isinstance(secret, str):
        raise ValueError("webhook secret must be a string")
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    if not encoded:
        raise ValueError("webhook secret is empty")
    try:
        # Padding is restored because some senders strip it; validate=True
        # rejects stray characters instead of silently dropping them.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not valid base64") from None
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def generate_secret(nbytes: int = 32) -> str:
    """A fresh `whsec_` secret with `nbytes` random bytes (24-64 per the spec)."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a webhook secret holds between 24 and 64 bytes")
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode("ascii")


def _signature(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value (`v1,<base64>`) for one delivery."""
    digest = _signature(decode_secret(secret), msg_id, int(timestamp), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """All three headers of a signed delivery (used by senders and tests)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def _candidate_signatures(header: str) -> list[bytes]:
    """The decodable v1 signatures in a header; other versions are ignored by spec."""
    found = []
    for entry in header.split():
        version, sep, encoded = entry.partition(",")
        if not sep or version != SIGNATURE_VERSION:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


class WebhookVerifier:
    """Verifies deliveries against one or more secrets.

    Secrets are decoded here, once, so a malformed one fails at configuration
    time (ValueError) and not on the first delivery. Several secrets allow
    rotation: a delivery signed by any of them is accepted.
    """

    def __init__(self, secrets: Iterable[str], *, tolerance: int = DEFAULT_TOLERANCE) -> None:
        if isinstance(secrets, str):
            raise ValueError("pass secrets as a list, not a single string")
        self._keys = tuple(decode_secret(secret) for secret in secrets)
        if not self._keys:
            raise ValueError("at least one webhook secret is required")
        if tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return f"WebhookVerifier(<{len(self._keys)} secrets>, tolerance={self.tolerance})"

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
        """Raise a WebhookVerificationError subclass unless the delivery is authentic and fresh.

        `body` must be the raw request bytes: re-serialised JSON does not verify.
        """
        lowered = {name.lower(): value for name, value in headers.items()}
        msg_id = lowered.get("webhook-id", "").strip()
        timestamp = lowered.get("webhook-timestamp", "").strip()
        signature_header = lowered.get("webhook-signature", "").strip()
        if not (msg_id and timestamp and signature_header):
            raise MissingHeaders("webhook-id, webhook-timestamp and webhook-signature are required")
        if not _TIMESTAMP.match(timestamp):
            raise InvalidTimestamp("webhook-timestamp is not a Unix time in seconds")
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > self.tolerance:
            raise InvalidTimestamp("webhook-timestamp is outside the accepted window")

        candidates = _candidate_signatures(signature_header)
        matched = False
        for key in self._keys:
            expected = _signature(key, msg_id, timestamp, body)
            for candidate in candidates:
                # No early exit: the time taken must not reveal which secret or
                # signature came close.
                matched |= hmac.compare_digest(expected, candidate)
        if not matched:
            raise InvalidSignature("no valid signature for this delivery")


def verify(
    *,
    secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """One-shot form of `WebhookVerifier(secrets, tolerance=...).verify(...)`."""
    WebhookVerifier(secrets, tolerance=tolerance).verify(headers=headers, body=body, now=now)


def parse_event(body: bytes) -> WebhookEvent:
    """Decode a verified delivery body; ContractError when it is not an event."""
    return parsing.parse_webhook_event(parsing.loads(body))
