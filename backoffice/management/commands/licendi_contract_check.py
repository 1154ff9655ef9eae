"""Compare the upstream with what the Licendi client relies on: its spec and its answers."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.contract_check import contract_check


class Command(BaseCommand):
    help = (
        "Compare LICENDI_BASE_URL with the contract the client relies on: its /api/openapi "
        "(when served) and the shapes of a few harmless reads (products, one product, "
        "balance, orders), plus shapes earlier runs saw that nobody has looked at yet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-probe",
            action="store_true",
            help="only compare the upstream's OpenAPI document; read nothing else",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = contract_check(probe=not options["no_probe"])
        out = self.stdout
        if report.spec_error is not None:
            if options["no_probe"] or report.unreachable:
                raise CommandError(
                    f"Could not read the upstream OpenAPI document: {report.spec_error}"
                )
            out.write(f"Upstream spec: not compared ({report.spec_error}).")
        elif report.spec_drift:
            out.write("Upstream spec lacks what the client relies on:")
            for line in report.spec_drift:
                out.write(f"  - {line}")
        else:
            out.write("Upstream spec: no drift, it has everything we use.")
        if not options["no_probe"]:
            for line in report.probe_errors:
                out.write(f"  ! {line}")
            for note in report.notes:
                detail = f" ({note.detail})" if note.detail else ""
                out.write(
                    f"  ~ {note.endpoint}: {note.kind.replace('_', ' ')} {note.field}{detail}"
                    f", {note.count} times"
                )
            for endpoint, record in report.rejected:
                out.write(f"  x {endpoint}: record {record.ref} unreadable: {record.reason}")
            if not (report.probe_errors or report.notes or report.rejected):
                out.write("Answers read: every shape as the contract says.")
        for line in report.earlier_new_shapes:
            out.write(f"  * earlier: {line}")
        if report.problems:
            raise CommandError(
                f"{report.problems} contract item(s) differ upstream "
                "(see docs/upstream.md for what each means)"
            )
        out.write(self.style.SUCCESS("No drift: the upstream is the Licendi we were built for."))
