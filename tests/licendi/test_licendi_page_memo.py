"""A catalog page whose raw answer was read before is not read again (`_PageMemo`).

The same bytes asked as the same page read as the same page; anything that differs is
read afresh, and a page with drift notes or unreadable records is read (and noted) on
every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from licendi import LicendiClient, Observations, parsing
from licendi import client as client_module
from sandbox import Sandbox

BASE_URL = "http://sandbox.test"
API_KEY = "memo-key"


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    client_module._READ_PAGES.clear()
    yield
    client_module._READ_PAGES.clear()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pages were really read (decoded and parsed)."""
    calls: list[int] = []
    real = parsing.parse_page

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["page"])
        return real(*args, **kwargs)

    monkeypatch.setattr(parsing, "parse_page", counting)
    return calls


def client_of(sb: Sandbox, observations: Observations | None = None) -> LicendiClient:
    return LicendiClient(
        BASE_URL,
        API_KEY,
        transport=sb.transport(),
        observations=Observations() if observations is None else observations,
    )


def test_an_unchanged_page_is_answered_without_being_read_again(parses: list[int]) -> None:
    sb = Sandbox(products=30, api_key=API_KEY)
    with client_of(sb) as client:
        first = client.list_products(page=1, page_size=20)
        again = client.list_products(page=1, page_size=20)
    with client_of(sb) as other:  # a later sync builds a new client: same process memo
        later = other.list_products(page=1, page_size=20)

    assert again is first and later is first
    assert parses == [1]
    # The request still goes upstream every time: only the reading is saved.
    assert [path for _, path in sb.requests_served()].count("/api/products?page=1&pageSize=20") == 3


def test_a_page_that_changed_by_one_product_is_read_afresh(parses: list[int]) -> None:
    sb = Sandbox(products=30, api_key=API_KEY)
    with client_of(sb) as client:
        before = client.list_products(page=1, page_size=20)
        sku = before.items[3].sku
        sb.set_price(sku, net_price=Decimal("1.23"), price=Decimal("2.34"))
        after = client.list_products(page=1, page_size=20)

    assert parses == [1, 1]
    changed = {item.sku: item for item in after.items}[sku]
    assert (changed.net_price, changed.price) == (Decimal("1.23"), Decimal("2.34"))


def test_the_same_bytes_asked_as_another_page_are_read_for_that_page(parses: list[int]) -> None:
    sb = Sandbox(products=30, api_key=API_KEY)
    with client_of(sb) as client:
        client.list_products(page=1, page_size=20)
        client.list_products(page=1, page_size=10)

    assert parses == [1, 1]


def test_a_drifting_page_is_read_and_noted_on_every_call(parses: list[int]) -> None:
    sb = Sandbox(products=30, api_key=API_KEY, drift=True)
    observations = Observations()
    with client_of(sb, observations) as client:
        client.list_products(page=1, page_size=30)
        once = sum(note.count for note in observations.notes())
        client.list_products(page=1, page_size=30)
        twice = sum(note.count for note in observations.notes())

    assert once > 0
    assert twice == 2 * once
    assert parses == [1, 1]


def test_a_page_with_an_unreadable_record_is_read_and_rejected_on_every_call(
    parses: list[int],
) -> None:
    sb = Sandbox(products=60, api_key=API_KEY, drift=True)
    assert sb.drift is not None and sb.drift.broken, "the drifting sandbox breaks a few records"
    with client_of(sb) as client:
        pages = [client.list_products(page=1, page_size=500) for _ in range(2)]

    assert pages[0].rejected and pages[1].rejected
    assert pages[1] is not pages[0]
    assert parses == [1, 1]


def test_the_memo_keeps_the_pages_used_last() -> None:
    memo = client_module._PageMemo(max_pages=2)
    pages = [object(), object(), object()]
    memo.put((b"a", 1, 1), pages[0])  # type: ignore[arg-type]
    memo.put((b"b", 2, 1), pages[1])  # type: ignore[arg-type]
    assert memo.get((b"a", 1, 1)) is pages[0]  # now the most recently used
    memo.put((b"c", 3, 1), pages[2])  # type: ignore[arg-type]

    assert memo.get((b"b", 2, 1)) is None
    assert memo.get((b"a", 1, 1)) is pages[0]
    assert memo.get((b"c", 3, 1)) is pages[2]
