"""Key rotation re-encrypts every registered value; after the old key goes, all still opens."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models

from backoffice import crypto
from backoffice.encryption import REGISTRY, unregistered_encrypted_fields
from backoffice.models import AuditEvent
from orders.models import LicenceKey
from webhooks import secrets
from webhooks.models import WebhookEndpoint, WebhookEvent
from webhooks.payloads import map_tokens, stored_keys

from .factories import event_body, purchase_order_submitting

pytestmark = pytest.mark.django_db

KEYS = ["AAAAA-BBBBB-CCCCC-DDDDD-00001", "AAAAA-BBBBB-CCCCC-DDDDD-00002"]


def test_every_encrypted_column_is_in_the_registry():
    assert unregistered_encrypted_fields() == []


def test_the_registry_names_real_fields_and_json_columns_have_a_walker():
    for entry in REGISTRY:
        field = entry.model_class()._meta.get_field(entry.field)
        assert isinstance(field, models.JSONField) == bool(entry.walker), entry


def test_a_new_encrypted_column_outside_the_registry_is_reported(monkeypatch):
    from backoffice import encryption

    monkeypatch.setattr(encryption, "REGISTRY", REGISTRY[1:])

    assert unregistered_encrypted_fields() == ["orders.LicenceKey.key_encrypted"]


@pytest.fixture
def stored_everything(post_signed, endpoint_secret, django_capture_on_commit_callbacks):
    """Keys delivered by webhook (so stored as keys and inside the event body), an
    endpoint secret, an event of an unknown type and one that waits for its order."""
    po = purchase_order_submitting(lines=[("13200::0-0", 2)])
    po.upstream_id = "ord-rot-1"
    po.save(update_fields=["upstream_id"])
    bodies = [
        event_body(
            "order.delivered",
            {
                "orderId": "ord-rot-1",
                "externalId": po.external_id,
                "keys": [{"sku": "13200::0-0", "name": "Office", "key": key} for key in KEYS],
            },
        ),
        event_body("vendor.notice", {"licenseKey": KEYS[0], "text": "hello"}),
        event_body("key.assigned", {"orderId": "ord-elsewhere", "sku": "X", "key": KEYS[1]}),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for body in bodies:
            assert post_signed(body).status_code == 200
    assert LicenceKey.objects.count() == 2
    return endpoint_secret


def test_rotate_then_drop_the_old_key_and_everything_still_opens(
    stored_everything, settings, admin_client
):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()

    call_command("rotate_keys", stdout=out)

    report = out.getvalue()
    assert "licence keys: 2 value(s) in 2 row(s) re-encrypted" in report
    assert "webhook endpoint secrets: 1 value(s) in 1 row(s) re-encrypted" in report
    assert "webhook event payloads:" in report
    rotated = AuditEvent.objects.get(action=AuditEvent.Action.KEYS_ROTATED)
    assert rotated.details["licence keys"] == 2

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is dropped
    secrets.clear_cache()
    assert sorted(crypto.decrypt(k.key_encrypted) for k in LicenceKey.objects.all()) == KEYS
    assert [crypto.decrypt(e.secret_encrypted) for e in WebhookEndpoint.objects.all()] == [
        stored_everything
    ]
    for event in WebhookEvent.objects.all():
        map_tokens(event.payload, crypto.decrypt)  # raises if any value does not open
        stored_keys(event.payload)
        page = admin_client.get(event.get_absolute_url())
        assert page.status_code == 200
        assert KEYS[0] not in page.content.decode()
    waiting = WebhookEvent.objects.get(type="key.assigned")
    reprocess = admin_client.post(f"/webhooks/events/{waiting.pk}/reprocess/")
    assert reprocess.status_code == 302
    waiting.refresh_from_db()
    assert "InvalidToken" not in waiting.error
    check = io.StringIO()
    call_command("rotate_keys", "--check", stdout=check)
    assert "UNREADABLE" not in check.getvalue()


def test_check_reports_values_no_configured_key_opens(stored_everything, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # rotated without the run

    with pytest.raises(CommandError, match="open with none of FIELD_ENCRYPTION_KEYS"):
        call_command("rotate_keys", "--check", stdout=io.StringIO())
    with pytest.raises(CommandError, match="put back the key"):
        call_command("rotate_keys", stdout=io.StringIO())


def test_running_rotation_twice_is_harmless(stored_everything, settings):
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    call_command("rotate_keys", stdout=io.StringIO())
    call_command("rotate_keys", stdout=io.StringIO())
    assert sorted(crypto.decrypt(k.key_encrypted) for k in LicenceKey.objects.all()) == KEYS
    event = WebhookEvent.objects.get(type="vendor.notice")
    assert KEYS[0] not in json.dumps(event.payload)
    assert apps.get_model("webhooks", "WebhookEvent") is WebhookEvent
