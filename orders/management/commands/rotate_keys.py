"""Re-encrypt every stored secret under the newest FIELD_ENCRYPTION_KEYS key.

Put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys. Licence keys are re-encrypted here; webhook
endpoint secrets (the webhooks app's field) too, when that app is installed.
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.management.base import BaseCommand
from django.db import transaction

from backoffice import crypto
from orders.services import licence_keys_rotate

# Other apps' encrypted columns: (app label, model, field). Owned by those apps.
OTHER_ENCRYPTED_FIELDS = [("webhooks", "WebhookEndpoint", "secret_encrypted")]


def _rotate_field(model, field: str, batch_size: int = 500) -> int:  # type: ignore[no-untyped-def]
    done, last_pk = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                model.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .exclude(**{field: ""})
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return done
            for row in batch:
                setattr(row, field, crypto.reencrypt(getattr(row, field)))
            model.objects.bulk_update(batch, [field])
            done += len(batch)
            last_pk = batch[-1].pk


class Command(BaseCommand):
    help = "Re-encrypt licence keys (and webhook secrets) with the newest encryption key."

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        count = licence_keys_rotate()
        self.stdout.write(f"licence keys re-encrypted: {count}")
        for app_label, model_name, field in OTHER_ENCRYPTED_FIELDS:
            try:
                model = apps.get_model(app_label, model_name)
                model._meta.get_field(field)
            except (LookupError, FieldDoesNotExist):
                continue
            self.stdout.write(
                f"{app_label}.{model_name}.{field} re-encrypted: {_rotate_field(model, field)}"
            )
