"""Stored event bodies: encrypt every string the back-office does not read.

Until now only strings under a field named `key` were encrypted, so a licence key under
`keys`, `licenseKey` or `Key` was stored in clear. From now on every string outside the
allow list is a Fernet token (webhooks.payloads). This re-writes the stored bodies to
match: strings under `key` are tokens already and stay as they are; every other string
outside the allow list is encrypted. The allow list is copied here as it is today, so
this migration keeps its meaning whatever the module becomes.
"""

from django.db import migrations

CLEAR_PATHS = frozenset(
    {
        ("id",),
        ("type",),
        ("createdAt",),
        ("data", "orderId"),
        ("data", "externalId"),
        ("data", "sku"),
        ("data", "name"),
        ("data", "keys", "[]", "sku"),
        ("data", "keys", "[]", "name"),
    }
)


def _rewrite(value, encrypt, path=()):
    if isinstance(value, dict):
        return {name: _rewrite(item, encrypt, (*path, name)) for name, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, encrypt, (*path, "[]")) for item in value]
    if isinstance(value, str) and path not in CLEAR_PATHS and path[-1:] != ("key",):
        return encrypt(value)
    return value


def encrypt_unread_values(apps, schema_editor):
    from backoffice import crypto

    WebhookEvent = apps.get_model("webhooks", "WebhookEvent")
    last_pk = 0
    while True:
        batch = list(WebhookEvent.objects.filter(pk__gt=last_pk).order_by("pk")[:500])
        if not batch:
            return
        for event in batch:
            event.payload = _rewrite(event.payload, crypto.encrypt)
        WebhookEvent.objects.bulk_update(batch, ["payload"])
        last_pk = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [migrations.RunPython(encrypt_unread_values, migrations.RunPython.noop)]
