"""Exports are spreadsheet-ready and safe: typed cells, formulas never run, audited.

Files are read back the way a spreadsheet user's tools read them: the csv module and
openpyxl.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice.exports import ExportColumn, export_response
from backoffice.models import AuditEvent

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig"))))


def _sheet(response):
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response)))
    return workbook.active


def _export(fmt: str, rows: list[list[object]]):
    columns = [
        ExportColumn(header="Text", value=lambda row: row[0]),
        ExportColumn(header="Amount (EUR)", value=lambda row: row[1], money=True),
        ExportColumn(header="When", value=lambda row: row[2]),
        ExportColumn(header="Active", value=lambda row: row[3]),
        ExportColumn(header="Count", value=lambda row: row[4]),
    ]
    return export_response(fmt=fmt, filename="test", columns=columns, rows=rows)


WHEN = dt.datetime(2026, 12, 1, 13, 6, 7, 123456, tzinfo=dt.UTC)  # 14:06:07 in Madrid


def _rows() -> list[list[object]]:
    return [[text, Decimal("-186.03"), WHEN, True, 3] for text in FORMULAS] + [
        ["plain", Decimal("5"), None, False, None]
    ]


def test_csv_prefixes_formula_text_with_an_apostrophe_and_leaves_numbers(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    header, *rows = _csv_rows(_export("csv", _rows()))

    assert header == ["Text", "Amount (EUR)", "When", "Active", "Count"]
    assert [row[0] for row in rows] == ["'" + text for text in FORMULAS] + ["plain"]
    # A negative amount is a number, not formula text: no apostrophe.
    assert rows[0][1:] == ["-186.03", "2026-12-01 14:06:07", "TRUE", "3"]
    assert rows[-1][1:] == ["5.00", "", "FALSE", ""]


def test_xlsx_writes_formula_text_as_plain_string_cells(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    sheet = _sheet(_export("xlsx", _rows()))
    texts = [sheet.cell(row=n, column=1) for n in range(2, 2 + len(FORMULAS))]

    # Shown as typed (XML reads a carriage return back as a line feed).
    assert [cell.value for cell in texts] == [text.replace("\r", "\n") for text in FORMULAS]
    assert {cell.data_type for cell in texts} == {"s"}  # and none is a formula


def test_xlsx_cells_are_typed_numbers_dates_and_booleans(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    sheet = _sheet(_export("xlsx", _rows()))
    header = [cell.value for cell in sheet[1]]
    amount, when, active, count = (sheet.cell(row=2, column=n) for n in range(2, 6))

    assert header == ["Text", "Amount (EUR)", "When", "Active", "Count"]
    assert amount.data_type == "n" and amount.value == pytest.approx(-186.03)
    assert amount.number_format == "#,##0.00"
    assert when.is_date and when.value == dt.datetime(2026, 12, 1, 14, 6, 7)  # local, whole s
    assert active.data_type == "b" and active.value is True
    assert count.data_type == "n" and count.value == 3
    assert sheet.cell(row=len(FORMULAS) + 2, column=3).value is None


def test_xlsx_drops_characters_xml_cannot_hold_instead_of_failing():
    sheet = _sheet(_export("xlsx", [["bell\x07 and \x0bvertical tab", Decimal(0), None, 1, 1]]))
    assert sheet.cell(row=2, column=1).value == "bell and vertical tab"


# --- the exports of the list pages


@pytest.fixture
def hostile_catalog(db):
    from tests.catalog.factories import CombinationFactory

    combination = CombinationFactory(
        product__name='=HYPERLINK("http://x","y")',
        product__brand="@brand",
        net_price=Decimal("10.00"),
        price=Decimal("19.99"),
    )
    category = combination.product.category
    return combination, category


def test_catalog_export_round_trips_hostile_names_and_types_its_cells(hostile_catalog, client_for):
    combination, category = hostile_catalog
    client = client_for("Finance")

    rows = _csv_rows(client.post(f"/catalog/?q={combination.product.sku}", {"_export": "csv"}))
    sheet = _sheet(client.post(f"/catalog/?q={combination.product.sku}", {"_export": "xlsx"}))

    header = rows[0]
    assert header[:5] == ["Product", "Options", "Order SKU", "Brand", "Category"]
    assert "Net (EUR)" in header and "RRP (EUR)" in header and "Margin %" in header
    line = dict(zip(header, rows[1], strict=True))
    assert line["Product"] == "'" + '=HYPERLINK("http://x","y")'
    assert line["Brand"] == "'@brand"
    assert line["Category"] == (category.name if category else "")
    assert line["Net (EUR)"] == "10.00"
    assert line["Stock"] in ("TRUE", "FALSE")

    cells = {sheet.cell(row=1, column=n).value: sheet.cell(row=2, column=n) for n in range(1, 13)}
    assert cells["Product"].value == '=HYPERLINK("http://x","y")'
    assert cells["Product"].data_type == "s"
    assert cells["Net (EUR)"].data_type == "n" and cells["Net (EUR)"].value == 10
    assert cells["RRP (EUR)"].value == pytest.approx(19.99)
    assert cells["Stock"].data_type == "b"


def test_purchase_order_export_has_numbers_and_local_times(client_for, settings):
    from tests.orders.factories import DraftFactory

    settings.TIME_ZONE = "Europe/Madrid"
    po = DraftFactory()
    type(po).objects.filter(pk=po.pk).update(
        total=Decimal("186.03"), created_at=dt.datetime(2026, 7, 1, 10, 0, 0, 987654, tzinfo=dt.UTC)
    )
    client = client_for("Finance")

    header, row = _csv_rows(client.post(reverse("orders:po_list"), {"_export": "csv"}))
    line = dict(zip(header, row, strict=True))
    sheet = _sheet(client.post(reverse("orders:po_list"), {"_export": "xlsx"}))
    cells = {sheet.cell(row=1, column=n).value: sheet.cell(row=2, column=n) for n in range(1, 9)}

    assert line["Total (EUR)"] == "186.03"  # not "186.03 EUR"
    assert line["Created"] == "2026-07-01 12:00:00"  # Madrid summer time, no microseconds
    assert line["Status"] == po.get_status_display()
    assert cells["Total (EUR)"].value == pytest.approx(186.03)
    assert cells["Created"].value == dt.datetime(2026, 7, 1, 12, 0, 0)


def test_every_list_export_is_audited_with_its_filters(client_for):
    from tests.orders.factories import DraftFactory

    DraftFactory()
    client_for("Finance").post(
        f"{reverse('orders:po_list')}?status=draft&page=2", {"_export": "csv"}
    )

    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.target_type == "orders.PurchaseOrder"
    assert event.details["format"] == "csv"
    assert event.details["filters"] == {"status": "draft"}


def test_an_export_is_a_post_a_get_only_shows_the_page(client_for):
    response = client_for("Finance").get(reverse("orders:po_list"), {"_export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_export_with_an_invalid_filter_exports_nothing(client_for):
    response = client_for("Finance").post(
        f"{reverse('orders:po_list')}?created_min=2026-02-30", {"_export": "csv"}
    )
    assert response.status_code == 400
    assert response.context["filter"].errors
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_unknown_export_format_is_a_400(client_for):
    response = client_for("Finance").post(reverse("orders:po_list"), {"_export": "pdf"})
    assert response.status_code == 400


def test_the_customer_keys_export_neutralises_formulas_and_types_dates(client_for, settings):
    from backoffice import crypto
    from orders.models import LicenceKey
    from tests.orders.factories import CustomerFactory, DraftFactory

    settings.TIME_ZONE = "Europe/Madrid"
    customer = CustomerFactory()
    key = LicenceKey.objects.create(
        purchase_order=DraftFactory(customer=customer),
        customer=customer,
        order_sku="SKU-1",
        name="=1+1 Office",
        **crypto.key_columns("-AAAA-BBBB"),
        source=LicenceKey.Source.RESPONSE,
    )
    LicenceKey.objects.filter(pk=key.pk).update(
        received_at=timezone.make_aware(dt.datetime(2026, 1, 2, 3, 4, 5, 6), ZoneInfo("UTC"))
    )

    response = client_for("Key custodian").post(
        reverse("orders:customer_keys_export", args=[customer.pk])
    )

    header, row = _csv_rows(response)
    assert header == ["Purchase order", "Order SKU", "Product", "Key", "Received"]
    assert row[2:] == ["'=1+1 Office", "'-AAAA-BBBB", "2026-01-02 04:04:05"]
    assert "no-store" in response["Cache-Control"]
