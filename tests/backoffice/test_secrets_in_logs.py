"""Real flows against the sandbox, logged at DEBUG by every logger: the code itself never
writes the API key, a licence key or a webhook secret (checked before any redaction)."""

import io
import logging

import pytest

from backoffice import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def raw_debug_log():
    """Everything logged, unfiltered: what the code wrote, not what redaction left."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_upstream_calls_never_log_the_api_key(sandbox, settings, raw_debug_log):
    from backoffice.upstream import licendi_client

    with licendi_client() as client:
        client.get_balance()
        client.list_products(page_size=5)

    output = raw_debug_log.getvalue()
    assert output  # the calls were logged at all
    assert settings.LICENDI_API_KEY not in output


def test_revealing_and_exporting_keys_never_logs_them(client_for, raw_debug_log):
    orders = pytest.importorskip("orders.models")
    from django.urls import reverse

    from tests.orders.factories import CustomerFactory, DraftFactory

    licence_key = "LG7QX-PL9ZM-4RTV8-WN3YB"
    customer = CustomerFactory()
    key = orders.LicenceKey.objects.create(
        purchase_order=DraftFactory(),
        order_sku="LOG-SKU",
        **crypto.key_columns(licence_key),
        source=orders.LicenceKey.Source.RESPONSE,
        customer=customer,
    )
    custodian = client_for("Key custodian")

    assert custodian.post(reverse("orders:key_reveal", args=[key.pk])).status_code == 200
    exported = custodian.post(reverse("orders:customer_keys_export", args=[customer.pk]))
    assert exported.status_code == 200

    assert licence_key not in raw_debug_log.getvalue()
