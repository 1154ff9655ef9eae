"""Pages that follow background work in a real browser (Debian chromium, live server):
the PO page turns delivered and a sync run appears and progresses, without a reload."""

import uuid

import pytest

from backoffice.celery import app as celery_app
from catalog.models import SyncRun
from catalog.services import catalog_sync
from orders import services as orders
from orders.models import PurchaseOrder
from tests.orders.factories import in_stock_skus, mirror_sandbox_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

S = PurchaseOrder.Status


@pytest.fixture
def no_worker():
    """Tasks go to the (test) broker and wait there, as with a worker not started yet."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
        celery_app.control.purge()


def mark_page(page) -> None:
    """A flag a reload would lose: proves the page changed in place."""
    page.evaluate("() => { window.__notReloaded = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.__notReloaded === true")


def test_the_po_page_turns_delivered_without_a_reload(
    page, login, live_url, roles, user_in_role, sandbox, problems
):
    buyer = user_in_role("Buyer")
    sku = in_stock_skus(mirror_sandbox_catalog(sandbox), 1)[0]
    po = orders.purchase_order_create(user=buyer, customer=None)
    orders.purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=1)
    # Confirmed and waiting for a worker (what the confirmation commits before queueing).
    PurchaseOrder.objects.filter(pk=po.pk).update(
        status=S.QUEUED, external_id=f"PO-E2E-{po.pk}", idempotency_key=uuid.uuid4()
    )

    login(page, user_in_role("Viewer"))
    page.goto(live_url(f"/orders/{po.pk}/"))
    assert page.locator("#po-status").get_attribute("data-status") == S.QUEUED
    assert page.locator("#po-live").get_attribute("data-in-flight") == "true"
    mark_page(page)

    # The worker sends it: the sandbox delivers an in-stock product at once.
    orders.purchase_order_submit(purchase_order_id=po.pk)

    page.wait_for_selector('#po-status[data-status="delivered"]')
    assert not_reloaded(page)
    assert page.locator("#po-live").get_attribute("data-in-flight") == "false"
    assert page.locator("#po-live").get_attribute("hx-trigger") is None
    assert page.locator("#po-keys tbody tr[data-key]").count() == 1
    assert problems == []


def test_a_sync_run_appears_and_progresses_without_a_reload(
    page, login, live_url, roles, user_in_role, sandbox, no_worker, problems
):
    login(page, user_in_role("Buyer"))
    page.goto(live_url("/catalog/syncs/"))
    page.click("#sync-now-form button")
    page.wait_for_selector("#sync-queued")
    mark_page(page)

    seen_running: list[int] = []

    def while_running(run: SyncRun) -> None:
        # Once, mid-run: the browser shows the run with its progress before it ends.
        if run.phase == SyncRun.Phase.DETAILS and not seen_running:
            seen_running.append(run.pk)
            card = page.wait_for_selector(
                f'#sync-progress[data-run="{run.pk}"][data-status="running"]'
            )
            assert "running" in card.inner_text()

    # What the worker does with the queued task.
    run = catalog_sync(trigger=SyncRun.Trigger.MANUAL, progress=while_running)

    assert seen_running == [run.pk] and run.status == SyncRun.Status.SUCCEEDED
    page.wait_for_selector(f'#sync-progress[data-run="{run.pk}"][data-status="succeeded"]')
    assert not_reloaded(page)
    assert page.locator("#sync-live").get_attribute("data-polling") == "false"
    assert page.locator("#sync-queued").count() == 0
    assert problems == []


def test_the_pricing_rule_form_previews_its_impact_before_saving(
    page, login, live_url, roles, user_in_role, settings, problems
):
    from decimal import Decimal

    from catalog.models import Combination, PricingRule
    from catalog.services import pricing_apply
    from tests.catalog.factories import CategoryFactory, CombinationFactory, ProductFactory

    settings.MIN_MARGIN_PERCENT = Decimal("10")
    office = CategoryFactory(name="Office")
    for _ in range(3):
        CombinationFactory(
            product=ProductFactory(category=office),
            net_price=Decimal("10.00"),
            price=Decimal("12.00"),
        )
    pricing_apply()
    before = sorted(Combination.objects.values_list("pk", "selling_price"))

    login(page, user_in_role("Admin"))
    page.goto(live_url("/catalog/pricing-rules/new/"))
    page.select_option("#id_scope", "category")
    page.select_option("#id_category", str(office.pk))
    page.select_option("#id_kind", "markup_percent")
    page.fill("#id_value", "5")
    mark_page(page)
    page.click("#rule-preview-button")

    page.wait_for_selector("#preview-changed")
    assert page.inner_text("#preview-changed") == "3"
    assert page.inner_text("#preview-below-min") == "3"
    assert not_reloaded(page)
    assert not PricingRule.objects.exists()
    assert sorted(Combination.objects.values_list("pk", "selling_price")) == before
    assert problems == []
