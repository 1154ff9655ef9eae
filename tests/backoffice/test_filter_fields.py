"""The filter bar's fields, written in Python (CompactBoundField), match their template."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory

from backoffice.lists import list_pages

pytestmark = pytest.mark.django_db

# Valid and invalid values alike: labels, ranges, selected options and error lines.
QUERY = {
    "q": "<b>x</b>",
    "status": "nonsense",
    "created_after": "2026-01-01",
    "created_before": "not a date",
    "date_after": "2026-13-01",
    "received_before": "2026-02-01",
    "changed_within": "0",
    "days": "7",
    "type": "other",
    "user": '"quoted"',
}


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


@pytest.mark.parametrize("query", [{}, QUERY])
def test_every_filter_field_renders_as_its_template(query):
    compared = 0
    for view_class in list_pages().values():
        filterset_class = view_class.filterset_class
        if filterset_class is None:
            continue
        request = RequestFactory().get("/", query)
        filterset = filterset_class(
            request.GET,
            queryset=filterset_class._meta.model._default_manager.none(),
            request=request,
        )
        filterset.is_valid()
        for field in filterset.form:
            template = field.render(template_name="forms/filter_field.html")
            assert _squeeze(field.as_field_group()) == _squeeze(template), field.name
            compared += 1
    assert compared >= 20


@pytest.mark.parametrize("value", [None, "", "windows 11", "x<\"&'", 42])
@pytest.mark.parametrize(
    "attrs",
    [{}, {"class": "form-control", "required": True, "disabled": False, "min": 1, "q": 'a"b'}],
)
def test_fast_inputs_write_django_s_markup(value: object, attrs: dict[str, object]) -> None:
    from django import forms

    from backoffice.form_rendering import FastNumberInput, FastTextInput

    for plain, fast in ((forms.TextInput, FastTextInput), (forms.NumberInput, FastNumberInput)):
        expected = plain(attrs=attrs).render("field", value, attrs={"id": "id_field"})
        assert fast(attrs=attrs).render("field", value, attrs={"id": "id_field"}) == expected


CHOICES = [
    ("", "Any"),
    (None, "None"),
    ("a<b", 'A & "B"'),
    (3, 3),
    ("Group <1>", [("x", "X"), ("y", "Y"), (3, "three again")]),
    ("", [("z", "Z")]),
]


@pytest.mark.parametrize("value", [None, "", "3", ["3", "x"], "a<b", "y", "missing"])
@pytest.mark.parametrize("multiple", [False, True])
def test_fast_select_writes_django_s_markup(value: object, multiple: bool) -> None:
    from django import forms

    from backoffice.form_rendering import FastSelect

    class Plain(forms.SelectMultiple if multiple else forms.Select):  # type: ignore[misc]
        pass

    class Fast(FastSelect):
        allow_multiple_selected = multiple

    attrs = {"class": "form-select", "required": True, "disabled": False}
    expected = Plain(attrs=attrs, choices=CHOICES).render("f", value, attrs={"id": "id_f"})
    ours = Fast(attrs=attrs, choices=CHOICES).render("f", value, attrs={"id": "id_f"})
    assert _squeeze(ours) == _squeeze(expected)


def test_per_request_choices_stay_with_their_request():
    """The form class is built once per filter set; each request's choices are set on its
    own form, so one request's choices never show in another's."""
    from catalog.filters import CombinationFilter

    class Brands(CombinationFilter):
        brands: list[str] = []

        def filter_choices(self):
            return {"brand": [(brand, brand) for brand in self.brands]}

    def options(brands: list[str], query: dict[str, str]) -> tuple[list[str], bool, str]:
        filterset = Brands(query, queryset=Brands._meta.model._default_manager.none())
        filterset.brands = brands
        valid = filterset.is_valid()
        field = filterset.form["brand"]
        return [value for value, _ in field.field.choices], valid, field.as_field_group()

    first = options(["Acme", "Globex"], {"brand": "Acme"})
    second = options(["Initech"], {"brand": "Acme"})
    assert first[0] == ["", "Acme", "Globex"] and first[1]
    assert '<option value="Acme" selected>Acme</option>' in first[2]
    assert second[0] == ["", "Initech"] and not second[1]  # Acme is no choice here
    assert "<option" in second[2] and 'value="Acme"' not in second[2]
    assert Brands(None).get_form_class() is Brands(None).get_form_class()


def test_each_filter_set_filters_through_its_own_filters():
    """Filters are copied per filter set (not deep-copied): a method filter calls the
    method of its own filter set, and nothing set per request reaches the declaration."""
    from catalog.filters import CombinationFilter

    rows = CombinationFilter._meta.model._default_manager.all()
    one = CombinationFilter({"q": "alpha", "status": "all"}, queryset=rows)
    two = CombinationFilter({"q": "beta::1", "status": "inactive"}, queryset=rows)
    assert one.is_valid() and two.is_valid()
    for filterset in (one, two):
        search = filterset.filters["q"]
        assert search is not CombinationFilter.base_filters["q"]
        assert search.parent is filterset and search.filter.f is search
    assert "alpha" in str(one.qs.query) and "beta::1" not in str(one.qs.query)
    assert "beta::1" in str(two.qs.query) and "alpha" not in str(two.qs.query)
    assert not hasattr(CombinationFilter.base_filters["q"], "parent")
