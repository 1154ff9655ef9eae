"""Bulk key actions: assign stock keys to a customer, e-mail a customer's selected keys.

Each reuses its single version (one audit row per key), reports every key done or
refused with the reason, and answers bad ids with a message, never a 500."""

import pytest
from django.core import mail

from backoffice.models import AuditEvent
from orders import services
from orders.models import LicenceKey
from tests.conftest import messages_of

from .factories import CustomerFactory, DraftFactory, stock_key

pytestmark = pytest.mark.django_db
ASSIGN = "/keys/assign/"


@pytest.fixture
def make_key():
    po = DraftFactory()
    counter = iter(range(1, 1000))
    return lambda customer=None: stock_key(po, next(counter), customer)


def test_stock_keys_are_assigned_one_audit_row_each_and_the_rest_refused(make_key, user_in_role):
    buyer = user_in_role("Buyer")
    ada, bob = CustomerFactory(name="Ada"), CustomerFactory(name="Bob")
    (first, _), (second, _), (taken, _) = make_key(), make_key(), make_key(customer=bob)

    outcome = services.licence_keys_assign(
        key_ids=[first.pk, taken.pk, second.pk, 424242], customer=ada, user=buyer
    )

    assert outcome.done == [first.pk, second.pk]
    assert outcome.refused == [
        (str(taken), "This key already belongs to a customer"),
        ("#424242", "no such key"),
    ]
    assert set(LicenceKey.objects.filter(customer=ada).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    taken.refresh_from_db()
    assert taken.customer == bob
    audits = AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ASSIGN).order_by("pk")
    assert [a.details for a in audits] == [
        {"key_id": first.pk, "customer": ada.pk},
        {"key_id": second.pk, "customer": ada.pk},
    ]


def test_the_keys_page_assigns_the_selection_and_reports_refusals(make_key, client_for):
    ada = CustomerFactory(name="Ada", company="")
    key, _ = make_key()
    response = client_for("Buyer").post(
        ASSIGN, {"customer": ada.pk, "ids": [str(key.pk), "x1", "77777"]}
    )
    assert response.status_code == 302 and response["Location"] == "/keys/"
    assert messages_of(response) == [
        "1 key assigned to Ada. 2 refused: 'x1' (not an id); #77777 (no such key)."
    ]
    key.refresh_from_db()
    assert key.customer == ada


def test_assign_and_email_needs_the_key_custodian_role_and_sends_one_email(make_key, client_for):
    ada = CustomerFactory(name="Ada", company="")
    (key, clear), (_other, other_clear) = make_key(), make_key()

    refused = client_for("Buyer").post(ASSIGN, {"customer": ada.pk, "ids": [key.pk], "email": "on"})
    assert messages_of(refused) == [
        "Nothing assigned: e-mailing keys needs the Key custodian role."
    ]
    key.refresh_from_db()
    assert key.customer is None and mail.outbox == []

    response = client_for("Buyer", "Key custodian").post(
        ASSIGN, {"customer": ada.pk, "ids": [key.pk], "email": "on"}
    )
    assert messages_of(response) == [
        "1 key assigned to Ada.",
        f"1 key e-mailed to {ada.email}.",
    ]
    [message] = mail.outbox
    assert clear in message.body and other_clear not in message.body
    key.refresh_from_db()
    assert key.customer == ada and key.emailed_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_EMAIL).count() == 1


def test_bulk_assign_is_for_customer_managers_by_post_with_a_customer(make_key, client_for):
    key, _ = make_key()
    assert client_for("Viewer").post(ASSIGN, {"customer": 1, "ids": [key.pk]}).status_code == 403
    assert client_for("Buyer").get(ASSIGN).status_code == 405
    response = client_for("Buyer").post(ASSIGN, {"customer": "nobody", "ids": [key.pk]})
    assert messages_of(response) == ["Choose a customer."]
    response = client_for("Buyer").post(ASSIGN, {"customer": CustomerFactory().pk})
    assert messages_of(response) == ["Select at least one key."]
    key.refresh_from_db()
    assert key.customer is None


def test_the_keys_list_offers_selection_to_customer_managers_only(make_key, client_for):
    key, _ = make_key()
    label = f'aria-label="Select key {key.key_masked} (13200::0-0) of {key.purchase_order}"'
    html = client_for("Buyer").get("/keys/").content.decode()
    assert f'name="ids" value="{key.pk}" form="key-bulk" {label}' in html
    assert 'id="key-bulk"' in html
    viewer_html = client_for("Viewer").get("/keys/").content.decode()
    assert 'form="key-bulk"' not in viewer_html and 'id="key-bulk"' not in viewer_html


def test_a_customer_is_emailed_only_the_selected_keys_that_are_theirs(make_key, client_for):
    ada, bob = CustomerFactory(name="Ada", company=""), CustomerFactory()
    (chosen, chosen_clear), (_kept, kept_clear) = make_key(ada), make_key(ada)
    (foreign, foreign_clear) = make_key(bob)
    client = client_for("Key custodian")

    response = client.post(
        f"/customers/{ada.pk}/email-selected-keys/",
        {"ids": [chosen.pk, foreign.pk, "zz"]},
    )

    assert response.status_code == 302 and response["Location"] == f"/customers/{ada.pk}/"
    assert messages_of(response) == [
        f"1 key e-mailed to {ada.email}. 2 refused: 'zz' (not an id); "
        f"#{foreign.pk} (not a key of Ada)."
    ]
    [message] = mail.outbox
    assert chosen_clear in message.body
    assert kept_clear not in message.body and foreign_clear not in message.body
    audits = AuditEvent.objects.filter(action=AuditEvent.Action.KEY_EMAIL)
    assert [a.details["key_id"] for a in audits] == [chosen.pk]


def test_emailing_selected_keys_to_a_customer_without_address_sends_nothing(make_key, client_for):
    ada = CustomerFactory(name="Ada", email="")
    key, _ = make_key(ada)
    response = client_for("Key custodian").post(
        f"/customers/{ada.pk}/email-selected-keys/", {"ids": [key.pk]}
    )
    assert messages_of(response) == [f"No key e-mailed: {ada} has no email address"]
    assert mail.outbox == []


def test_emailing_selected_keys_needs_the_key_custodian_role(make_key, client_for):
    ada = CustomerFactory()
    key, _ = make_key(ada)
    url = f"/customers/{ada.pk}/email-selected-keys/"
    assert client_for("Buyer").post(url, {"ids": [key.pk]}).status_code == 403
    assert (
        client_for("Key custodian").post("/customers/999999/email-selected-keys/").status_code
        == 404
    )
    assert mail.outbox == []


def test_a_customers_page_leads_to_the_stock_with_the_customer_chosen(make_key, client_for):
    ada = CustomerFactory(name="Ada", company="")
    make_key()
    client = client_for("Buyer")
    page = client.get(f"/customers/{ada.pk}/").content.decode()
    assert f'href="/keys/?customer={ada.pk}"' in page
    stock = client.get("/keys/", {"customer": str(ada.pk)}).content.decode()
    assert f'<option value="{ada.pk}" selected>Ada</option>' in stock
    assert client.get("/keys/", {"customer": "x" * 50}).status_code == 200
