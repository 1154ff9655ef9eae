"""Webhooks fixtures: a clean secret cache, an endpoint, a signed-delivery poster."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from webhooks import secrets

from .factories import WebhookEndpointFactory, new_secret, signed_headers

RECEIVER = "/hooks/licendi"


@pytest.fixture(autouse=True)
def _fresh_secret_cache(settings):
    settings.LICENDI_MAX_RETRIES = 0
    secrets.clear_cache()
    yield
    secrets.clear_cache()


@pytest.fixture
def receiver_url() -> str:
    assert reverse("webhooks:receiver") == RECEIVER
    return RECEIVER


@pytest.fixture
def endpoint_secret(db) -> str:
    secret = new_secret()
    WebhookEndpointFactory(secret=secret)
    return secret


@pytest.fixture
def post_signed(endpoint_secret) -> Callable:
    """post_signed(body, secret=..., at=...): POST from an anonymous, CSRF-enforcing client."""
    client = Client(enforce_csrf_checks=True)

    def _post(body: bytes, *, secret: str | None = None, at: float | None = None, **extra):
        headers = signed_headers(secret or endpoint_secret, body, at=at)
        headers.update(extra)
        return client.post(RECEIVER, data=body, content_type="application/json", **headers)

    return _post


@pytest.fixture
def route_sandbox_to_receiver(sandbox):
    """Deliveries from the sandbox go into Django's test client (no network)."""
    client = Client(enforce_csrf_checks=True)

    def _send(url: str, headers: dict[str, str], body: bytes) -> int:
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        meta.pop("HTTP_CONTENT_TYPE", None)
        return client.post(RECEIVER, data=body, content_type="application/json", **meta).status_code

    sandbox.webhook_sender = _send
    return sandbox
