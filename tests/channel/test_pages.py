"""The Admin pages: create a client (token shown once), rotate, revoke, limits, calls."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.models import AuditEvent
from channel.models import ApiClient

from .conftest import bearer

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Woo shop",
    "actions": ["offers:read", "fulfilments:write", "fulfilments:read"],
    "daily_spend_cap": "500.00",
    "order_spend_cap": "100.00",
    "margin_floor_percent": "5",
    "approval_threshold": "80.00",
    "callback_url": "https://shop.example/hooks/backoffice",
}


def _shown_token(html: str) -> str:
    start = html.index('id="new-token-value"')
    return html[html.index(">", start) + 1 : html.index("</code>", start)]


def test_admin_creates_a_client_and_sees_its_token_once(admin_client):
    response = admin_client.post(reverse("channel:client_list"), FORM)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = _shown_token(response.content.decode())
    client = ApiClient.objects.get(name="Woo shop")
    assert client.daily_spend_cap == Decimal("500.00") and client.service_user.is_active is False
    assert bearer(token).get("/channel/v1/offers").status_code == 200
    again = admin_client.get(reverse("channel:client_detail", args=[client.pk])).content.decode()
    assert token not in again and client.token_prefix in again
    assert AuditEvent.objects.filter(
        target_type="channel.ApiClient", target_id=str(client.pk)
    ).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"daily_spend_cap": "-1"}, "daily_spend_cap"),
        ({"order_spend_cap": "900.00"}, "order_spend_cap"),
        ({"actions": ["offers:delete"]}, "actions"),
        ({"callback_url": "javascript:alert(1)"}, "callback_url"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_settings_are_form_errors_not_clients(admin_client, change, field):
    response = admin_client.post(reverse("channel:client_list"), {**FORM, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiClient.objects.exists()


def test_rotate_shows_the_new_token_and_the_old_one_stops(admin_client, shop):
    response = admin_client.post(reverse("channel:client_rotate", args=[shop.client.pk]))
    new_token = _shown_token(response.content.decode())
    assert bearer(shop.token).get("/channel/v1/offers").status_code == 401
    assert bearer(new_token).get("/channel/v1/offers").status_code == 200


def test_revoke_needs_a_reason_and_then_refuses_the_token(admin_client, shop):
    url = reverse("channel:client_revoke", args=[shop.client.pk])
    admin_client.post(url, {"reason": ""})
    assert bearer(shop.token).get("/channel/v1/offers").status_code == 200
    admin_client.post(url, {"reason": "Chargebacks"})
    refused = bearer(shop.token).get("/channel/v1/offers").json()["error"]
    assert refused["code"] == "token_revoked" and "Chargebacks" in refused["message"]


def test_settings_are_changed_on_the_client_page(admin_client, shop):
    url = reverse("channel:client_detail", args=[shop.client.pk])
    form = {k: v for k, v in FORM.items() if k != "name"}
    response = admin_client.post(url, {**form, "daily_spend_cap": "42.00", "order_spend_cap": "40"})
    assert response.status_code == 302
    shop.client.refresh_from_db()
    assert shop.client.daily_spend_cap == Decimal("42.00")


def test_the_calls_page_lists_the_client_s_calls(admin_client, shop, make_shop):
    bearer(shop.token).get("/channel/v1/offers")
    bearer(make_shop().token).get("/channel/v1/offers?since=bogus")
    page = admin_client.get(reverse("channel:client_calls", args=[shop.client.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("/channel/v1/offers") == 1 and "invalid_cursor" not in html


def test_hostile_shop_text_is_shown_escaped(admin_client, sandbox, combos, in_stock, shop):
    from .conftest import add_stock_keys, order_body, paid

    sku = in_stock[0]
    add_stock_keys(sku, 1)
    hostile = '<script>alert("x")</script>'
    body = order_body([(sku, 1, paid(combos[sku]))], order_id=hostile, name=hostile)
    response = bearer(shop.token).post(
        "/channel/v1/fulfilments",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": hostile},
    )
    assert response.status_code == 201
    html = admin_client.get(reverse("channel:client_detail", args=[shop.client.pk])).content
    assert hostile.encode() not in html
    assert b"&lt;script&gt;" in html
