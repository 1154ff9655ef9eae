"""The base django-tables2 table every list page extends, and its one money column.

A table also describes its export: each column's header, and its typed value read from
the row (`value_<name>(record)` on the table when the page shows something else than
the plain field), so that the page and its CSV/XLSX agree on columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import django_tables2 as tables
from django.db import models

from .exports import Cell, ExportColumn
from .money import CURRENCY

_PLAIN = (str, int, float, Decimal, dt.date)  # bool is an int
MONEY_ATTRS = {"td": {"class": "money"}, "th": {"class": "money"}}


def money_text(value: Decimal | None) -> str:
    """An amount as a page shows it: two decimals, "—" when there is none."""
    return "—" if value is None else f"{value:.2f}"


class MoneyColumn(tables.Column):
    """An amount: right-aligned, two decimals ("—" when there is none); exported as a
    number with the currency in the header."""

    def __init__(self, *args: Any, currency: str = CURRENCY, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", MONEY_ATTRS)
        self.currency = currency
        super().__init__(*args, **kwargs)

    def render(self, value: Decimal | None) -> str:
        return money_text(value)


class BaseTable(tables.Table):
    # Columns left out of the export (actions, forms, buttons).
    export_exclude: tuple[str, ...] = ()

    class Meta:
        template_name = "partials/table.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        per_page = 50

    def export_columns(self) -> list[ExportColumn]:
        """The export's columns: every column of the table (hidden ones too) but those
        that only make sense on the page."""
        model = getattr(self._meta, "model", None)
        columns = []
        for bound in self.columns.iterall():
            column = bound.column
            # A bare TemplateColumn renders a template (forms, buttons); its subclasses
            # (date and time columns) hold values.
            if bound.name in self.export_exclude or type(column) is tables.TemplateColumn:
                continue
            header = str(bound.verbose_name or "").strip()
            if not header:
                continue
            money = isinstance(column, MoneyColumn)
            if money:
                header = f"{header} ({column.currency})"
            columns.append(
                ExportColumn(header=header, value=self._export_value(bound, model), money=money)
            )
        return columns

    def _export_value(self, bound: Any, model: type[models.Model] | None) -> Callable[[Any], Cell]:
        custom = getattr(self, f"value_{bound.name}", None)
        if custom is not None:
            return cast(Callable[[Any], Cell], custom)
        accessor = bound.accessor
        labels: dict[Any, str] = {}
        if model is not None:
            field = accessor.get_field(model)  # None for an annotation
            if field is not None and getattr(field, "choices", None):
                labels = {value: str(label) for value, label in field.flatchoices}
        # Plain attribute reads: django-tables2's Accessor.resolve tries dict, attribute
        # and index lookups per step, which is most of an export's time.
        bits = tuple(accessor.bits)

        def value(record: Any) -> Cell:
            raw: object = record
            for bit in bits:
                raw = raw.get(bit) if isinstance(raw, dict) else getattr(raw, bit, None)
                if raw is None:
                    return None
            if callable(raw):
                raw = raw()
            if labels:
                return labels.get(raw, str(raw))
            if isinstance(raw, _PLAIN):
                return raw
            return str(raw)  # a related row: its name

        return value
