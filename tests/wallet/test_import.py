"""Importing missed ledger entries from a statement file (page and command)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from licendi import parsing
from wallet import services
from wallet.models import Gap, LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def gap(sandbox, sync):
    sync()
    sku = sandbox.order_skus()[0]
    for _ in range(25):
        sandbox.place_order(items=[(sku, 1)])
    sync()
    return Gap.objects.get()


def entries(raw):
    return [parsing.parse_ledger_entry(item, "ledger") for item in raw]


def upload(payload):
    return SimpleUploadedFile("statement.json", json.dumps(payload).encode(), "application/json")


def test_finance_closes_a_gap_by_uploading_the_missing_entries(gap, sandbox, client_for):
    missing = sandbox.ledger[20:25]
    response = client_for("Finance").post(
        reverse("wallet:statement_import"), {"statement": upload({"ledger": missing})}
    )
    assert response.status_code == 302
    gap.refresh_from_db()
    assert gap.status == Gap.Status.CLOSED
    assert LedgerEntry.objects.filter(source=LedgerEntry.Source.IMPORT).count() == 5


def test_uploading_the_whole_ledger_again_adds_nothing_twice(gap, sandbox, client_for):
    client = client_for("Finance")
    client.post(reverse("wallet:statement_import"), {"statement": upload(sandbox.ledger)})
    client.post(reverse("wallet:statement_import"), {"statement": upload(sandbox.ledger)})
    assert LedgerEntry.objects.count() == len(sandbox.ledger)
    gap.refresh_from_db()
    assert gap.status == Gap.Status.CLOSED


def test_a_bad_file_is_a_form_error(gap, client_for):
    response = client_for("Finance").post(
        reverse("wallet:statement_import"),
        {"statement": SimpleUploadedFile("s.json", b"not json", "application/json")},
    )
    assert response.status_code == 400
    assert b"not JSON" in response.content
    gap.refresh_from_db()
    assert gap.status == Gap.Status.OPEN


def test_import_needs_run_syncs(gap, sandbox, client_for):
    response = client_for("Viewer").post(
        reverse("wallet:statement_import"), {"statement": upload(sandbox.ledger[20:25])}
    )
    assert response.status_code == 403


def test_the_command_imports_a_file(gap, sandbox, tmp_path):
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(sandbox.ledger[20:25]))
    call_command("wallet_ledger_import", str(path))
    gap.refresh_from_db()
    assert gap.status == Gap.Status.CLOSED
    with pytest.raises(CommandError):
        call_command("wallet_ledger_import", str(tmp_path / "missing.json"))


def test_the_gaps_page_lists_open_gaps_first_with_the_amount_unaccounted(gap, sandbox, client_for):
    # Import the two oldest missing entries: the first gap closes as narrowed, a smaller
    # one stays open.
    services.ledger_entries_import(entries=entries(sandbox.ledger[23:25]))
    response = client_for("Finance").get(reverse("wallet:gaps"))
    rows = list(response.context["table"].data)
    assert [row.status for row in rows] == [Gap.Status.OPEN, Gap.Status.CLOSED]
    assert str(rows[0].amount) in response.content.decode()
