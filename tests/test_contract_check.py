"""`manage.py licendi_contract_check` against the sandbox's /api/openapi."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_no_drift_against_the_sandbox_spec(sandbox, capsys):
    call_command("licendi_contract_check")
    assert "No drift" in capsys.readouterr().out


def test_drift_is_listed_and_fails_the_command(sandbox, monkeypatch, capsys):
    from licendi import LicendiClient

    original = LicendiClient.get_openapi

    def without_net_price(self):
        spec = original(self)
        product = spec["components"]["schemas"]["Product"]
        product["properties"].pop("netPrice")
        return spec

    monkeypatch.setattr(LicendiClient, "get_openapi", without_net_price)
    with pytest.raises(CommandError, match="differ upstream"):
        call_command("licendi_contract_check")
    assert "netPrice" in capsys.readouterr().out


def test_unreachable_upstream_is_a_clear_error(settings):
    settings.LICENDI_BASE_URL = "http://127.0.0.1:9"
    settings.LICENDI_MAX_RETRIES = 0
    with pytest.raises(CommandError, match="Could not read the upstream OpenAPI document"):
        call_command("licendi_contract_check")


def test_without_an_upstream_spec_the_served_shapes_are_still_compared(settings, capsys):
    from backoffice.upstream import use_transport
    from sandbox import Sandbox
    from tests.conftest import SANDBOX_API_KEY

    drifting = Sandbox(products=60, seed=7, api_key=SANDBOX_API_KEY, drift=True)
    drifting.faults.inject(method="GET", path="/api/openapi", kind="status", status=404, times=5)
    settings.LICENDI_BASE_URL = "http://sandbox.test"
    settings.LICENDI_API_KEY = SANDBOX_API_KEY
    settings.LICENDI_MAX_RETRIES = 0
    with use_transport(drifting.transport()), pytest.raises(CommandError, match="differ"):
        call_command("licendi_contract_check")

    out = capsys.readouterr().out
    assert "Upstream spec: not compared" in out
    assert "GET /api/products: coercion items[].inStock (number -> boolean)" in out
    assert "GET /api/products: unknown field items[].ean" in out
    assert 'GET /api/balance: coercion ledger (ledger under "entries")' in out
    assert "unreadable" in out  # a broken record among the first 50


def test_shapes_seen_earlier_and_not_looked_at_are_reported(sandbox, capsys):
    from backoffice.upstream_problems import drift_record
    from licendi import ShapeNote

    drift_record(
        notes=[
            ShapeNote(
                endpoint="GET /api/balance",
                kind="unknown_field",
                field="credit",
                detail="",
                count=4,
                example="10.00",
            )
        ]
    )
    with pytest.raises(CommandError):
        call_command("licendi_contract_check", "--no-probe")
    assert "earlier: GET /api/balance: unknown field credit" in capsys.readouterr().out
