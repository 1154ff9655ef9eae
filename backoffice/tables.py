"""The base django-tables2 table every list page extends, and its one money column.

A table also describes its export: each column's header, and its typed value read from
the row (`value_<name>(record)` on the table when the page shows something else than
the plain field), so that the page and its CSV/XLSX agree on columns.

Rows are rendered by `BaseTable.body_html()`, not by django-tables2's bound rows: those
inspect the signature of each `render_<name>` and re-resolve each column's accessor, its
`<td>` attributes and its choices for every cell, which was most of a list page's time.
Here all of that is worked out once per column (`CellPlan`), and a cell is a few attribute
reads and one call. What a cell shows is the same: `render_<name>`/`Column.render` with
the arguments it declares, the column's default for empty values, choice labels, links
(`linkify`), `TemplateColumn`s and callable `row_attrs`/`td` attributes. The header and
the pagination links are written the same way (`thead_html`, `pagination_html`), with the
template's markup, rather than by one `querystring_replace` tag per link.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import attrgetter
from types import MethodType
from typing import Any, cast

import django_tables2 as tables
from django.db import models
from django.template import Context
from django.template.base import render_value_in_context
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django_tables2.templatetags.django_tables2 import table_page_range
from django_tables2.utils import AttributeDict, computed_values, signature

from . import badges
from .display import format_datetime, format_money
from .escaping import conditional_escape
from .exports import Cell, ExportColumn
from .money import CURRENCY

_PLAIN = (str, int, float, Decimal, dt.date)  # bool is an int
MONEY_ATTRS = {"td": {"class": "money"}, "th": {"class": "money"}}


def money_text(value: Decimal | None, currency: str = CURRENCY) -> str:
    """An amount as a page shows it: two decimals, thousands separators and the
    currency ("1,234.50 EUR"), "—" when there is none."""
    return format_money(value, currency)


class MoneyColumn(tables.Column):
    """An amount: right-aligned, as `money_text` writes it ("—" when there is none);
    exported as a number with the currency in the header."""

    def __init__(self, *args: Any, currency: str = CURRENCY, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", MONEY_ATTRS)
        self.currency = currency
        super().__init__(*args, **kwargs)

    def render(self, value: Decimal | None) -> str:
        return format_money(value, self.currency)  # money_text, one call less per cell


class BooleanColumn(tables.BooleanColumn):
    """django-tables2's BooleanColumn (a span classed "true"/"false" holding the yes or no
    mark), with its two spans written once per column rather than once per cell."""

    def render(self, value: Any, record: Any, bound_column: Any) -> SafeString:
        spans = self.__dict__.get("_spans")
        if spans is None:
            write = super().render
            spans = self._spans = {flag: write(flag, None, bound_column) for flag in (True, False)}
        return cast(SafeString, spans[self._get_bool_value(record, value, bound_column)])


class DateTimeColumn(tables.Column):
    """A date-time in the one display format and the configured time zone
    (backoffice.display); `seconds=True` for logs. Exported as a typed date-time."""

    def __init__(self, *args: Any, seconds: bool = False, **kwargs: Any) -> None:
        self.seconds = seconds
        super().__init__(*args, **kwargs)

    def render(self, value: dt.datetime | None, table: Any) -> str:
        return format_datetime(value, seconds=self.seconds, zone=getattr(table, "time_zone", None))


class BadgeColumn(tables.Column):
    """A status or type: its label in a badge coloured by its meaning, both from the
    registry of backoffice.badges (key "app_label.Model.field", found from the row and
    the column's accessor unless given). Exported as the label."""

    def __init__(self, *args: Any, key: str = "", **kwargs: Any) -> None:
        self.key = key
        super().__init__(*args, **kwargs)

    def raw(self, record: Any, bits: tuple[str, ...]) -> tuple[Any, str, Any]:
        """The row (or related row) holding the field, the field's name and its value."""
        owner = record
        for bit in bits[:-1]:
            owner = getattr(owner, bit, None)
        name = bits[-1]
        return owner, name, getattr(owner, name, None)

    def key_for(self, owner: Any, name: str) -> str:
        return self.key or badges.key_of(owner, name)

    def render(self, record: Any, bound_column: Any) -> SafeString:
        owner, name, value = self.raw(record, tuple(bound_column.accessor.bits))
        # A column shows a handful of values: each badge is written once per table (the
        # column is the table's own copy, see ClassColumns); the key follows from the
        # row's model, so it is worked out with the badge.
        written = self.__dict__.setdefault("_badges", {})
        try:
            return cast(SafeString, written[type(owner), name, value])
        except KeyError:
            found = written[type(owner), name, value] = self._badge(owner, name, value)
            return found
        except TypeError:  # an unhashable value
            return self._badge(owner, name, value)

    def _badge(self, owner: Any, name: str, value: Any) -> SafeString:
        return badges.badge(self.key_for(owner, name), value)

    def text(self, record: Any, bits: tuple[str, ...]) -> str | None:
        owner, name, value = self.raw(record, bits)
        if value is None:
            return None  # an empty cell
        return badges.label(self.key_for(owner, name), value)


def pk_url(viewname: str) -> Callable[[Any], str]:
    """`reverse(viewname, args=[pk])` for a URL whose one argument is an `<int:pk>`, as a
    function of the pk: one reverse() when made (per table), then a join per row.
    reverse() is some 50 µs, and a list links every row."""
    marker = "918273645"
    head, found, tail = reverse(viewname, args=[int(marker)]).partition(marker)
    if not found:
        raise ValueError(f"{viewname} does not take an integer pk")

    def url(pk: Any) -> str:
        return f"{head}{int(pk)}{tail}"

    return url


# `conditional_escape` without Django's per-call check for lazy arguments (`keep_lazy`):
# a page escapes thousands of cell values, and that check was a seventh of its time.
_escape = conditional_escape


def format_cell(template: str, *args: Any) -> SafeString:
    """`format_html(template, *args)` for what a cell shows: each argument escaped as
    `conditional_escape` does, without the lazy-argument check Django's `escape` makes for
    every argument (a list page formats a few hundred cells)."""
    escaped = [_escape(arg) for arg in args]
    return mark_safe(template.format(*escaped))  # noqa: S308, S703 - a literal, escaped args


def _attrs_html(attrs: dict[str, Any]) -> str:
    """`AttributeDict(attrs).as_html()` (the same attributes, in order, escaped alike) for
    attributes already computed (no callables left: as_html would call them)."""
    return " ".join(
        f'{_escape(key)}="{_escape(value)}"'
        for key, value in attrs.items()
        if key not in AttributeDict.blacklist and value is not None
    )


def _declared(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    args, catch_all = signature(fn)
    return None if catch_all else tuple(args)


# What each function declares, by function: a table's columns and row attributes are the
# same functions on every page, and inspect.signature() is a twelfth of a table's making.
_WANTED: dict[tuple[Any, bool], tuple[str, ...] | None] = {}
_WANTED_MAX = 2048


def _wanted(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """The keyword arguments `fn` declares (None: it takes **kwargs, so all of them).

    A bound method declares what its function does less its first argument, whatever
    it is bound to, so it is remembered by its function."""
    method = isinstance(fn, MethodType)
    key = (fn.__func__ if method else fn, method)  # type: ignore[attr-defined]
    try:
        return _WANTED[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable
        return _declared(fn)
    if len(_WANTED) >= _WANTED_MAX:  # functions made per table would otherwise pile up
        _WANTED.clear()
    found = _WANTED[key] = _declared(fn)
    return found


def _field_path(model: type[models.Model], bits: tuple[str, ...]) -> Callable[[Any], Any] | None:
    """`attrgetter` of `bits` when each names a concrete field (the last may be any, the
    others foreign keys or one-to-one fields) of `model` and the models they lead to:
    values that are never called and never dicts. None otherwise."""
    current: Any = model
    for i, bit in enumerate(bits):
        try:
            field = current._meta.get_field(bit)
        except Exception:  # not a field: an annotation, a property, a method
            return None
        if not getattr(field, "concrete", False):
            return None
        if i < len(bits) - 1:
            if not (field.many_to_one or field.one_to_one):
                return None
            current = field.related_model
    return attrgetter(".".join(bits)) if bits else None


def _static(attrs: dict[str, Any]) -> bool:
    return not any(callable(value) for value in attrs.values())


def _column_copy(column: tables.Column) -> tables.Column:
    clone = copy.copy(column)
    clone.attrs = copy.copy(column.attrs)
    return clone


class ClassColumns(OrderedDict[str, tables.Column]):
    """A table class's columns (`base_columns`), copied for each table it makes.

    django-tables2 deep-copies them so that a table may change its own (hide one, set
    its accessor) without touching the class; the deep copy also copies what no table
    changes (links, choices, templates, nested attributes): some 1,500 copies a page. A
    copy of each column and of its attributes dict is all a table changes; the test
    `tests/backoffice/test_table_columns.py` holds the class's columns unchanged."""

    def __deepcopy__(self, memo: dict[int, Any]) -> OrderedDict[str, tables.Column]:
        return OrderedDict((name, _column_copy(column)) for name, column in self.items())


def tag_attrs(bound: Any, tag: str) -> AttributeDict:
    """`bound.attrs[tag]` ("th" or "td") without the two others that property works out
    (with the header's ordering classes), as the property does for that tag."""
    table = bound._table
    kwargs: dict[str, Any] = {"table": table, "bound_column": bound}
    record, value = getattr(bound, "current_record", None), bound.current_value
    if record is not None and value is not None:
        kwargs.update(record=record, value=value)
    attrs = dict(table.attrs)
    attrs.update(dict(bound.column.attrs))
    found = AttributeDict(computed_values(attrs.get(tag, attrs.get("cell", {})), kwargs=kwargs))
    found["class"] = bound.get_th_class(found) if tag == "th" else bound.get_td_class(found)
    return found


def _plain_ints(context: Context) -> bool:
    """Whether the template writes an int as str() does: no thousands separator in the
    active locale and settings (an int has nothing else to localize). Asked once per
    table, it spares each count cell Django's number_format and its format lookups."""
    return bool(render_value_in_context(-1234567, context) == "-1234567")


# What a cell's renderer may ask for that changes from cell to cell; the column, bound
# column and table are the same for the whole column (`CellPlan.fixed`).
_PER_CELL = ("value", "record", "bound_row")


def _caller(
    render: Callable[..., Any], wanted: tuple[str, ...] | None, fixed: dict[str, Any]
) -> Callable[[Any, Any, Any], Any]:
    """`render(value, record, bound_row)` passing what `render` declares (everything when
    it takes **kwargs), the per-column arguments bound once rather than per cell."""
    if wanted is None:
        return lambda value, record, row: render(value=value, record=record, bound_row=row, **fixed)
    bound = {name: arg for name, arg in fixed.items() if name in wanted}
    fn = partial(render, **bound) if bound else render
    names = tuple(name for name in _PER_CELL if name in wanted)
    if names == ("value",):
        return lambda value, record, row: fn(value=value)
    if names == ("record",):
        return lambda value, record, row: fn(record=record)
    if names == ("value", "record"):
        return lambda value, record, row: fn(value=value, record=record)
    return lambda value, record, row: fn(
        **{
            name: arg
            for name, arg in zip(_PER_CELL, (value, record, row), strict=True)
            if name in names
        }
    )


@dataclass(frozen=True)
class CellPlan:
    """How one column's cells are made, worked out once per table."""

    bound: Any  # django_tables2 BoundColumn
    bits: tuple[str, ...]
    display: bool  # a field with choices: show get_<field>_display()
    call: Callable[[Any, Any, Any], Any]  # the renderer, given value, record, bound row
    fixed: dict[str, Any]  # column, bound_column and table, for a link
    empty_values: tuple[Any, ...]
    default: Any
    td_open: str | None  # "<td …>"; None: the td attributes depend on the cell
    localize: bool | None
    # When every step of the accessor is a concrete field of the model and of the models
    # its foreign keys lead to (no dict, nothing to call, no choice label): the steps read
    # in C (`operator.attrgetter`), as `value` would read them.
    fields: Callable[[Any], Any] | None = None

    def value(self, record: Any) -> Any:
        """The accessor's value in `record`, as django-tables2 reads it (Accessor.resolve):
        dict keys or attributes, called when callable, the choice label of a field with
        choices; None when a step is missing or None."""
        if self.fields is not None:
            try:
                return self.fields(record)
            except Exception:  # a step was None (AttributeError) or is missing
                return None
        current: Any = record
        last = len(self.bits) - 1
        for i, bit in enumerate(self.bits):
            # Most columns show no choice label: the test that asks costs nothing then.
            if self.display and i == last and isinstance(current, models.Model):
                display = getattr(current, f"get_{bit}_display", None)
                if display is not None:
                    return display()
            try:
                current = current[bit] if isinstance(current, dict) else getattr(current, bit)
                if callable(current) and not getattr(current, "do_not_call_in_templates", False):
                    current = current()
            except Exception:  # as django-tables2: a cell with nothing behind it is empty
                return None
            if current is None:
                return None
        return current


class BaseTable(tables.Table):
    # Columns left out of the export (actions, forms, buttons).
    export_exclude: tuple[str, ...] = ()
    # The shared template renders the body with body_html() (see the module docstring).
    lean_rows = True

    class Meta:
        template_name = "partials/table.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        per_page = 50

    @cached_property
    def time_zone(self) -> dt.tzinfo:
        """The zone the table's times are shown in, looked up once per table rather than
        per cell (a context-local read)."""
        return timezone.get_current_timezone()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.base_columns = ClassColumns(cls.base_columns)

    # --- rendering the header and the pagination

    def _request_query(self) -> dict[str, Any]:
        """The query string as `querystring_replace` starts from (a list per name)."""
        context = getattr(self, "context", None)
        request = context.get("request") if context is not None else None
        request = request or getattr(self, "request", None)
        return dict(request.GET) if request is not None else {}

    def thead_html(self) -> SafeString:
        """The `<thead>` of partials/table.html, written in Python: the template tag
        `querystring_replace` and the column lookups cost as much as a dozen rows."""
        query = self._request_query()
        field = self.prefixed_order_by_field
        context = getattr(self, "context", None) or Context()
        as_html = getattr(self.attrs.get("thead"), "as_html", None)  # the template's lookup
        out = [f"<thead {as_html() if as_html is not None else ''}><tr>"]
        for column in self.columns:
            out.append(f'<th {_attrs_html(tag_attrs(column, "th"))} scope="col">')
            if column.orderable:
                href = html.escape(
                    "?" + urlencode({**query, field: column.order_by_alias.next}, doseq=True)
                )
                header = render_value_in_context(column.header, context)
                out.append(f'<a href="{href}">{header}</a>')
            elif column.header:
                out.append(render_value_in_context(column.header, context))
            else:
                out.append('<span class="visually-hidden">Actions</span>')
            out.append("</th>")
        out.append("</tr></thead>")
        return mark_safe("".join(out))  # noqa: S308, S703 - every part is escaped above

    def pagination_html(self) -> SafeString:
        """django-tables2's bootstrap5.html pagination block, written in Python (the same
        markup and whitespace; `tests/backoffice/test_lean_rows.py` compares them)."""
        page = getattr(self, "page", None)
        if not page or self.paginator.num_pages <= 1:
            return SafeString("\n        \n    ")
        query = self._request_query()
        field = self.prefixed_page_field
        context = getattr(self, "context", None) or Context()

        def href(number: Any) -> str:
            return html.escape("?" + urlencode({**query, field: number}, doseq=True))

        out = [
            '\n        \n        <nav aria-label="Table navigation">\n'
            '            <ul class="pagination justify-content-center">\n            '
        ]

        def edge(css: str, number: Any, inner: str) -> str:
            """The previous or next link, around its label and arrow."""
            return (
                "\n                \n"
                f'                <li class="{css} page-item">\n'
                f'                    <a href="{href(number)}" class="page-link">\n'
                f"{inner}"
                "                    </a>\n"
                "                </li>\n"
                "                \n            "
            )

        if page.has_previous():
            out.append(
                edge(
                    "previous",
                    page.previous_page_number(),
                    '                        <span aria-hidden="true">&laquo;</span>\n'
                    f"                        {gettext('previous')}\n",
                )
            )
        out.append("\n            ")
        if page.has_previous() or page.has_next():
            out.append("\n            \n            ")
            for p in table_page_range(page, self.paginator):
                active = " active" if page.number == p else ""
                link = f'href="{href(p)}"' if p != "..." else ""
                out.append(
                    f'\n                <li class="page-item{active}">\n'
                    f'                    <a class="page-link" {link}>\n'
                    f"                        {render_value_in_context(p, context)}\n"
                    "                    </a>\n"
                    "                </li>\n            "
                )
            out.append("\n            \n            ")
        out.append("\n            ")
        if page.has_next():
            out.append(
                edge(
                    "next",
                    page.next_page_number(),
                    f"                        {gettext('next')}\n"
                    '                        <span aria-hidden="true">&raquo;</span>\n',
                )
            )
        out.append("\n            </ul>\n        </nav>\n        \n    ")
        return mark_safe("".join(out))  # noqa: S308, S703 - every part is escaped above

    # --- rendering the rows

    def cell_plans(self) -> list[CellPlan]:
        model = getattr(self._meta, "model", None)
        plans = []
        for bound in self.columns:
            column = bound.column
            accessor = bound.accessor
            display = False
            if model is not None:
                field = accessor.get_field(model)  # None for an annotation
                # A badge reads the raw value itself: its choice label is not needed.
                display = bool(
                    field is not None
                    and getattr(field, "choices", None)
                    and not isinstance(column, BadgeColumn)
                )
            attrs = dict(self.attrs)
            attrs.update(dict(column.attrs))
            td = attrs.get("td", attrs.get("cell", {}))
            bound.current_record = bound.current_value = None
            fixed = {"column": column, "bound_column": bound, "table": self}
            bits = tuple(accessor.bits) if accessor else ()
            plans.append(
                CellPlan(
                    bound=bound,
                    bits=bits,
                    display=display,
                    call=_caller(bound.render, _wanted(bound.render), fixed),
                    fixed=fixed,
                    empty_values=tuple(column.empty_values),
                    default=bound.default,
                    td_open=f"<td {_attrs_html(tag_attrs(bound, 'td'))}>" if _static(td) else None,
                    localize=column.localize,
                    fields=None if display or model is None else _field_path(model, bits),
                )
            )
        return plans

    def body_html(self) -> SafeString:
        """The `<tbody>` rows of the page (or of every row when not paginated)."""
        context = getattr(self, "context", None) or Context()
        plans = self.cell_plans()
        row_attrs = [
            (key, self._row_attr(value) if callable(value) else value)
            for key, value in self.row_attrs.items()
        ]
        cell = self._cell
        plain_ints = _plain_ints(context)
        out: list[str] = []
        for index, row in enumerate(self.paginated_rows):
            record = row.record
            attrs: dict[str, Any] = {
                key: value(record) if callable(value) else value for key, value in row_attrs
            }
            parity = "odd" if index % 2 else "even"
            attrs["class"] = f"{attrs['class']} {parity}" if attrs.get("class") else parity
            cells = "".join([cell(plan, record, row, context, plain_ints) for plan in plans])
            out.append(f"<tr {_attrs_html(attrs)}>{cells}</tr>")
        if not out and self.empty_text:
            out.append(
                format_html('<tr><td colspan="{}">{}</td></tr>', len(plans), self.empty_text)
            )
        return mark_safe("".join(out))  # noqa: S308, S703 - every part is escaped above

    def _row_attr(self, fn: Callable[..., Any]) -> Callable[[Any], Any]:
        """A callable row attribute as a function of the record, given the table and the
        record as it declares them."""
        wanted = _wanted(fn)
        if wanted == ("record",):
            return lambda record: fn(record=record)
        names = ("table", "record") if wanted is None else wanted
        return lambda record: fn(
            **{name: arg for name, arg in (("table", self), ("record", record)) if name in names}
        )

    def _cell(
        self, plan: CellPlan, record: Any, row: Any, context: Context, plain_ints: bool
    ) -> str:
        """One `<td>` with its content, as django-tables2's row loop would write it
        (`plain_ints`: the template writes an int as str() does, see _plain_ints)."""
        value = plan.value(record)
        bound = plan.bound
        if value in plan.empty_values:
            content: Any = plan.default
        else:
            content = plan.call(value, record, row)
            if bound.link:
                content = bound.link(
                    content, value=value, record=record, bound_row=row, **plan.fixed
                )
        td_open = plan.td_open
        if td_open is None:
            bound.current_record, bound.current_value = record, content
            td_open = f"<td {_attrs_html(tag_attrs(bound, 'td'))}>"
        text: str
        if plan.localize is None:
            # Text needs only escaping (what the template would do to it); other values
            # are localized and formatted as the template would.
            if type(content) is SafeString:
                text = content
            elif isinstance(content, str):
                text = _escape(content)
            elif plain_ints and type(content) is int:
                text = str(content)
            else:
                text = render_value_in_context(content, context)
        else:
            text = _escape(localize(content, use_l10n=plan.localize))
        return f"{td_open}{text}</td>"

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
        if isinstance(bound.column, BadgeColumn):
            column, path = bound.column, tuple(accessor.bits)
            return lambda record: column.text(record, path)
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


class SelectColumn(tables.Column):
    """A checkbox per row for a bulk action, with a "select every row on this page" box in
    its header (static/js/app.js, `data-select-all`).

    The checkboxes belong to the bulk form through their `form` attribute: the form sits
    outside the table (forms cannot nest, and the filter bar is one). Each box is named
    for its row, so a screen reader (and axe-core) can tell them apart.
    """

    def __init__(
        self,
        *,
        form: str,
        label: Callable[[Any], str],
        value: Callable[[Any], Any] = lambda record: record.pk,
        field_name: str = "ids",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("verbose_name", "Select")
        kwargs.setdefault("attrs", {"td": {"class": "select-cell"}, "th": {"class": "select-cell"}})
        super().__init__(empty_values=(), orderable=False, **kwargs)
        self.form = form
        self.label = label
        self.value = value
        self.field_name = field_name
        # The markup around the two values that change per row, escaped once.
        self._head = (
            f'<input type="checkbox" class="form-check-input" name="{_escape(field_name)}" value="'
        )
        self._middle = f'" form="{_escape(form)}" aria-label="Select '

    @property
    def header(self) -> SafeString:
        return format_html(
            '<input type="checkbox" class="form-check-input" data-select-all="{}" '
            'aria-label="Select every row on this page">',
            self.form,
        )

    def render(self, record: Any) -> SafeString:
        value, label = _escape(self.value(record)), _escape(self.label(record))
        return mark_safe(  # noqa: S308, S703 - both values are escaped, the rest is fixed
            f'{self._head}{value}{self._middle}{label}">'
        )
