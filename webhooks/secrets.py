"""The secrets that verify deliveries, decrypted once and kept briefly per process.

Decrypting every active secret on every delivery would put Fernet work on the hot
path, so each process keeps a verifier (of the configured WEBHOOK_SIGNATURE_SCHEME)
for WEBHOOK_SECRET_CACHE_SECONDS.
Endpoint changes made in this process drop the cache at once; other processes pick
them up within the cache period, or sooner: a delivery that fails verification
against a cache older than REFRESH_MIN_SECONDS reloads the secrets once and tries
again, so a freshly registered secret is accepted everywhere almost immediately.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from backoffice import crypto
from licendi.webhooks import DEFAULT_HMAC_HEADER, DEFAULT_STRIPE_HEADER, Verifier, make_verifier

from .models import WebhookEndpoint

logger = logging.getLogger(__name__)

# Bounds the reloads an attacker can cause with bad signatures to one per second.
REFRESH_MIN_SECONDS = 1.0

_lock = threading.Lock()
# (loaded at, kept for seconds, verifier): read without the lock (one reference, replaced
# whole), written under it.
_cached: tuple[float, float, Verifier | None] | None = None


def signature_header() -> str:
    """The header the configured scheme reads its signature from."""
    scheme = settings.WEBHOOK_SIGNATURE_SCHEME
    if scheme == "stripe":
        return settings.WEBHOOK_SIGNATURE_HEADER or DEFAULT_STRIPE_HEADER
    if scheme == "hmac-sha256":
        return settings.WEBHOOK_SIGNATURE_HEADER or DEFAULT_HMAC_HEADER
    return "webhook-signature"


def _configuration() -> tuple[str, str, int]:
    return (
        settings.WEBHOOK_SIGNATURE_SCHEME,
        signature_header(),
        int(settings.WEBHOOK_TOLERANCE_SECONDS),
    )


def _load(configuration: tuple[str, str, int]) -> Verifier | None:
    scheme, header, tolerance = configuration
    tokens = list(
        WebhookEndpoint.objects.filter(status__in=WebhookEndpoint.ACCEPTING_STATUSES)
        .order_by("pk")
        .values_list("secret_encrypted", flat=True)
    )
    secrets = []
    for token in tokens:
        try:
            secrets.append(crypto.decrypt(token))
        except crypto.InvalidToken:
            # A secret encrypted under a key no longer configured: the others still work.
            logger.error("a webhook endpoint secret cannot be decrypted with FIELD_ENCRYPTION_KEYS")
    if not secrets:
        return None
    return make_verifier(scheme, secrets, tolerance=tolerance, header=header)


def verifier(*, refresh: bool = False) -> Verifier | None:
    """The verifier for every accepting endpoint's secret; None when there is none.

    A delivery reads no setting here: a change of a setting the verifier is built from
    drops it (`_forget_on_setting_change`), and settings change only in tests."""
    global _cached
    cached = _cached
    if cached is not None:
        loaded_at, ttl, current = cached
        age = time.monotonic() - loaded_at
        if age < ttl and not (refresh and age >= REFRESH_MIN_SECONDS):
            return current
    current = _load(_configuration())
    with _lock:
        _cached = (time.monotonic(), float(settings.WEBHOOK_SECRET_CACHE_SECONDS), current)
    return current


@receiver(setting_changed)
def _forget_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("WEBHOOK_") or setting == "FIELD_ENCRYPTION_KEYS":
        clear_cache()


def cache_age() -> float | None:
    with _lock:
        return None if _cached is None else time.monotonic() - _cached[0]


def clear_cache() -> None:
    """Forget the decrypted secrets (after any endpoint change in this process)."""
    global _cached
    with _lock:
        _cached = None
