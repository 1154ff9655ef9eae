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
