"""backoffice.escaping writes exactly what html.escape and conditional_escape write."""

from __future__ import annotations

import html

from django.utils.html import conditional_escape as django_conditional_escape
from django.utils.safestring import mark_safe
from hypothesis import given
from hypothesis import strategies as st

from backoffice.escaping import conditional_escape, escape_text

# Text biased towards the characters escaping is about.
TEXT = st.text(alphabet=st.sampled_from("&<>\"'ab 1é€\x00\n;#x") | st.characters(), max_size=40)


@given(TEXT)
def test_escape_text_is_html_escape(text: str) -> None:
    assert escape_text(text) == html.escape(text)


@given(st.one_of(TEXT, st.integers(), st.decimals(allow_nan=False), st.none(), st.booleans()))
def test_conditional_escape_is_django_s(value: object) -> None:
    assert conditional_escape(value) == str(django_conditional_escape(value))


def test_safe_strings_are_written_as_they_are() -> None:
    safe = mark_safe('<b title="x">&amp;</b>')
    assert conditional_escape(safe) == str(django_conditional_escape(safe)) == str(safe)
