"""`manage.py licendi_contract_check` against the sandbox's /api/openapi."""

import pytest
from django.core.management import CommandError, call_command


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
    with pytest.raises(CommandError, match="missing upstream"):
        call_command("licendi_contract_check")
    assert "netPrice" in capsys.readouterr().out


def test_unreachable_upstream_is_a_clear_error(settings):
    settings.LICENDI_BASE_URL = "http://127.0.0.1:9"
    settings.LICENDI_MAX_RETRIES = 0
    with pytest.raises(CommandError, match="Could not read the upstream OpenAPI document"):
        call_command("licendi_contract_check")
