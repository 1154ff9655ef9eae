"""Import ledger entries the 20-entry window missed (e.g. from the supplier's statement)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallet import services


class Command(BaseCommand):
    help = (
        "Import ledger entries from a JSON file in the API's shape (newest first). "
        "Open gaps close only when the imported entries make the chain hold exactly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help='JSON file: [...] or {"ledger": [...]}')

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            entries = services.ledger_statement_parse(raw=path.read_bytes())
            result = services.ledger_entries_import(entries=entries)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except services.WalletError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.new} new entries; {result.gaps_closed} gap(s) closed, "
            f"{result.gaps_opened} opened."
        )
