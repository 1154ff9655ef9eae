"""The spend guard: each refusal has its stable code and leaves nothing behind; a
purchase above the client's threshold waits for an Approver; caps hold under a race."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from channel import services
from channel.models import Fulfilment
from orders import services as orders
from orders.models import LicenceKey, PurchaseOrder

from .conftest import add_stock_keys, order_body, paid

URL = "/channel/v1/fulfilments"


@pytest.fixture
def post(shop_api, django_capture_on_commit_callbacks):
    def _post(body, key="key-1", api=None):
        with django_capture_on_commit_callbacks(execute=True):
            return (api or shop_api).post(
                URL, body, content_type="application/json", headers={"Idempotency-Key": key}
            )

    return _post


def assert_refused(response, code, status=422):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert Fulfilment.objects.count() == 0
    assert not LicenceKey.objects.filter(customer__isnull=False).exists()
    assert PurchaseOrder.objects.exclude(status="draft").count() == 0


@pytest.mark.django_db
def test_unknown_sku(sandbox, combos, post):
    assert_refused(post(order_body([("NO-SUCH-SKU", 1, "10.00")])), "unknown_sku")


@pytest.mark.django_db
def test_a_sku_no_longer_sold_is_unknown(sandbox, combos, in_stock, post):
    from catalog.models import Combination

    Combination.objects.filter(order_sku=in_stock[0]).update(is_active=False)
    assert_refused(post(order_body([(in_stock[0], 1, "99.00")])), "unknown_sku")


@pytest.mark.django_db
def test_below_margin_floor(sandbox, combos, in_stock, post):
    combo = combos[in_stock[0]]
    floor = (combo.net_price * Decimal("1.05")).quantize(Decimal("0.01"))
    assert_refused(
        post(order_body([(combo.order_sku, 1, floor - Decimal("0.01"))])), "below_margin_floor"
    )
    add_stock_keys(combo.order_sku, 1)
    assert post(order_body([(combo.order_sku, 1, floor)]), key="at-floor").status_code == 201


@pytest.mark.django_db
def test_order_cap_exceeded(sandbox, combos, in_stock, make_shop, post):
    from .conftest import bearer

    combo = combos[in_stock[0]]
    issued = make_shop(order_spend_cap=combo.net_price * 2 - Decimal("0.01"))
    add_stock_keys(combo.order_sku, 2)
    response = post(order_body([(combo.order_sku, 2, paid(combo))]), api=bearer(issued.token))
    assert_refused(response, "order_cap_exceeded")


@pytest.mark.django_db
def test_daily_cap_exceeded_counts_the_day_s_fulfilments(
    sandbox, combos, in_stock, make_shop, post
):
    from .conftest import bearer

    combo = combos[in_stock[0]]
    issued = make_shop(daily_spend_cap=combo.net_price * 3)
    api = bearer(issued.token)
    add_stock_keys(combo.order_sku, 4)
    assert (
        post(order_body([(combo.order_sku, 2, paid(combo))]), key="a", api=api).status_code == 201
    )
    second = post(order_body([(combo.order_sku, 2, paid(combo))]), key="b", api=api)
    assert second.status_code == 422
    assert second.json()["error"]["code"] == "daily_cap_exceeded"
    assert (
        post(order_body([(combo.order_sku, 1, paid(combo))]), key="c", api=api).status_code == 201
    )


@pytest.mark.django_db
def test_out_of_stock_everywhere(sandbox, combos, out_of_stock, post):
    combo = combos[out_of_stock[0]]
    assert_refused(post(order_body([(combo.order_sku, 1, paid(combo))])), "out_of_stock")


@pytest.mark.django_db
def test_out_of_stock_with_a_line_from_stock_gives_the_stock_key_back(
    sandbox, combos, in_stock, out_of_stock, post
):
    ok, missing = combos[in_stock[0]], combos[out_of_stock[0]]
    add_stock_keys(ok.order_sku, 1)
    response = post(
        order_body([(ok.order_sku, 1, paid(ok)), (missing.order_sku, 1, paid(missing))])
    )
    assert_refused(response, "out_of_stock")
    assert LicenceKey.objects.filter(order_sku=ok.order_sku, customer__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_client_allowed_to_wait_buys_what_licendi_lacks(
    sandbox, combos, out_of_stock, make_shop, post
):
    from .conftest import bearer

    combo = combos[out_of_stock[0]]
    api = bearer(make_shop(allow_out_of_stock=True).token)
    response = post(order_body([(combo.order_sku, 1, paid(combo))]), api=api)
    assert response.status_code == 202
    assert response.json()["state"] in {"pending", "awaiting_approval"}


@pytest.mark.django_db
def test_a_purchase_above_the_threshold_waits_for_an_approver(
    sandbox, combos, in_stock, make_shop, post, user_in_role, django_capture_on_commit_callbacks
):
    from .conftest import bearer

    combo = combos[in_stock[0]]
    issued = make_shop(approval_threshold=combo.net_price - Decimal("0.01"))
    api = bearer(issued.token)
    response = post(order_body([(combo.order_sku, 1, paid(combo))]), api=api)
    assert response.status_code == 202
    assert response.json()["state"] == "awaiting_approval"
    fulfilment = Fulfilment.objects.get(pk=response.json()["id"])
    po = fulfilment.purchase_order
    assert po.status == PurchaseOrder.Status.AWAITING_APPROVAL
    assert po.total < Decimal("500.00")  # below the global threshold: the client's rule
    assert sandbox.orders == {}

    with django_capture_on_commit_callbacks(execute=True):
        orders.purchase_order_approve(purchase_order_id=po.pk, user=user_in_role("Approver"))
    got = api.get(response.json()["url"]).json()
    assert got["state"] == "delivered" and len(got["keys"]) == 1


@pytest.mark.django_db
def test_a_rejected_purchase_fails_the_fulfilment(
    sandbox, combos, in_stock, make_shop, post, user_in_role, django_capture_on_commit_callbacks
):
    from .conftest import bearer

    combo = combos[in_stock[0]]
    api = bearer(make_shop(approval_threshold=Decimal("0.00")).token)
    response = post(order_body([(combo.order_sku, 1, paid(combo))]), api=api)
    po = Fulfilment.objects.get(pk=response.json()["id"]).purchase_order
    with django_capture_on_commit_callbacks(execute=True):
        orders.purchase_order_reject(purchase_order_id=po.pk, user=user_in_role("Approver"))
    got = api.get(response.json()["url"]).json()
    assert got["state"] == "failed" and got["error"]["code"] == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_fulfilments_cannot_both_pass_the_daily_cap(sandbox, make_shop):
    from catalog.models import Combination

    from .conftest import mirror_and_price

    mirror_and_price(sandbox)
    combo = Combination.objects.filter(in_stock=True).order_by("net_price", "pk").first()
    issued = make_shop(daily_spend_cap=combo.net_price * 3, order_spend_cap=combo.net_price * 2)
    add_stock_keys(combo.order_sku, 4)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def fulfil(n: int) -> None:
        try:
            barrier.wait()
            outcomes.append(
                services.fulfilment_create(
                    client_id=issued.client.pk,
                    idempotency_key=f"race-{n}",
                    request=services.FulfilmentRequest(
                        shop_order_id=f"race-{n}",
                        customer_email=f"race{n}@example.com",
                        customer_name="Racer",
                        lines=(services.LineRequest(combo.order_sku, 2, paid(combo)),),
                    ),
                ).status
            )
        except services.Refused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=fulfil, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, outcomes)) == ["201", "daily_cap_exceeded"]
    assert Fulfilment.objects.count() == 1
    assert LicenceKey.objects.filter(customer__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_request_sent_twice_at_once_is_stored_and_bought_once(sandbox, make_shop):
    from catalog.models import Combination

    from .conftest import mirror_and_price

    mirror_and_price(sandbox)
    combo = Combination.objects.filter(in_stock=True).order_by("net_price", "pk").first()
    issued = make_shop()
    add_stock_keys(combo.order_sku, 3)
    request = services.FulfilmentRequest(
        shop_order_id="twice",
        customer_email="twice@example.com",
        customer_name="Twice",
        lines=(services.LineRequest(combo.order_sku, 1, paid(combo)),),
    )
    barrier = threading.Barrier(2)
    answers: list[tuple[int, int, bool]] = []

    def send() -> None:
        try:
            barrier.wait()
            answer = services.fulfilment_create(
                client_id=issued.client.pk, idempotency_key="same", request=request
            )
            answers.append((answer.status, answer.fulfilment.pk, answer.replayed))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    assert {(status, pk) for status, pk, _ in answers} == {(201, Fulfilment.objects.get().pk)}
    assert sorted(replayed for _, _, replayed in answers) == [False, True]
    assert LicenceKey.objects.filter(customer__isnull=False).count() == 1
