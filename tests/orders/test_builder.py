"""The PO builder: whole-catalog search with selling price and margin, lines added in
place (htmx) or by plain form, and catalog rows taken several at once onto a draft."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import PurchaseOrder
from tests.catalog.factories import CombinationFactory, ProductFactory
from tests.conftest import messages_of

pytestmark = pytest.mark.django_db
ADD = "/orders/add-selected/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def windows():
    """45 active Windows items, one inactive, and one priced below the minimum margin."""
    product = ProductFactory(name="Windows 11 Pro")
    combos = [
        CombinationFactory(
            product=product,
            order_sku=f"{product.sku}::{n:02d}",
            label=f"{n} PCs",
            selling_price=Decimal("20.00"),
            margin=Decimal("6.00"),
            margin_percent=Decimal("30.00"),
        )
        for n in range(45)
    ]
    combos[0].selling_price, combos[0].margin, combos[0].margin_percent = (
        Decimal("14.50"),
        Decimal("0.50"),
        Decimal("3.45"),
    )
    combos[0].save()
    CombinationFactory(product=product, order_sku=f"{product.sku}::old", is_active=False)
    return combos


def test_search_pages_through_the_whole_catalog_with_more_results(client_for, windows):
    client = client_for("Buyer")
    first = client.get("/orders/combinations/", {"q": "windows", "po": "7"}).content.decode()
    assert first.count("<tr data-order-sku=") == 20
    assert 'id="combo-more"' in first
    assert "q=windows&amp;offset=20&amp;po=7&amp;rows=1" in first

    seen = []
    offset = 0
    while True:
        rows = client.get(
            "/orders/combinations/", {"q": "windows", "po": "7", "offset": offset, "rows": "1"}
        ).content.decode()
        found = rows.count("<tr data-order-sku=")
        seen.append(found)
        offset += found
        if 'id="combo-more"' not in rows:
            break
    assert seen == [20, 20, 5]  # all 45 active items, the inactive one never
    assert "<table" not in rows  # rows only, appended in place of "More results"


def test_each_result_shows_net_selling_price_and_margin_flagging_a_low_margin(client_for, windows):
    html = (
        client_for("Buyer")
        .get("/orders/combinations/", {"q": windows[0].order_sku})
        .content.decode()
    )
    assert "14.00 EUR" in html  # net
    assert "14.50 EUR" in html  # selling
    assert '<span class="margin-below">0.50 EUR (3.45%)</span>' in html


def test_a_hostile_search_query_is_harmless(client_for, windows):
    client = client_for("Buyer")
    for params in ({"q": "win", "offset": "-5"}, {"q": "win", "offset": "9" * 40}, {"po": "x"}):
        assert client.get("/orders/combinations/", params).status_code == 200


def test_without_script_the_builder_page_lists_the_results_itself(
    client_for, windows, user_in_role
):
    buyer = user_in_role("Buyer")
    po = services.purchase_order_create(user=buyer)
    client = client_for("Buyer")
    client.force_login(buyer)
    html = client.get(f"/orders/{po.pk}/edit/", {"q": "windows", "offset": "40"}).content.decode()
    assert html.count('<tr data-order-sku="') == 5
    assert f'action="/orders/{po.pk}/lines/"' in html


def test_a_line_added_with_htmx_answers_the_lines_total_and_confirm_box(
    client_for, windows, user_in_role
):
    buyer = user_in_role("Buyer")
    po = services.purchase_order_create(user=buyer)
    client = client_for("Buyer")
    sku = windows[1].order_sku

    response = client.post(f"/orders/{po.pk}/lines/", {"order_sku": sku, "quantity": 3}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card card-body mb-3" id="po-lines-card">')
    assert f'<tr data-order-sku="{sku}">' in html
    assert f"{sku}: quantity 3." in html
    assert 'id="po-summary" hx-swap-oob="true"' in html and "42.00 EUR" in html
    assert 'id="po-confirm-card" hx-swap-oob="true"' in html
    assert po.lines.get().quantity == 3


def test_a_refused_line_is_said_in_place_and_plain_forms_still_redirect(
    client_for, windows, user_in_role
):
    buyer = user_in_role("Buyer")
    po = services.purchase_order_create(user=buyer)
    client = client_for("Buyer")

    html = client.post(
        f"/orders/{po.pk}/lines/", {"order_sku": "nope", "quantity": 1}, **HTMX
    ).content.decode()
    assert "No active catalog item with order sku &#x27;nope&#x27;" in html

    plain = client.post(
        f"/orders/{po.pk}/lines/", {"order_sku": windows[2].order_sku, "quantity": 1}
    )
    assert plain.status_code == 302 and plain["Location"] == f"/orders/{po.pk}/edit/"
    assert (
        client.post("/orders/999999/lines/", {"order_sku": "x", "quantity": 1}, **HTMX).status_code
        == 404
    )


def test_selected_catalog_rows_are_listed_with_quantity_one_and_the_users_drafts(
    client_for, windows, user_in_role
):
    buyer = user_in_role("Buyer")
    mine = services.purchase_order_create(user=buyer)
    services.purchase_order_create(user=user_in_role("Buyer"))  # someone else's
    client = client_for("Buyer")
    client.force_login(buyer)

    html = client.get(ADD, {"sku": [windows[0].order_sku, "ghost"]}).content.decode()

    assert f'name="sku" value="{windows[0].order_sku}"' in html
    assert 'name="quantity" value="1"' in html
    assert "Not an active catalog item" in html  # the ghost sku
    assert f'name="purchase_order" value="{mine.pk}"' in html
    assert html.count('name="purchase_order"') == 2  # a new draft, or mine


def test_adding_selected_rows_makes_a_new_draft_and_refuses_the_bad_ones(client_for, windows):
    client = client_for("Buyer")
    a, b = windows[3].order_sku, windows[4].order_sku
    response = client.post(
        ADD,
        {
            "sku": [a, b, "ghost", windows[5].order_sku],
            "quantity": ["1", "2", "1", "many"],
            "purchase_order": "new",
        },
    )
    po = PurchaseOrder.objects.get()
    assert response["Location"] == f"/orders/{po.pk}/edit/"
    assert dict(po.lines.values_list("order_sku", "quantity")) == {a: 1, b: 2}
    assert po.total == Decimal("42.00")
    assert messages_of(response) == [
        f"2 items added to {po}. 2 refused: {windows[5].order_sku} (the quantity is not a whole "
        "number); ghost (not an active catalog item)."
    ]


def test_adding_to_an_existing_draft_adds_to_its_lines(client_for, windows, user_in_role):
    buyer = user_in_role("Buyer")
    po = services.purchase_order_create(user=buyer)
    sku = windows[6].order_sku
    services.purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=999)
    client = client_for("Buyer")
    client.force_login(buyer)

    response = client.post(
        ADD, {"sku": [sku, windows[7].order_sku], "quantity": ["1", "1"], "purchase_order": po.pk}
    )
    assert dict(po.lines.values_list("order_sku", "quantity")) == {
        sku: 1000,
        windows[7].order_sku: 1,
    }
    assert messages_of(response) == [f"2 items added to {po}."]
    client = client_for("Buyer")  # a fresh session: the first message is not carried over
    client.force_login(buyer)
    response = client.post(ADD, {"sku": [sku], "quantity": ["1"], "purchase_order": po.pk})
    assert messages_of(response) == [
        f"0 items added to {po}. 1 refused: {sku} (the line would hold 1001, more than 1000)."
    ]


def test_nobody_adds_to_someone_elses_draft_or_a_confirmed_order(client_for, windows, user_in_role):
    other = services.purchase_order_create(user=user_in_role("Buyer"))
    client = client_for("Buyer")
    form = {"sku": [windows[8].order_sku], "quantity": ["1"], "purchase_order": other.pk}
    response = client.post(ADD, form)
    assert messages_of(response) == [f"Nothing added: {other} is not one of your drafts."]
    assert not other.lines.exists()
    assert client.post(ADD, {**form, "purchase_order": "999999"}).status_code == 302
    assert client.post(ADD, {**form, "purchase_order": "evil"}).status_code == 302
    assert PurchaseOrder.objects.count() == 1
    assert client_for("Viewer").post(ADD, form).status_code == 403


def test_adding_nothing_says_so_and_makes_no_draft(client_for):
    response = client_for("Buyer").post(ADD, {"purchase_order": "new"})
    assert response["Location"] == "/catalog/"
    assert messages_of(response) == ["Select at least one catalog item."]
    assert not PurchaseOrder.objects.exists()


def test_the_catalog_list_offers_selection_to_buyers_only(client_for, windows):
    combo = windows[0]
    box = (
        f'name="sku" value="{combo.order_sku}" form="catalog-selection" '
        f'aria-label="Select Windows 11 Pro 0 PCs ({combo.order_sku})"'
    )
    html = client_for("Buyer").get("/catalog/").content.decode()
    assert box in html and 'id="catalog-selection"' in html
    assert 'data-select-all="catalog-selection"' in html
    viewer = client_for("Viewer").get("/catalog/").content.decode()
    assert 'form="catalog-selection"' not in viewer and 'id="catalog-selection"' not in viewer
