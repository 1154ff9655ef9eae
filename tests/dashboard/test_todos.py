"""The home page's to-dos: each appears with its count, links to a page filtered to
exactly the rows it counts, and clears when the state that caused it is resolved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Combination
from dashboard import todos
from orders.models import PurchaseOrder
from tests.conftest import make_user
from tests.webhooks.factories import WebhookEventFactory
from wallet.models import Gap
from webhooks.models import WebhookEvent

from . import builders as b

pytestmark = pytest.mark.django_db

S = PurchaseOrder.Status
HOUR = timedelta(hours=1)


def _table_pks(response) -> set[int]:
    """The rows the page's table holds after its filters (every page, not only the first)."""
    return {record.pk for record in response.context["table"].data}


def _todo(client: Client, key: str) -> todos.TodoItem | None:
    response = client.get("/")
    assert response.status_code == 200
    return next((t for t in response.context["todos"] if t.key == key), None)


# Each scenario makes the rows a to-do counts plus look-alikes it must not count, and
# returns (counted rows, a function that resolves them).
Scenario = Callable[[], tuple[list, Callable[[], None]]]


def _set_status(rows, status) -> Callable[[], None]:
    def resolve() -> None:
        type(rows[0]).objects.filter(pk__in=[r.pk for r in rows]).update(status=status)

    return resolve


def unknown_pos():
    rows = [b.po(S.UNKNOWN), b.po(S.UNKNOWN, ago=3 * HOUR)]
    b.po(S.FAILED)
    b.po(S.HELD)
    return rows, _set_status(rows, S.DELIVERED)


def held_pos():
    rows = [b.po(S.HELD)]
    b.po(S.UNKNOWN)
    return rows, _set_status(rows, S.CANCELLED)


def overdue_deliveries():
    rows = [b.po(S.PENDING_DELIVERY, ago=3 * HOUR), b.po(S.PARTIALLY_DELIVERED, ago=30 * HOUR)]
    b.po(S.PENDING_DELIVERY, ago=timedelta(minutes=10))  # within the bound
    b.po(S.DELIVERED, ago=5 * HOUR)
    return rows, _set_status(rows, S.DELIVERED)


def failed_events():
    rows = [WebhookEventFactory(status=WebhookEvent.Status.FAILED) for _ in range(3)]
    WebhookEventFactory(status=WebhookEvent.Status.PROCESSED)
    WebhookEventFactory(status=WebhookEvent.Status.WAITING)
    return rows, _set_status(rows, WebhookEvent.Status.PROCESSED)


def waiting_events():
    rows = [WebhookEventFactory(status=WebhookEvent.Status.WAITING)]
    WebhookEventFactory(status=WebhookEvent.Status.FOREIGN)
    WebhookEventFactory(status=WebhookEvent.Status.FAILED)
    return rows, _set_status(rows, WebhookEvent.Status.PROCESSED)


def margin_drops():
    rows = [
        b.combination(margin_percent="4.00", changed_ago=2 * HOUR),
        b.combination(margin_percent=None, changed_ago=HOUR),  # selling price 0
    ]
    b.combination(margin_percent="4.00", changed_ago=timedelta(days=3))  # old news
    b.combination(margin_percent="25.00", changed_ago=HOUR)  # still healthy
    b.combination(margin_percent="4.00", changed_ago=HOUR, active=False)  # not sold

    def resolve() -> None:
        Combination.objects.filter(pk__in=[r.pk for r in rows]).update(
            margin_percent=Decimal("30.00")
        )

    return rows, resolve


def unexpected_keys():
    from orders.models import UnexpectedKey

    rows = [b.po(S.DELIVERED), b.po(S.PENDING_DELIVERY)]
    decided = b.po(S.DELIVERED)
    b.po(S.DELIVERED)  # nothing unexpected
    for n, po in enumerate([rows[0], rows[0], rows[1], decided]):
        UnexpectedKey.objects.create(
            purchase_order=po,
            order_sku="NOT-ORDERED",
            reason=UnexpectedKey.Reason.UNKNOWN_SKU,
            key_encrypted="token",
            key_hash=f"hash-{n}",
            key_masked="****",
            source="webhook",
            decision=UnexpectedKey.Decision.DISMISSED if po is decided else "",
        )

    def resolve() -> None:
        UnexpectedKey.objects.update(decision=UnexpectedKey.Decision.KEPT)

    return rows, resolve


def pos_for_review():
    rows = [b.po(S.PENDING_DELIVERY, needs_review=True), b.po(S.DELIVERED, needs_review=True)]
    b.po(S.DELIVERED)

    def resolve() -> None:
        PurchaseOrder.objects.update(needs_review=False)

    return rows, resolve


EXACT: dict[str, Scenario] = {
    "unexpected_keys": unexpected_keys,
    "po_review": pos_for_review,
    "po_unknown": unknown_pos,
    "po_held": held_pos,
    "delivery_overdue": overdue_deliveries,
    "webhooks_failed": failed_events,
    "webhooks_waiting": waiting_events,
    "margin_drops": margin_drops,
}


@pytest.mark.parametrize("key", sorted(EXACT))
def test_todo_counts_its_rows_links_to_exactly_them_and_clears(key, admin_client, settings):
    settings.PENDING_DELIVERY_ALERT_HOURS = 2
    settings.MIN_MARGIN_PERCENT = Decimal("10.0")
    assert _todo(admin_client, key) is None

    rows, resolve = EXACT[key]()

    todo = _todo(admin_client, key)
    assert todo is not None and todo.count == len(rows)
    page = admin_client.get(todo.url)
    assert page.status_code == 200
    assert _table_pks(page) == {row.pk for row in rows}
    assert f'data-todo="{key}"' in admin_client.get("/").content.decode()

    resolve()
    assert _todo(admin_client, key) is None


def test_awaiting_approval_counts_only_what_i_may_approve(user_in_role, client):
    approver = user_in_role("Buyer", "Approver")
    mine = b.po(S.AWAITING_APPROVAL, confirmed_by=approver)
    theirs = [b.po(S.AWAITING_APPROVAL), b.po(S.AWAITING_APPROVAL, created_by=user_in_role())]
    b.po(S.QUEUED)
    client.force_login(approver)

    todo = _todo(client, "approval")
    assert todo is not None and todo.count == 2
    listed = _table_pks(client.get(todo.url))
    # The list shows every PO awaiting approval (the ones I confirmed too: I cannot act
    # on those, and they are not counted); it shows nothing else.
    assert listed == {mine.pk} | {po.pk for po in theirs}
    assert set(todos.purchase_orders_awaiting_approval_by(approver)) == set(theirs)

    PurchaseOrder.objects.filter(pk__in=[po.pk for po in theirs]).update(status=S.QUEUED)
    assert _todo(client, "approval") is None


def test_open_ledger_gaps_link_to_the_gaps_page_listing_them(admin_client):
    assert _todo(admin_client, "ledger_gaps") is None
    open_gaps = [b.gap(), b.gap(amount="12.00")]
    closed = b.gap(status=Gap.Status.CLOSED)

    todo = _todo(admin_client, "ledger_gaps")
    assert todo is not None and todo.count == 2
    page = admin_client.get(todo.url)
    listed = [record.pk for record in page.context["table"].data]
    # The gaps page lists open gaps first, then the closed ones for the record.
    assert set(listed[:2]) == {g.pk for g in open_gaps} and listed[2:] == [closed.pk]

    Gap.objects.filter(status=Gap.Status.OPEN).update(
        status=Gap.Status.CLOSED, closed_at=closed.closed_at
    )
    assert _todo(admin_client, "ledger_gaps") is None


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("Viewer", set()),
        ("Approver", {"approval", "unexpected_keys"}),
        (
            "Buyer",
            {"po_unknown", "po_held", "delivery_overdue", "po_review", "upstream_quarantine"},
        ),
        ("Finance", {"ledger_gaps", "upstream_quarantine"}),
        ("Admin", {t.key for t in todos.TODOS}),
    ],
)
def test_each_role_sees_only_the_todos_it_can_act_on(role, visible, client_for, settings):
    settings.PENDING_DELIVERY_ALERT_HOURS = 2
    b.po(S.AWAITING_APPROVAL)
    b.po(S.UNKNOWN)
    b.po(S.HELD)
    b.po(S.PENDING_DELIVERY, ago=5 * HOUR)
    b.gap()
    WebhookEventFactory(status=WebhookEvent.Status.FAILED)
    WebhookEventFactory(status=WebhookEvent.Status.WAITING)
    b.combination(margin_percent="1.00", changed_ago=HOUR)
    b.quarantined_sync_run(refs=["sku-1"], ago=HOUR)
    pos_for_review()
    unexpected_keys()

    response = client_for(role).get("/")
    assert {t.key for t in response.context["todos"]} == visible
    if not visible:
        assert "Nothing needs you right now." in response.content.decode()


def test_a_new_todo_is_one_registry_entry():
    user = make_user("todo-extender", "Viewer")
    extra = todos.Todo(
        "quarantined",
        "Upstream records in quarantine",
        "backoffice.view_backoffice",
        lambda user: todos.TodoCount(4, "/catalog/"),
    )
    items = todos.todos_for(user, registry=(*todos.TODOS, extra))
    assert [(i.key, i.count, i.url) for i in items] == [("quarantined", 4, "/catalog/")]


def test_the_live_part_renders_alone_for_polling(admin_client):
    b.po(S.HELD)
    response = admin_client.get("/dashboard/live/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard-live"')
    assert 'hx-get="/dashboard/live/"' in body and 'data-todo="po_held"' in body
    assert "<html" not in body


@pytest.mark.parametrize("value", ["abc", "-3", "1e400", "99999999", "2;drop"])
def test_the_overdue_filter_refuses_what_is_not_a_sane_number_of_hours(value, admin_client):
    b.po(S.PENDING_DELIVERY, ago=3 * HOUR)
    b.po(S.DELIVERED)
    response = admin_client.get("/orders/", {"awaiting_keys_hours": value})
    assert response.status_code == 200
    # Shown as a form error, with no rows rather than rows the filter did not select.
    assert response.context["filter"].errors
    assert _table_pks(response) == set()
    assert len(_table_pks(admin_client.get("/orders/", {"awaiting_keys_hours": ""}))) == 2


def test_records_the_last_sync_quarantined_link_to_them_and_clear_with_the_next_run(
    admin_client,
):
    b.quarantined_sync_run(refs=["old-1"], ago=2 * HOUR)
    b.quarantined_sync_run(refs=["sku-1", "sku-2"], ago=HOUR)

    todo = _todo(admin_client, "upstream_quarantine")
    assert todo is not None and todo.count == 2
    page = admin_client.get(todo.url)
    assert page.status_code == 200
    listed = {record.ref for record in page.context["quarantine_table"].data}
    assert listed == {"sku-1", "sku-2"}

    b.quarantined_sync_run(refs=[], ago=timedelta(minutes=1))  # the next sync read everything
    assert _todo(admin_client, "upstream_quarantine") is None
