"""Webhook signatures: Standard Webhooks by default, two other common schemes by choice.

The Licendi docs say only "HMAC-SHA256 with the endpoint secret", so the scheme is a
setting of the receiver (`SignatureScheme`, `make_verifier`):

- `standard-webhooks` (the default, below): https://www.standardwebhooks.com;
- `hmac-sha256`: the HMAC-SHA256 of the raw body, hex or base64, in one named header,
  with or without a `sha256=` prefix (GitHub and many others);
- `stripe`: a `t=<unix time>,v1=<hex>` header over `{t}.{raw body}` (Stripe's scheme).

`describe_signature` says which of these a delivery's headers look like, for the log
line of a refused delivery.

Standard Webhooks in detail:

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
import contextlib
import hashlib
import hmac
import re
import secrets as _secrets
import time
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Protocol

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


def _keyed(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 keyed with `key` and fed nothing yet: a verifier keeps one per key and
    copies it for each delivery, instead of keying (and looking SHA-256 up) every time."""
    return hmac.new(key, digestmod=hashlib.sha256)


def _digest(keyed: hmac.HMAC, *parts: bytes) -> bytes:
    """The HMAC of the concatenated parts (fed one by one: the body is not copied)."""
    mac = keyed.copy()
    for part in parts:
        mac.update(part)
    return mac.digest()


def _signature(keyed: hmac.HMAC, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    return _digest(keyed, f"{msg_id}.{timestamp}.".encode(), body)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value (`v1,<base64>`) for one delivery."""
    digest = _signature(_keyed(decode_secret(secret)), msg_id, int(timestamp), body)
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
        self._keys = tuple(_keyed(decode_secret(secret)) for secret in secrets)
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


class SignatureScheme(StrEnum):
    STANDARD_WEBHOOKS = "standard-webhooks"
    HMAC_SHA256 = "hmac-sha256"
    STRIPE = "stripe"


DEFAULT_HMAC_HEADER = "X-Signature"
DEFAULT_STRIPE_HEADER = "Stripe-Signature"
MAX_SIGNATURE_HEADER = 4096
_HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")
_STRIPE_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class Verifier(Protocol):
    tolerance: int

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None: ...


def _hmac_keys(secrets: Iterable[str]) -> tuple[bytes, ...]:
    """The keys a secret may stand for outside Standard Webhooks.

    The secret as given (UTF-8), which is what Stripe and most senders key with, and for
    a `whsec_<base64>` secret also its decoded bytes, which is what Standard Webhooks
    keys with: the docs do not say which one Licendi uses, and either is the same secret.
    """
    if isinstance(secrets, str):
        raise ValueError("pass secrets as a list, not a single string")
    keys: list[bytes] = []
    for secret in secrets:
        if not isinstance(secret, str) or not secret.strip():
            raise ValueError("webhook secret is empty")
        keys.append(secret.strip().encode())
        with contextlib.suppress(ValueError):  # not a whsec_ secret: the string alone
            keys.append(decode_secret(secret))
    if not keys:
        raise ValueError("at least one webhook secret is required")
    return tuple(keys)


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            value = value.strip()
            if len(value) > MAX_SIGNATURE_HEADER:
                raise WebhookVerificationError(f"{name} is too long")
            return value
    return ""


def _decode_body_signature(value: str) -> bytes | None:
    """A 32-byte digest from hex or base64, with or without `sha256=`; None otherwise."""
    encoded = value.strip()
    if encoded[:7].lower() == "sha256=":
        encoded = encoded[7:]
    if _HEX_DIGEST.match(encoded):
        return bytes.fromhex(encoded)
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == hashlib.sha256().digest_size else None


class BodyHmacVerifier:
    """`hmac-sha256`: HMAC-SHA256 of the raw body in one header, hex or base64.

    Nothing time-bound is signed, so this scheme has no replay window of its own: a
    replayed delivery carries the same event id and is stored once (the receiver's
    ON CONFLICT on the event id), which is all a replay can achieve.
    """

    def __init__(self, secrets: Iterable[str], *, header: str = DEFAULT_HMAC_HEADER) -> None:
        self._keys = tuple(_keyed(key) for key in _hmac_keys(secrets))
        self.header = header
        self.tolerance = 0

    def __repr__(self) -> str:
        return f"BodyHmacVerifier(<{len(self._keys)} keys>, header={self.header!r})"

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
        value = _header(headers, self.header)
        if not value:
            raise MissingHeaders(f"{self.header} is required")
        candidate = _decode_body_signature(value)
        if candidate is None:
            raise WebhookVerificationError(f"{self.header} is not a hex or base64 SHA-256 HMAC")
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(_digest(key, body), candidate)
        if not matched:
            raise InvalidSignature("no valid signature for this delivery")


def sign_body(secret: str, body: bytes, *, encoding: str = "hex", prefix: bool = False) -> str:
    """An `hmac-sha256` header value (for senders and tests): hex or base64."""
    digest = hmac.new(secret.strip().encode(), body, hashlib.sha256).digest()
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")
    return f"sha256={value}" if prefix else value


class StripeVerifier:
    """`stripe`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">` in one header.

    Several `v1=` entries are allowed (Stripe sends one per active secret); other
    versions are ignored. `t` must be within `tolerance` seconds of now.
    """

    def __init__(
        self,
        secrets: Iterable[str],
        *,
        header: str = DEFAULT_STRIPE_HEADER,
        tolerance: int = DEFAULT_TOLERANCE,
    ) -> None:
        self._keys = tuple(_keyed(key) for key in _hmac_keys(secrets))
        if tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        self.header = header
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return f"StripeVerifier(<{len(self._keys)} keys>, header={self.header!r})"

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
        value = _header(headers, self.header)
        if not value:
            raise MissingHeaders(f"{self.header} is required")
        timestamp = ""
        candidates: list[bytes] = []
        for part in value.split(","):
            name, sep, item = part.strip().partition("=")
            if not sep:
                continue
            if name == "t":
                timestamp = item
            elif name == "v1" and _HEX_DIGEST.match(item):
                candidates.append(bytes.fromhex(item))
        if not _STRIPE_TIMESTAMP.match(timestamp):
            raise InvalidTimestamp(f"{self.header} has no t=<unix seconds>")
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > self.tolerance:
            raise InvalidTimestamp(f"{self.header} t= is outside the accepted window")
        prefix = timestamp.encode() + b"."
        matched = False
        for key in self._keys:
            expected = _digest(key, prefix, body)
            for candidate in candidates:
                matched |= hmac.compare_digest(expected, candidate)
        if not matched:
            raise InvalidSignature("no valid signature for this delivery")


def sign_stripe(secret: str, timestamp: int, body: bytes) -> str:
    """A `stripe` header value (for senders and tests)."""
    signed = str(int(timestamp)).encode() + b"." + body
    digest = hmac.new(secret.strip().encode(), signed, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


def make_verifier(
    scheme: str,
    secrets: Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    header: str = "",
) -> Verifier:
    """The verifier of `scheme` over `secrets`; ValueError for an unknown scheme.

    `header` names the signature header of `hmac-sha256` (default X-Signature) and
    `stripe` (default Stripe-Signature); Standard Webhooks has fixed header names.
    """
    chosen = SignatureScheme(scheme)
    if chosen is SignatureScheme.HMAC_SHA256:
        return BodyHmacVerifier(secrets, header=header or DEFAULT_HMAC_HEADER)
    if chosen is SignatureScheme.STRIPE:
        return StripeVerifier(secrets, header=header or DEFAULT_STRIPE_HEADER, tolerance=tolerance)
    return WebhookVerifier(secrets, tolerance=tolerance)


def check_secret(scheme: str, secret: str) -> None:
    """ValueError unless `secret` can key `scheme` (a `whsec_` base64 one for the default)."""
    if SignatureScheme(scheme) is SignatureScheme.STANDARD_WEBHOOKS:
        decode_secret(secret)
    else:
        _hmac_keys([secret])


_STRIPE_SHAPE = re.compile(r"(^|,)\s*t=[0-9]+\s*,.*\bv[0-9]+=", re.ASCII)


def describe_signature(headers: Mapping[str, str]) -> str:
    """Which scheme a delivery's headers look like (for logs); never a header's value."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.get("webhook-signature"):
        return SignatureScheme.STANDARD_WEBHOOKS.value
    for name, value in lowered.items():
        value = value.strip()[:MAX_SIGNATURE_HEADER]
        if _STRIPE_SHAPE.search(value):
            return f"{SignatureScheme.STRIPE.value} ({name})"
    for name, value in lowered.items():
        if "sig" not in name and "hmac" not in name:
            continue
        encoded = value.strip()
        prefixed = encoded[:7].lower() == "sha256="
        digest = encoded[7:] if prefixed else encoded
        if _HEX_DIGEST.match(digest):
            encoding = "hex"
        elif _decode_body_signature(digest) is not None:
            encoding = "base64"
        else:
            continue
        prefix = ", sha256= prefix" if prefixed else ""
        return f"{SignatureScheme.HMAC_SHA256.value} {encoding} ({name}{prefix})"
    return "no known signature header"


def parse_event(body: bytes) -> WebhookEvent:
    """Decode a verified delivery body; ContractError when it is not an event."""
    return parsing.parse_webhook_event(parsing.loads(body))


def parse_event_document(document: Any) -> WebhookEvent:
    """`parse_event` of a body already decoded (as `parsing.loads` decodes it: every
    non-integer number a Decimal); ContractError when it is not an event."""
    return parsing.parse_webhook_event(document)
