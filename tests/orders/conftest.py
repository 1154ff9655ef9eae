"""Orders fixtures: the sandbox catalog mirrored locally, users, and a PO builder."""

import importlib
from decimal import Decimal

import pytest
from django.core.cache import cache

from orders import services
from orders.models import PurchaseOrder

from .factories import CustomerFactory, in_stock_skus, mirror_sandbox_catalog


@pytest.fixture(autouse=True)
def _fast_upstream(settings):
    # Each test drives retries itself (running the task again); no client-side sleeps.
    settings.LICENDI_MAX_RETRIES = 0
    settings.PO_APPROVAL_THRESHOLD = Decimal("500.00")
    settings.PRICE_GUARD_TOLERANCE_PERCENT = Decimal("2.0")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def combos(sandbox, db):
    """Every sandbox product mirrored into catalog rows, by order sku."""
    return mirror_sandbox_catalog(sandbox)


@pytest.fixture
def stock_skus(combos):
    return in_stock_skus(combos, 10)


@pytest.fixture
def backorder_sku(sandbox, combos):
    """A sku the sandbox sells but delivers later (paid now, keys by webhook/polling)."""
    sku = next(s for s, c in sorted(combos.items()) if c.in_stock)
    sandbox.set_stock(sku, "backorder")
    combo = combos[sku]
    combo.in_stock = False  # the local catalog knows it comes later
    combo.save(update_fields=["in_stock"])
    return sku


@pytest.fixture(autouse=True)
def _roles(request):
    """Transactional tests flush the tables; put the roles back when they are missing."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps
    from django.contrib.auth.models import Group

    from backoffice.permissions import ROLES

    if Group.objects.filter(name__in=ROLES).count() < len(ROLES):
        roles_migration = importlib.import_module("backoffice.migrations.0002_roles")
        roles_migration.create_roles(apps, None)


@pytest.fixture
def buyer(user_in_role):
    return user_in_role("Buyer")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def make_po(buyer, combos):
    """make_po([(order_sku, qty), ...], customer=None) -> a draft PO with those lines."""

    def _make(lines, *, customer=None, user=None) -> PurchaseOrder:
        po = services.purchase_order_create(user=user or buyer, customer=customer)
        for sku, qty in lines:
            services.purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=qty)
        po.refresh_from_db()
        return po

    return _make


@pytest.fixture
def confirm(django_capture_on_commit_callbacks, buyer):
    """confirm(po) -> confirms it and runs what was queued on commit (the submission)."""

    def _confirm(po, *, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            outcome = services.purchase_order_confirm(purchase_order_id=po.pk, user=user or buyer)
        po.refresh_from_db()
        return outcome

    return _confirm
