"""Compare the upstream's /api/openapi with what the Licendi client relies on."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backoffice.upstream import licendi_client
from licendi import LicendiError, contract_drift


class Command(BaseCommand):
    help = (
        "Fetch /api/openapi from LICENDI_BASE_URL and list every path, parameter and field "
        "the client relies on that the upstream spec lacks (contract drift)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with licendi_client() as client:
                spec = client.get_openapi()
        except LicendiError as exc:
            raise CommandError(f"Could not read the upstream OpenAPI document: {exc}") from exc
        drift = contract_drift(spec)
        if not drift:
            self.stdout.write(
                self.style.SUCCESS("No drift: the upstream spec has everything we use.")
            )
            return
        for line in drift:
            self.stdout.write(f"  - {line}")
        raise CommandError(f"{len(drift)} contract item(s) missing upstream")
