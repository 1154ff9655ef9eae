"""The signature scheme is a setting: Standard Webhooks, body HMAC (hex/base64), Stripe-style.

Deliveries are signed here by implementations independent of licendi.webhooks: the
`standardwebhooks` package for the default, and the standard library's hmac written out
by hand for the other two.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from webhooks import receiver, secrets
from webhooks.models import WebhookEvent

from .factories import WebhookEndpointFactory, event_body, new_secret

pytestmark = pytest.mark.django_db

RECEIVER = "/hooks/licendi"


@pytest.fixture
def secret() -> str:
    value = new_secret()
    WebhookEndpointFactory(secret=value)
    return value


@pytest.fixture
def scheme(settings):
    def _use(name: str, header: str = "") -> None:
        settings.WEBHOOK_SIGNATURE_SCHEME = name
        settings.WEBHOOK_SIGNATURE_HEADER = header
        secrets.clear_cache()

    return _use


def _post(body: bytes, headers: dict[str, str]):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(RECEIVER, data=body, content_type="application/json", **meta)


def _body() -> bytes:
    return event_body("something.new", {"orderId": "ord-1"})


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


# ------------------------------------------------------------ standard webhooks


def test_standard_webhooks_is_the_default_and_accepts_the_reference_package(settings, secret):
    assert settings.WEBHOOK_SIGNATURE_SCHEME == "standard-webhooks"
    body = _body()
    msg_id = json.loads(body)["id"]
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, now, body.decode())

    response = _post(
        body,
        {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )

    assert response.status_code == 200


# ------------------------------------------------------------ body hmac


@pytest.mark.parametrize("encoding", ["hex", "base64"])
@pytest.mark.parametrize("prefix", ["", "sha256="])
@pytest.mark.parametrize("key_form", ["as-given", "decoded"])
def test_hmac_of_the_body_in_a_named_header_is_accepted(scheme, secret, encoding, prefix, key_form):
    scheme("hmac-sha256", header="X-Licendi-Signature")
    body = _body()
    key = secret.encode() if key_form == "as-given" else base64.b64decode(secret[6:])
    digest = _hmac(key, body)
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()

    response = _post(body, {"X-Licendi-Signature": prefix + value})

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_hmac_scheme_refuses_a_changed_body_a_wrong_key_and_other_headers(scheme, secret):
    scheme("hmac-sha256")  # default header X-Signature
    body = _body()
    good = _hmac(secret.encode(), body).hex()

    assert _post(body + b" ", {"X-Signature": good}).status_code == 401
    assert _post(body, {"X-Signature": _hmac(b"other", body).hex()}).status_code == 401
    assert _post(body, {"X-Other": good}).status_code == 400
    assert _post(body, {"X-Signature": "sha256=not-hex"}).status_code == 400
    # Standard Webhooks headers mean nothing under this scheme.
    assert _post(body, {"webhook-signature": "v1,xx", "webhook-id": "a"}).status_code == 400
    assert _post(body, {"X-Signature": good}).status_code == 200


# ------------------------------------------------------------ stripe style


def _stripe(secret: str, body: bytes, at: int) -> str:
    signed = f"{at}.".encode() + body
    return f"t={at},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def test_stripe_style_header_is_accepted_within_its_window(scheme, secret):
    scheme("stripe")
    body = _body()
    value = _stripe(secret, body, int(time.time()))

    assert _post(body, {"Stripe-Signature": value + ",v0=deadbeef"}).status_code == 200


def test_stripe_style_accepts_any_of_several_v1_and_a_named_header(scheme, secret):
    scheme("stripe", header="Licendi-Signature")
    body = _body()
    at = int(time.time())
    value = _stripe(secret, body, at)
    stale = "v1=" + "0" * 64

    assert (
        _post(body, {"Licendi-Signature": f"t={at},{stale},{value.split(',')[1]}"}).status_code
        == 200
    )


def test_stripe_style_refuses_an_old_timestamp_and_a_changed_body(scheme, secret, monkeypatch):
    scheme("stripe")
    body = _body()
    at = int(time.time())
    monkeypatch.setattr(receiver, "now", lambda: float(at + 301))

    assert _post(body, {"Stripe-Signature": _stripe(secret, body, at)}).status_code == 401
    monkeypatch.setattr(receiver, "now", lambda: float(at))
    assert _post(body + b"x", {"Stripe-Signature": _stripe(secret, body, at)}).status_code == 401
    assert _post(body, {"Stripe-Signature": f"v1={'a' * 64}"}).status_code == 401
    assert _post(body, {"Stripe-Signature": _stripe(secret, body, at)}).status_code == 200


# ------------------------------------------------------------ the log line


@pytest.mark.parametrize(
    ("headers", "looks_like"),
    [
        (
            {"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
            "standard-webhooks",
        ),
        ({"Stripe-Signature": "t=1700000000,v1=" + "a" * 64}, "stripe (stripe-signature)"),
        (
            {"X-Hub-Signature-256": "sha256=" + "b" * 64},
            "hmac-sha256 hex (x-hub-signature-256, sha256= prefix)",
        ),
        ({"X-Signature": base64.b64encode(b"c" * 32).decode()}, "hmac-sha256 base64 (x-signature)"),
        ({}, "no known signature header"),
    ],
    ids=["standard", "stripe", "hmac-hex-prefixed", "hmac-base64", "none"],
)
def test_a_refused_delivery_log_line_says_which_scheme_it_looked_like(
    scheme, secret, caplog, headers, looks_like
):
    scheme("hmac-sha256", header="X-Licendi-Signature")

    with caplog.at_level(logging.INFO, logger="webhooks.views"):
        response = _post(_body(), headers)

    assert response.status_code in (400, 401)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "webhooks.views"]
    assert "expected hmac-sha256" in line
    assert f"looked like {looks_like};" in line
    for value in headers.values():
        if len(value) > 20:
            assert value not in line


def test_an_unknown_scheme_stops_the_start():
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "WEBHOOK_SIGNATURE_SCHEME": "md5",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "WEBHOOK_SIGNATURE_SCHEME must be one of" in result.stderr
