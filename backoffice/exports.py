"""The one CSV/XLSX writer every export goes through.

Spreadsheet-ready and safe:
- numbers, booleans and dates are typed cells in XLSX (money with two decimals, dates
  in the configured time zone without microseconds); CSV writes them in one stable
  text form;
- text that a spreadsheet would run as a formula (starting with = + - @, a tab or a
  carriage return) is written as text: prefixed with an apostrophe in CSV, and as a
  plain string cell (never a formula) in XLSX. Only text is neutralised: a negative
  amount is a number and stays one.

Rows are read lazily and the CSV is streamed, so an export of a whole ledger does not
hold every row in memory as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .money import CENT

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | bool | dt.datetime | dt.date | None

MONEY_FORMAT = "#,##0.00"
DECIMAL_FORMAT = "0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its header and how to read its typed value from a row."""

    header: str
    value: Callable[[Any], Cell]
    money: bool = False


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text, never run: the CSV convention (apostrophe)."""
    return "'" + text if text.startswith(FORMULA_LEADERS) else text


def _local(value: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """An aware datetime in the configured zone, to the second, as naive wall time."""
    if value.utcoffset() is not None:
        value = value.astimezone(zone or timezone.get_current_timezone())
    return value.replace(tzinfo=None, microsecond=0)


def _decimal(value: Decimal, money: bool) -> Decimal:
    return value.quantize(CENT) if money or value.as_tuple().exponent != 0 else value


def csv_text(value: Cell, money: bool = False, zone: dt.tzinfo | None = None) -> str:
    """The CSV form of one cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return str(_decimal(value, money))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.datetime):
        return _local(value, zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def _xlsx_cell(sheet: Any, value: Cell, money: bool, zone: dt.tzinfo) -> WriteOnlyCell:
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=_decimal(value, money))
        cell.number_format = MONEY_FORMAT if money else DECIMAL_FORMAT
    elif isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=_local(value, zone))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    elif value is None or isinstance(value, bool | int | float):
        cell = WriteOnlyCell(sheet, value=value)
    else:
        # openpyxl makes any string starting with "=" a formula; a string cell is shown
        # as typed and never evaluated. Control characters are not allowed in XML.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
        cell.data_type = "s"
    return cell


class _Echo:
    """csv.writer target that hands each line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(columns: Sequence[ExportColumn], rows: Iterable[Any]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    zone = timezone.get_current_timezone()
    yield "\ufeff"  # BOM: spreadsheets then read the file as UTF-8
    yield writer.writerow([neutralise(column.header) for column in columns])
    for row in rows:
        yield writer.writerow(
            [csv_text(column.value(row), column.money, zone) for column in columns]
        )


def _xlsx_bytes(columns: Sequence[ExportColumn], rows: Iterable[Any]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    bold = Font(bold=True)
    zone = timezone.get_current_timezone()
    header = []
    for column in columns:
        cell = _xlsx_cell(sheet, column.header, False, zone)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(
            [_xlsx_cell(sheet, column.value(row), column.money, zone) for column in columns]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(
    *,
    fmt: str,
    filename: str,
    columns: Sequence[ExportColumn],
    rows: Iterable[Any],
) -> HttpResponse | StreamingHttpResponse:
    """`rows` as a CSV (streamed) or XLSX attachment named `filename.fmt`."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format must be one of {EXPORT_FORMATS}")
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(columns, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(_xlsx_bytes(columns, rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
