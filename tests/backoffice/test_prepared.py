"""A prepared read runs SQL compiled once and gives what its QuerySet gives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from backoffice.prepared import PreparedValues
from wallet import selectors
from wallet.models import BalanceSnapshot, SyncStatus

pytestmark = pytest.mark.django_db


def _latest() -> PreparedValues:
    return PreparedValues(
        lambda: BalanceSnapshot.objects.order_by("-recorded_at", "-id").values(
            "balance", "currency", "recorded_at"
        )[:1]
    )


def test_rows_are_the_queryset_s_read_again_on_every_call(monkeypatch):
    prepared = _latest()
    assert prepared.rows() == []
    now = timezone.now()
    BalanceSnapshot.objects.create(balance=Decimal("10.50"), recorded_at=now - timedelta(hours=1))
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    first = prepared.rows()
    BalanceSnapshot.objects.create(balance=Decimal("7.25"), currency="USD", recorded_at=now)
    second = prepared.rows()
    assert compiled == []  # compiled on the first call above, before the patch
    earlier = now - timedelta(hours=1)
    assert first == [{"balance": Decimal("10.50"), "currency": "EUR", "recorded_at": earlier}]
    assert second == [{"balance": Decimal("7.25"), "currency": "USD", "recorded_at": now}]
    assert second == list(_latest()._build())


def test_wallet_banner_state_is_the_orm_s_answer():
    now = timezone.now()
    assert selectors.wallet_banner_state() is None
    BalanceSnapshot.objects.create(balance=Decimal("99.99"), recorded_at=now)
    SyncStatus.objects.update_or_create(
        pk=SyncStatus.SINGLETON_PK, defaults={"last_success_at": now + timedelta(minutes=1)}
    )
    state = selectors.wallet_banner_state()
    assert state == selectors._wallet_banner_query().first()
    assert state is not None
    assert state["open_gaps"] == 0
    assert state["synced_at"] == now + timedelta(minutes=1)
    assert isinstance(state["balance"], Decimal)
