"""The base django-tables2 table every list page extends, and the export helper."""

import django_tables2 as tables
from django.http import HttpRequest, HttpResponse
from django_tables2.export import TableExport


class BaseTable(tables.Table):
    class Meta:
        template_name = "partials/table.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        per_page = 50


EXPORT_FORMATS = ("csv", "xlsx")


def export_response(
    request: HttpRequest, table: tables.Table, filename: str
) -> HttpResponse | None:
    """The table as CSV/XLSX when `?_export=` asks for it (all filtered rows, no paging)."""
    fmt = request.GET.get("_export")
    if fmt not in EXPORT_FORMATS:
        return None
    exporter = TableExport(fmt, table, exclude_columns=getattr(table, "export_exclude", ()))
    response: HttpResponse = exporter.response(f"{filename}.{fmt}")
    return response
