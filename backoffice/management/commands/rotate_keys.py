"""Re-encrypt every stored secret under the newest FIELD_ENCRYPTION_KEYS key.

Put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy, run
this command, run it again with --check, then drop the old keys. What it walks is the
one registry of encrypted values, backoffice.encryption.REGISTRY.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice import crypto
from backoffice.audit import audit_record
from backoffice.encryption import (
    Tally,
    encrypted_values_check,
    encrypted_values_rotate,
)
from backoffice.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (licence keys, webhook secrets, event payloads) "
        "with the newest encryption key; --check only reads them all back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Decrypt every value with the configured keys and report, changing nothing.",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def _report(self, verb: str, results: dict[str, Tally]) -> None:
        for kind, tally in results.items():
            line = f"{kind}: {tally.values} value(s) in {tally.rows} row(s) {verb}"
            if tally.unreadable:
                line += f", {tally.unreadable} UNREADABLE"
            self.stdout.write(line)

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if options["check"]:
            results = encrypted_values_check(batch_size=batch_size)
            self._report("read", results)
            unreadable = sum(tally.unreadable for tally in results.values())
            if unreadable:
                raise CommandError(
                    f"{unreadable} value(s) open with none of FIELD_ENCRYPTION_KEYS: "
                    "do not drop a key they were encrypted with"
                )
            return
        try:
            results = encrypted_values_rotate(batch_size=batch_size)
        except crypto.InvalidToken:
            raise CommandError(
                "a stored value opens with none of FIELD_ENCRYPTION_KEYS: put back the key it "
                "was encrypted with (after the new one) and run the command again"
            ) from None
        self._report("re-encrypted", results)
        audit_record(
            action=AuditEvent.Action.KEYS_ROTATED,
            summary="Stored secrets re-encrypted under the newest encryption key",
            details={kind: tally.values for kind, tally in results.items()},
        )
