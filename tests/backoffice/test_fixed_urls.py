"""URLs without arguments are reversed once per process, as `reverse()` would give them."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import clear_script_prefix, reverse, set_script_prefix

from backoffice.context_processors import NAVIGATION, fixed_url, navigation
from tests.conftest import make_user

NAMES = ["home", "logout", "catalog:product_list", "wallet:ledger", "notifications:inbox"]


@pytest.mark.parametrize("prefix", ["/", "/backoffice/"])
def test_fixed_url_is_reverse_under_the_script_prefix(prefix: str) -> None:
    set_script_prefix(prefix)
    try:
        for name in NAMES:
            assert fixed_url(name) == reverse(name)
            assert fixed_url(name).startswith(prefix)
            assert fixed_url(name) == reverse(name)  # the kept answer
    finally:
        clear_script_prefix()


def test_fixed_url_tag_writes_the_url_and_sets_a_variable() -> None:
    template = Template(
        "{% load fixed_urls %}{% fixed_url 'catalog:product_list' %}|"
        "{% fixed_url 'wallet:ledger' as url %}{{ url }}"
    )
    expected = f"{reverse('catalog:product_list')}|{reverse('wallet:ledger')}"
    assert template.render(Context()) == expected


@pytest.mark.django_db
def test_navigation_marks_the_section_of_the_page() -> None:
    request = RequestFactory().get("/catalog/price-changes/")
    request.user = make_user("nav-admin", "Admin")
    items = navigation(request)["nav_items"]
    assert [label for label, _url, _active in items] == [label for label, _n, _p in NAVIGATION]
    assert [url for _label, url, _active in items] == [reverse(n) for _l, n, _p in NAVIGATION]
    assert [label for label, _url, active in items if active] == ["Catalog"]
