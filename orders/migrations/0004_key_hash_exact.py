"""Recompute every stored key digest over the key exactly as delivered.

Digests used to be taken over the upper-cased key, so two keys differing only in case
looked like one. The new digest trims surrounding whitespace only. Keys are decrypted
with FIELD_ENCRYPTION_KEYS to recompute it; rows that cannot be decrypted keep their old
digest (they are reported by `manage.py rotate_keys` as well).
"""

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import migrations


def _digest(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.strip().encode(), hashlib.sha256).hexdigest()


def recompute(apps, schema_editor):
    LicenceKey = apps.get_model("orders", "LicenceKey")
    if not LicenceKey.objects.exists():
        return
    secret = settings.KEY_HASH_SECRET
    fernet = MultiFernet([Fernet(k.strip().encode()) for k in settings.FIELD_ENCRYPTION_KEYS])
    batch = []
    for key in LicenceKey.objects.order_by("pk").iterator(chunk_size=500):
        try:
            clear = fernet.decrypt(key.key_encrypted.encode()).decode()
        except InvalidToken:
            continue
        digest = _digest(secret, clear)
        if digest != key.key_hash:
            key.key_hash = digest
            batch.append(key)
        if len(batch) >= 500:
            LicenceKey.objects.bulk_update(batch, ["key_hash"])
            batch = []
    if batch:
        LicenceKey.objects.bulk_update(batch, ["key_hash"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_review_unexpected_keys_not_placed")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop, elidable=False)]
