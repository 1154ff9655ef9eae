"""No secret shows up in a page that does not exist to show it, nor in a table export.

With a licence key stored (encrypted) and assigned to a customer, a webhook endpoint
whose secret is stored (encrypted), and made-up values for every secret setting, every
page an Admin can open is rendered, and every table page is exported as CSV: none of
the clear values appears. The one exception is the customer's key export, a key export.
"""

import pytest
from django.test import Client
from django.urls import reverse

from backoffice import crypto
from backoffice.lists import list_pages
from tests.conftest import make_user
from tests.test_url_permissions import EXPECTED, SAMPLES, project_urls

pytestmark = pytest.mark.django_db

LICENCE_KEY = "ZK4QX-PL9ZM-4RTV8-WN3YB"
API_KEY = "lk_live_pagecheck_0f1e2d3c4b5a6978"
HASH_SECRET = "key-hash-secret-pagecheck-778899"
KEY_EXPORTS = {"orders:customer_keys_export"}


@pytest.fixture
def secrets_everywhere(settings):
    from cryptography.fernet import Fernet

    fernet_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [fernet_key]
    settings.LICENDI_API_KEY = API_KEY
    settings.KEY_HASH_SECRET = HASH_SECRET
    values = {
        "licence key": LICENCE_KEY,
        "API key": API_KEY,
        "field encryption key": fernet_key,
        "key hash secret": HASH_SECRET,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    samples: dict = {}
    orders = pytest.importorskip("orders.models")
    from tests.orders.factories import CustomerFactory, DraftFactory

    customer = CustomerFactory()
    po = DraftFactory()
    key = orders.LicenceKey.objects.create(
        purchase_order=po,
        order_sku="PAGECHECK-SKU",
        **crypto.key_columns(LICENCE_KEY),
        source=orders.LicenceKey.Source.RESPONSE,
        customer=customer,
    )
    samples["customer"] = {"pk": customer.pk}
    samples["po"] = {"pk": po.pk}
    samples["key"] = {"pk": key.pk}
    try:
        from tests.webhooks.factories import WebhookEndpointFactory, new_secret
    except ImportError:
        pass
    else:
        secret = new_secret()
        WebhookEndpointFactory(secret=secret)
        values["webhook secret"] = secret
    return values, samples


def _kwargs(url_name: str, samples: dict) -> dict:
    if "<" not in project_urls()[url_name]:
        return {}
    if url_name.startswith("orders:customer_"):
        return samples["customer"]
    if url_name.startswith("orders:po_"):
        return samples["po"]
    if url_name.startswith("orders:key_"):
        return samples["key"]
    if url_name not in SAMPLES:
        return {}
    builder = SAMPLES[url_name]
    if builder not in samples:  # one object per kind, shared by its pages
        samples[builder] = builder()
    return samples[builder]


def _admin_pages() -> list[str]:
    return sorted(
        name
        for name, rule in EXPECTED.items()
        if name in project_urls() and rule.perms and rule.ok == 200 and name not in KEY_EXPORTS
    )


def test_no_page_or_export_shows_a_secret(secrets_everywhere):
    values, samples = secrets_everywhere
    client = Client()
    client.force_login(make_user("page-admin", "Admin"))
    exports = {name for name, view in list_pages().items() if view.export_filename}
    leaks, rendered = [], 0
    for url_name in _admin_pages():
        url = reverse(url_name, kwargs=_kwargs(url_name, samples))
        requests = [("page", lambda url=url: client.get(url))]
        if url_name in exports:
            requests.append(("csv export", lambda url=url: client.post(url, {"_export": "csv"})))
        for what, send in requests:
            response = send()
            assert response.status_code == 200, f"{url_name} {what}"
            rendered += 1
            text = b"".join(response).decode(errors="replace")
            leaks += [
                f"{url_name} {what}: {label}" for label, value in values.items() if value in text
            ]
    assert exports, "the list pages offer exports"
    assert rendered >= len(_admin_pages()) + len(exports)
    assert not leaks, leaks


def test_a_page_showing_the_key_shows_it_masked(secrets_everywhere):
    _, samples = secrets_everywhere
    client = Client()
    client.force_login(make_user("page-viewer", "Viewer"))
    body = client.get(reverse("orders:customer_detail", kwargs=samples["customer"]))
    assert body.status_code == 200
    text = body.content.decode()
    assert LICENCE_KEY not in text
    assert crypto.mask(LICENCE_KEY) in text


def test_a_stored_key_keeps_no_column_in_the_clear():
    columns = crypto.key_columns(f"  {LICENCE_KEY}")
    assert LICENCE_KEY not in "".join(columns.values())
    assert crypto.decrypt(columns["key_encrypted"]) == f"  {LICENCE_KEY}"
    # The same key with transport whitespace is found again by its hash.
    assert columns["key_hash"] == crypto.keyed_hash(LICENCE_KEY)
    assert columns["key_masked"] == crypto.mask(LICENCE_KEY)
    assert crypto.key_columns(LICENCE_KEY, digest="known")["key_hash"] == "known"
