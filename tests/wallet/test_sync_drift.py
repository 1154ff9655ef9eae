"""The wallet against a drifting supplier: a renamed ledger is mirrored, never empty."""

from __future__ import annotations

import pytest

from backoffice.models import DriftObservation
from wallet import services
from wallet.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifting(settings):
    from backoffice.upstream import use_transport
    from sandbox import Sandbox
    from tests.conftest import SANDBOX_API_KEY

    sandbox = Sandbox(products=60, seed=7, api_key=SANDBOX_API_KEY, drift=True)
    settings.LICENDI_BASE_URL = "http://sandbox.test"
    settings.LICENDI_API_KEY = SANDBOX_API_KEY
    with use_transport(sandbox.transport()):
        yield sandbox


def test_a_ledger_under_another_name_is_mirrored_and_the_drift_counted(drifting):
    drifting.topup(100)
    drifting.adjust(-5)

    result = services.wallet_sync()

    upstream = [entry["id"] for entry in drifting.ledger]
    assert result.read == len(upstream) == 3
    assert sorted(LedgerEntry.objects.values_list("upstream_id", flat=True)) == sorted(upstream)
    drift = {(o.kind, o.field, o.detail) for o in DriftObservation.objects.all()}
    assert ("coercion", "ledger", 'ledger under "entries"') in drift
    assert ("coercion", "entries[].amount", "number -> decimal") in drift
