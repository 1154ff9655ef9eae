"""Each table works on its own copy of its class's columns (backoffice.tables.ClassColumns),
and the per-column work done once per table gives what django-tables2 gives per cell."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import django_tables2 as tables
import pytest
from django.test import RequestFactory
from django.utils.functional import lazystr
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice import badges
from backoffice.tables import (
    BadgeColumn,
    BaseTable,
    BooleanColumn,
    MoneyColumn,
    SelectColumn,
    _wanted,
    format_cell,
    tag_attrs,
)

pytestmark = pytest.mark.django_db

_TBODY = re.compile(r"<tbody[^>]*>.*?</tbody>", re.S)
_BETWEEN_TAGS = re.compile(r">\s+<")


def _table_classes() -> list[type[BaseTable]]:
    """Every table of the project (the URLconf imports every app's tables)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view, so every table
    found, pending = [], list(BaseTable.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith(("backoffice", "catalog", "orders", "wallet", "webhooks")):
            found.append(cls)
        pending += cls.__subclasses__()
    return found


def _snapshot(cls: type[BaseTable]) -> dict[str, Any]:
    """Everything a class's columns hold, as text (nested attributes included)."""
    return {
        name: (id(column), sorted((key, repr(value)) for key, value in vars(column).items()))
        for name, column in cls.base_columns.items()
    }


def _no_rows(cls: type[BaseTable]) -> Any:
    model = getattr(cls._meta, "model", None)
    return model.objects.none() if model is not None else []


class Sample(BaseTable):
    select = SelectColumn(
        form="sample-form", value=lambda r: r.name, label=lambda r: f"row <{r.name}>"
    )
    name = tables.Column(attrs={"td": {"class": "name"}, "th": {"class": "head"}})
    type = BadgeColumn(key="wallet.LedgerEntry.type")
    amount = MoneyColumn()
    active = BooleanColumn()

    class Meta(BaseTable.Meta):
        row_attrs = {"data-name": lambda record: record.name}


def _rows() -> list[SimpleNamespace]:
    return [
        SimpleNamespace(name=f"n{i}", type=kind, amount=Decimal(i), active=bool(i % 2))
        for i, kind in enumerate(["topup", "order", "topup", "brand_new", None])
    ]


def test_tables_leave_their_class_columns_as_they_were() -> None:
    classes = _table_classes()
    assert len(classes) >= 15
    before = {cls: _snapshot(cls) for cls in classes}
    for cls in classes:
        for _ in range(2):
            table = cls(_no_rows(cls))
            for name in list(table.base_columns):
                table.columns.hide(name)
                table.columns.show(name)
            table.thead_html()
            table.body_html()
            table.export_columns()
            table.columns.hide(next(iter(table.base_columns)))
    assert {cls: _snapshot(cls) for cls in classes} == before


def test_each_table_has_its_own_columns() -> None:
    before = _snapshot(Sample)
    first, second = Sample(_rows()), Sample(_rows())
    first.columns.hide("amount")
    first.body_html(), second.body_html()  # fills the badge and boolean caches
    assert second.columns["amount"].column.visible
    assert first.columns["amount"].column is not second.columns["amount"].column
    assert first.columns["name"].column.attrs is not Sample.base_columns["name"].attrs
    assert "amount" not in [bound.name for bound in first.columns]
    assert "amount" in [bound.name for bound in second.columns]
    assert Sample.base_columns["amount"].visible
    assert "_badges" in vars(first.columns["type"].column)
    assert "_badges" not in vars(Sample.base_columns["type"])
    assert _snapshot(Sample) == before


def test_sample_rows_render_as_django_tables2_renders_them() -> None:
    table = Sample(_rows())
    body = table.body_html()
    assert body.count("<tr ") == 5
    assert (
        '<td class="select-cell"><input type="checkbox" class="form-check-input" '
        'name="ids" value="n0" '
        'form="sample-form" aria-label="Select row &lt;n0&gt;"></td>'
    ) in body
    assert '<td class="name">n1</td>' in body
    assert '<td class="money">3.00 EUR</td>' in body
    for kind in ("topup", "order", "brand_new"):
        assert badges.badge("wallet.LedgerEntry.type", kind) in body
    assert '<tr data-name="n4" class="even">' in body
    assert body.count(badges.badge("wallet.LedgerEntry.type", "topup")) == 2

    # django-tables2's own row loop writes the same rows.
    request = RequestFactory().get("/")
    lean = _TBODY.search(Sample(_rows()).as_html(request))
    plain_table = Sample(_rows())
    plain_table.lean_rows = False
    plain = _TBODY.search(plain_table.as_html(request))
    assert lean and plain
    assert _BETWEEN_TAGS.sub("><", lean.group()) == _BETWEEN_TAGS.sub("><", plain.group())


def test_tag_attrs_are_the_bound_columns_attrs() -> None:
    for cls in [*_table_classes(), Sample]:
        table = cls(_no_rows(cls) if cls is not Sample else _rows())
        orderable = [bound.name for bound in table.columns if bound.orderable]
        if orderable:
            table.order_by = f"-{orderable[0]}"  # the header's ordering classes
        for bound in table.columns.iterall():
            for tag in ("th", "td"):
                assert tag_attrs(bound, tag) == bound.attrs[tag], (cls, bound.name, tag)


def test_callable_td_attributes_are_computed_per_cell() -> None:
    class Cells(BaseTable):
        name = tables.Column(attrs={"td": {"data-v": lambda value: f"<{value}>"}})

    body = Cells([{"name": "a"}, {"name": "b"}]).body_html()
    assert '<td data-v="&lt;a&gt;">a</td>' in body
    assert '<td data-v="&lt;b&gt;">b</td>' in body


def test_renderers_get_what_they_declare() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    class Asks(BaseTable):
        a = tables.Column()
        b = tables.Column()
        c = tables.Column()
        d = tables.Column()

        def render_a(self, value: Any, bound_row: Any, table: Any) -> str:
            seen.append(("a", {"value": value, "row": bound_row.record, "table": table}))
            return "A"

        def render_b(self, **kwargs: Any) -> str:
            seen.append(("b", kwargs))
            return "B"

        def render_c(self, record: Any, column: Any, bound_column: Any) -> str:
            seen.append(("c", {"record": record, "column": column, "bound": bound_column}))
            return "C"

        def render_d(self) -> str:
            return "D"

    record = {"a": 1, "b": 2, "c": 3, "d": 4}
    table = Asks([record])
    assert "<td >A</td><td >B</td><td >C</td><td >D</td>" in table.body_html()
    (_, a), (_, b), (_, c) = seen
    assert a == {"value": 1, "row": record, "table": table}
    assert set(b) == {"value", "record", "column", "bound_column", "bound_row", "table"}
    assert b["value"] == 2 and b["record"] is record and b["table"] is table
    assert c["record"] is record and c["bound"] is table.columns["c"]
    assert c["column"] is table.columns["c"].column


def test_what_a_function_declares_is_remembered_by_function() -> None:
    one, two = Sample(_rows()), Sample(_rows())

    def anything(**kwargs: Any) -> None: ...

    assert _wanted(one.columns["amount"].render) == ("value",)
    assert _wanted(two.columns["amount"].render) == ("value",)
    assert _wanted(one.columns["type"].render) == ("record", "bound_column")
    assert _wanted(anything) is None
    assert _wanted(lambda record, table: None) == ("record", "table")


@pytest.mark.parametrize(
    "args",
    [
        ("plain",),
        ("<b> & \"quoted\" 'single'",),
        (SafeString("<i>safe</i>"), "<i>not</i>"),
        (3, Decimal("1.50"), None),
        (lazystr("<lazy>"),),
    ],
)
def test_format_cell_is_format_html(args: tuple[Any, ...]) -> None:
    template = "<span>" + " | ".join("{}" for _ in args) + "</span>"
    ours = format_cell(template, *args)
    assert isinstance(ours, SafeString)
    assert ours == format_html(template, *args)


def test_select_box_escapes_its_values() -> None:
    column = SelectColumn(
        form='f"orm', field_name="<ids>", value=lambda r: r["v"], label=lambda r: r["l"]
    )
    html = column.render({"v": 'a"b', "l": "<x> & y"})
    assert html == format_html(
        '<input type="checkbox" class="form-check-input" name="{}" value="{}" form="{}" '
        'aria-label="Select {}">',
        "<ids>",
        'a"b',
        'f"orm',
        "<x> & y",
    )
    assert isinstance(html, SafeString)


def test_a_badge_of_an_unhashable_value_is_still_written() -> None:
    column = BadgeColumn(key="wallet.LedgerEntry.type")
    bound = SimpleNamespace(accessor=SimpleNamespace(bits=("type",)))
    record = SimpleNamespace(type=["odd"])
    assert column.render(record, bound) == badges.badge("wallet.LedgerEntry.type", ["odd"])


class Held:
    """A row whose attributes are read as django-tables2's Accessor reads them."""

    plain = "text"
    nothing = None

    def method(self) -> str:
        return "called"

    @property
    def broken(self) -> str:
        raise ValueError("no value")

    class Kept:
        do_not_call_in_templates = True

        def __call__(self) -> str:  # pragma: no cover - must not be called
            raise AssertionError("called")

        def __str__(self) -> str:
            return "kept"

    kept = Kept()


def test_cells_read_values_as_django_tables2_does() -> None:
    class Reads(BaseTable):
        plain = tables.Column()
        nothing = tables.Column(default="none")
        method = tables.Column()
        broken = tables.Column(default="broken")
        missing = tables.Column(default="missing")
        kept = tables.Column()
        nested = tables.Column(accessor="inner__plain", default="no inner")

    rows: list[Any] = [Held(), {"plain": "key", "method": "from dict", "inner": {"plain": "in"}}]
    lean = Reads(rows).body_html()
    plain_table = Reads(rows)
    plain_table.lean_rows = False
    request = RequestFactory().get("/")
    theirs = _TBODY.search(plain_table.as_html(request))
    ours = _TBODY.search(Reads(rows).as_html(request))
    assert ours and theirs
    assert _BETWEEN_TAGS.sub("><", ours.group()) == _BETWEEN_TAGS.sub("><", theirs.group())
    assert (
        "<td >text</td><td >none</td><td >called</td><td >broken</td><td >missing</td>"
        "<td >kept</td><td >no inner</td>"
    ) in lean
    assert "<td >key</td><td >none</td><td >from dict</td>" in lean
    assert "<td >in</td></tr>" in lean


def test_counts_are_written_as_the_template_writes_them(settings: Any) -> None:
    class Counts(BaseTable):
        n = tables.Column()
        flag = tables.Column()

    rows = [{"n": 1234567, "flag": True}, {"n": -5, "flag": False}]
    assert "<td >1234567</td><td >True</td>" in Counts(rows).body_html()
    assert "<td >-5</td><td >False</td>" in Counts(rows).body_html()
    settings.USE_THOUSAND_SEPARATOR = True  # then ints go through number_format
    assert "<td >1,234,567</td>" in Counts(rows).body_html()


def test_times_are_shown_in_the_zone_of_the_request() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from backoffice.tables import DateTimeColumn

    class Times(BaseTable):
        at = DateTimeColumn()

    rows = [{"at": dt.datetime(2026, 7, 1, 12, 5, tzinfo=dt.UTC)}]
    with timezone.override(ZoneInfo("Europe/Madrid")):
        assert "<td >2026-07-01 14:05</td>" in Times(rows).body_html()
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert "<td >2026-07-01 21:05</td>" in Times(rows).body_html()


def test_a_badge_column_over_rows_of_two_models_keys_each_by_its_model() -> None:
    from catalog.models import SyncRun
    from orders.models import PurchaseOrder

    class Statuses(BaseTable):
        status = BadgeColumn()

    rows = [
        PurchaseOrder(status="queued"),
        SyncRun(status="queued"),
        PurchaseOrder(status="failed"),
        SyncRun(status="running"),
    ]
    body = Statuses(rows).body_html()
    cells = [badges.badge_for(row, "status") for row in rows]
    assert cells[0] != cells[1]  # the same value, two registry entries
    assert "".join(f"<td >{cell}</td>" for cell in cells) == "".join(
        part[part.index("<td") :] for part in body.split("</tr>") if part
    )


def test_field_paths_read_model_rows_as_django_tables2_does() -> None:
    """Columns whose accessor is a path of concrete fields read it in one attrgetter; a
    step that is None (no category, no rule) is an empty cell, as django-tables2 has it."""
    from catalog.models import Combination
    from tests.catalog.factories import CombinationFactory, ProductFactory

    class Paths(BaseTable):
        name = tables.Column(accessor="product__name")
        category = tables.Column(accessor="product__category__name", default="no category")
        rule = tables.Column(accessor="priced_by_rule__value", default="no rule")
        sku = tables.Column(accessor="order_sku")
        described = tables.Column(accessor="product__category", default="-")  # __str__
        label = tables.Column(accessor="__str__")  # a method: read as before

        class Meta(BaseTable.Meta):
            model = Combination

    CombinationFactory(product=ProductFactory(name="A <b>", category=None))
    CombinationFactory(product=ProductFactory(name="B"))
    rows = Combination.objects.select_related("product__category", "priced_by_rule").order_by(
        "product__name"
    )
    plans = {plan.bound.name: plan for plan in Paths(rows).cell_plans()}
    assert all(plans[name].fields is not None for name in ("name", "category", "rule", "sku"))
    assert plans["label"].fields is None

    request = RequestFactory().get("/")
    lean = _TBODY.search(Paths(rows).as_html(request))
    plain_table = Paths(rows)
    plain_table.lean_rows = False
    plain = _TBODY.search(plain_table.as_html(request))
    assert lean and plain
    assert _BETWEEN_TAGS.sub("><", lean.group()) == _BETWEEN_TAGS.sub("><", plain.group())
    assert "<td >A &lt;b&gt;</td><td >no category</td><td >no rule</td>" in lean.group()
