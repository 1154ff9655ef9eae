"""Orders pages: permissions, the PO builder, masked keys, audited reveal/copy/export/email."""

import pytest
from django.core import mail

from backoffice import crypto
from backoffice.display import format_money
from backoffice.models import AuditEvent
from orders.models import Customer, PurchaseOrder

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


@pytest.fixture
def delivered(sandbox, make_po, confirm, stock_skus, customer):
    po = make_po([(stock_skus[0], 2)], customer=customer)
    confirm(po)
    assert po.status == S.DELIVERED
    return po


def clear_keys(sandbox, po):
    return [k for item in sandbox.orders[po.upstream_id]["items"] for k in item["keys"]]


@pytest.mark.parametrize(
    "url",
    ["/orders/", "/orders/new/", "/customers/", "/customers/new/", "/keys/"],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_viewer_cannot_build_orders_or_manage_customers(client_for):
    viewer = client_for("Viewer")
    assert viewer.get("/orders/").status_code == 200
    assert viewer.get("/customers/").status_code == 200
    assert viewer.get("/orders/new/").status_code == 403
    assert viewer.get("/customers/new/").status_code == 403
    assert viewer.post("/orders/new/", {"quantity": 1}).status_code == 403


def test_keys_are_masked_on_every_page(sandbox, delivered, client_for, customer):
    viewer = client_for("Viewer")
    pages = [f"/orders/{delivered.pk}/", f"/customers/{customer.pk}/", "/orders/"]
    for url in pages:
        body = viewer.get(url).content.decode()
        for key in clear_keys(sandbox, delivered):
            assert key not in body
    body = viewer.get(f"/orders/{delivered.pk}/").content.decode()
    assert delivered.keys.first().key_masked in body
    assert "Reveal" not in body  # a viewer is not offered the button


def test_viewer_cannot_reveal_or_export_a_key(delivered, client_for, customer):
    viewer = client_for("Viewer")
    key = delivered.keys.first()
    assert viewer.post(f"/keys/{key.pk}/reveal/").status_code == 403
    assert viewer.post(f"/keys/{key.pk}/copied/").status_code == 403
    assert viewer.get(f"/customers/{customer.pk}/keys.csv").status_code == 403
    assert viewer.post(f"/customers/{customer.pk}/email-keys/").status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="key_").exists()


def test_reveal_needs_post(delivered, client_for):
    custodian = client_for("Key custodian")
    key = delivered.keys.first()
    assert custodian.get(f"/keys/{key.pk}/reveal/").status_code == 405


def test_every_reveal_and_copy_is_audited(sandbox, delivered, user_in_role, client):
    custodian = client
    custodian.user = user_in_role("Key custodian")
    custodian.force_login(custodian.user)
    key = delivered.keys.order_by("pk").first()
    clear = crypto.decrypt(key.key_encrypted)

    for _ in range(2):
        response = custodian.post(f"/keys/{key.pk}/reveal/", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert clear in response.content.decode()
        assert "no-store" in response["Cache-Control"]
    assert custodian.post(f"/keys/{key.pk}/copied/").status_code == 204

    reveals = AuditEvent.objects.filter(action=AuditEvent.Action.KEY_REVEAL)
    assert reveals.count() == 2
    assert {e.actor_name for e in reveals} == {custodian.user.get_username()}
    event = reveals.first()
    assert event.target_id == str(key.pk) and event.details["key_id"] == key.pk
    assert clear not in str(event.details) and clear not in event.summary
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_COPY).count() == 1


def test_customer_keys_export_is_audited_per_key(sandbox, delivered, client_for, customer):
    custodian = client_for("Key custodian")
    response = custodian.post(f"/customers/{customer.pk}/keys.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content if response.streaming else [response.content])
    for key in clear_keys(sandbox, delivered):
        assert key in body.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_EXPORT).count() == 2


def test_customer_gets_an_email_with_their_keys_and_may_get_it_again(
    sandbox, delivered, client_for, customer
):
    custodian = client_for("Key custodian")
    for _ in range(2):
        response = custodian.post(f"/customers/{customer.pk}/email-keys/", follow=True)
        assert response.status_code == 200
    assert len(mail.outbox) == 2
    message = mail.outbox[-1]
    assert message.to == [customer.email]
    for key in clear_keys(sandbox, delivered):
        assert key in message.body
    assert delivered.lines.get().name.split(" ")[0] in message.body
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_EMAIL).count() == 4
    page = custodian.get(f"/customers/{customer.pk}/").content.decode()
    assert "not yet" not in page  # emailed_at shown per key


def test_customer_crud_and_search(client_for):
    buyer = client_for("Buyer")
    response = buyer.post(
        "/customers/new/",
        {"name": "Ada Lovelace", "company": "Engines Ltd", "email": "ada@example.com"},
    )
    customer = Customer.objects.get(name="Ada Lovelace")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    buyer.post(
        f"/customers/{customer.pk}/edit/",
        {"name": "Ada Lovelace", "company": "Analytical Engines", "email": "ada@example.com"},
    )
    customer.refresh_from_db()
    assert customer.company == "Analytical Engines"
    CustomerFactory(name="Someone Else")
    listing = buyer.get("/customers/?q=analytical").content.decode()
    assert "Ada Lovelace" in listing and "Someone Else" not in listing
    bad = buyer.post("/customers/new/", {"name": "", "email": "not-an-email"})
    assert bad.status_code == 200 and Customer.objects.count() == 2


def test_build_and_confirm_a_po_through_the_pages(
    sandbox, combos, stock_skus, client_for, customer, django_capture_on_commit_callbacks
):
    buyer = client_for("Buyer")
    page = buyer.get(f"/orders/new/?add={stock_skus[0]}")
    assert page.status_code == 200 and stock_skus[0] in page.content.decode()

    response = buyer.post(
        "/orders/new/",
        {"customer": customer.pk, "note": "for Ada", "order_sku": stock_skus[0], "quantity": 2},
    )
    po = PurchaseOrder.objects.get()
    assert response["Location"] == f"/orders/{po.pk}/edit/"
    buyer.post(f"/orders/{po.pk}/lines/", {"order_sku": stock_skus[1], "quantity": 1})
    bad = buyer.post(
        f"/orders/{po.pk}/lines/", {"order_sku": "nope::9", "quantity": 1}, follow=True
    )
    assert "No active catalog item" in bad.content.decode()
    edit = buyer.get(f"/orders/{po.pk}/edit/").content.decode()
    po.refresh_from_db()
    assert str(po.total) in edit and po.lines.count() == 2

    search = buyer.get(f"/orders/combinations/?q={stock_skus[0][:4]}&po={po.pk}")
    assert stock_skus[0] in search.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        buyer.post(f"/orders/{po.pk}/confirm/")
    again = buyer.post(f"/orders/{po.pk}/confirm/", follow=True)
    assert "already confirmed" in again.content.decode()
    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.keys.count() == 3
    detail = buyer.get(f"/orders/{po.pk}/").content.decode()
    assert po.upstream_id in detail and "delivered" in detail
    assert buyer.get(f"/orders/{po.pk}/edit/").status_code == 302  # no longer editable


def test_po_list_filters(sandbox, delivered, make_po, client_for, customer):
    make_po([])  # a draft without customer
    viewer = client_for("Viewer")
    by_status = viewer.get("/orders/?status=delivered").content.decode()
    assert delivered.external_id in by_status and "Draft #" not in by_status
    by_id = viewer.get(f"/orders/?q={delivered.upstream_id}").content.decode()
    assert delivered.external_id in by_id
    by_customer = viewer.get(f"/orders/?customer={customer.pk}").content.decode()
    assert delivered.external_id in by_customer and "Draft #" not in by_customer


def test_stock_key_assignment_page(sandbox, make_po, confirm, stock_skus, client_for, customer):
    po = make_po([(stock_skus[0], 1)])
    confirm(po)
    key = po.keys.get()
    buyer = client_for("Buyer")
    assert key.key_masked in buyer.get("/keys/").content.decode()
    assert (
        client_for("Viewer").post(f"/keys/{key.pk}/assign/", {"customer": customer.pk}).status_code
        == 403
    )
    buyer.post(f"/keys/{key.pk}/assign/", {"customer": customer.pk})
    key.refresh_from_db()
    assert key.customer == customer
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ASSIGN).count() == 1


def test_failed_and_held_orders_show_the_reason(
    sandbox, make_po, confirm, stock_skus, combos, client_for
):
    viewer = client_for("Viewer")
    sandbox.faults.inject(method="POST", path="/api/orders", kind="status", status=402)
    failed = make_po([(stock_skus[0], 1)])
    confirm(failed)
    page = viewer.get(f"/orders/{failed.pk}/").content.decode()
    assert failed.status == S.FAILED and failed.failure_code
    assert failed.failure_code in page and "Nothing was charged" in page

    held = make_po([(stock_skus[1], 1)])
    sandbox.set_price(stock_skus[1], net_price=combos[stock_skus[1]].net_price * 2)
    confirm(held)
    page = client_for("Buyer").get(f"/orders/{held.pk}/").content.decode()
    row = held.hold_details["lines"][0]
    assert row["confirmed_net"] in page and row["current_net"] in page
    assert "Re-confirm with current prices" in page


def test_builder_shows_the_wallet_balance_last_seen(sandbox, make_po, stock_skus, client_for):
    from wallet import services as wallet_services

    wallet_services.wallet_sync()
    po = make_po([(stock_skus[0], 1)])
    page = client_for("Buyer").get(f"/orders/{po.pk}/edit/").content.decode()
    shown = format_money(sandbox.balance, "EUR")  # 5,000.00 EUR: separators and currency
    assert shown in page and "Enough for this order" in page


def test_po_and_customer_lists_count_each_rows_keys_and_orders(
    sandbox, delivered, make_po, client_for, customer
):
    other = make_po([], customer=customer)  # a draft of the same customer, without keys
    viewer = client_for("Viewer")

    def records(url: str, **params: str) -> list:
        return [row.record for row in viewer.get(url, params).context["table"].page.object_list]

    rows = {po.pk: po for po in records("/orders/")}
    assert rows[delivered.pk].key_count == 2 and rows[other.pk].key_count == 0
    assert [po.pk for po in records("/orders/", sort="-key_count")][:2] == [
        delivered.pk,
        other.pk,
    ]

    CustomerFactory(name="Nobody yet")
    listed = {c.pk: c for c in records("/customers/")}
    # The keys of a PO bought for a customer are that customer's.
    assert (listed[customer.pk].order_count, listed[customer.pk].key_count) == (2, 2)
    nobody = next(c for c in listed.values() if c.name == "Nobody yet")
    assert (nobody.order_count, nobody.key_count) == (0, 0)


def test_po_filter_customer_choices_follow_customer_changes(
    client_for, django_capture_on_commit_callbacks
):
    viewer = client_for("Viewer")

    def choices() -> dict[str, str]:
        form = viewer.get("/orders/").context["filter"].form
        return {str(value): str(label) for value, label in form.fields["customer"].choices}

    first = CustomerFactory(name="Ana", company="")
    assert choices() == {"": "---------", str(first.pk): "Ana"}
    with django_capture_on_commit_callbacks(execute=True):
        second = CustomerFactory(name="Bea", company="Bea S.L.")
    assert choices()[str(second.pk)] == "Bea (Bea S.L.)"
    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.filter(pk=second.pk).get().delete()
    assert str(second.pk) not in choices()
    # A customer that is not a choice is a form error, not an empty or unfiltered list.
    response = viewer.get("/orders/", {"customer": str(second.pk)})
    assert response.status_code == 200 and response.context["filter"].errors


def test_po_lists_and_their_export_read_each_shown_value_with_the_rows_query(client_for):
    """Lists of purchase orders read only the columns they show
    (orders.selectors.purchase_order_list): a value the table, a customer's label or the
    export needs and the query left out would be read row by row, one query each."""
    import csv
    import io

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .factories import DraftFactory

    acme = CustomerFactory(name="Ada", company="Acme <Ltd>")
    for n in range(60):
        DraftFactory(customer=acme if n % 2 else None, total=f"{n}.50")
    client = client_for("Finance")
    client.get("/orders/")  # warms the caches (customer choices, notification badge)
    counts = {}
    for per_page in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/orders/", {"per_page": per_page})
        assert page.status_code == 200
        counts[per_page] = len(queries)
        assert "Ada (Acme &lt;Ltd&gt;)" in page.content.decode()
    assert counts[25] == counts[100]
    with CaptureQueriesContext(connection) as queries:
        export = client.post("/orders/", {"_export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(export).decode("utf-8-sig"))))
    assert len(rows) == 61 and len(queries) <= counts[25] + 3
    with CaptureQueriesContext(connection) as queries:
        detail = client.get(f"/customers/{acme.pk}/")
    assert detail.status_code == 200 and "59.50 EUR" in detail.content.decode()
    with CaptureQueriesContext(connection) as more:
        client.get(f"/customers/{acme.pk}/", {"po-per_page": 100})
    assert len(more) == len(queries)
