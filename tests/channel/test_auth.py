"""Token authentication: shown once, stored hashed, rotated, revoked; every call logged."""

import pytest

from backoffice import crypto
from channel import services
from channel.models import Action, ApiClient, ChannelCall

from .conftest import bearer

pytestmark = pytest.mark.django_db
OFFERS = "/channel/v1/offers"


def _error(response):
    return response.json()["error"]["code"]


def test_token_is_stored_only_as_a_keyed_hash(shop):
    client = ApiClient.objects.get(pk=shop.client.pk)
    assert shop.token.startswith("chan_")
    assert client.token_hash == crypto.keyed_hash(shop.token)
    stored = [
        str(value) for value in ApiClient.objects.filter(pk=client.pk).values().get().values()
    ]
    assert not any(shop.token in value for value in stored)
    assert not any(shop.callback_secret in value for value in stored)


def test_a_valid_token_reads_the_feed(shop_api):
    response = shop_api.get(OFFERS)
    assert response.status_code == 200
    assert response.json()["hasMore"] is False


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_token"),
        ("Bearer ", "missing_token"),
        ("Basic dXNlcjpwYXNz", "missing_token"),
        ("Bearer chan_" + "0" * 48, "invalid_token"),
        ("Bearer ' OR 1=1 --", "invalid_token"),
        ("Bearer " + "x" * 5000, "invalid_token"),
    ],
)
def test_missing_or_unknown_tokens_are_refused_with_a_reason(db, shop, client, header, code):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(OFFERS, headers=headers)
    assert response.status_code == 401
    assert _error(response) == code


def test_a_revoked_client_gets_401_with_the_reason(shop, shop_api):
    services.client_revoke(client_id=shop.client.pk, reason="Shop closed its account")
    response = shop_api.get(OFFERS)
    assert response.status_code == 401
    body = response.json()["error"]
    assert body["code"] == "token_revoked"
    assert "Shop closed its account" in body["message"]


def test_rotation_retires_the_old_token_at_once(shop, shop_api):
    new_token = services.client_token_rotate(client_id=shop.client.pk)
    old = shop_api.get(OFFERS)
    assert old.status_code == 401 and _error(old) == "token_rotated"
    assert bearer(new_token).get(OFFERS).status_code == 200


def test_an_action_outside_the_allow_list_is_forbidden(make_shop):
    issued = make_shop(actions=[Action.FULFILMENTS_WRITE])
    response = bearer(issued.token).get(OFFERS)
    assert response.status_code == 403
    assert _error(response) == "action_not_allowed"


def test_every_call_is_logged_without_token_or_body(shop, shop_api, client):
    shop_api.get(OFFERS)
    client.get(OFFERS, headers={"Authorization": "Bearer chan_wrong"})
    calls = list(ChannelCall.objects.order_by("pk"))
    assert [(c.client_id, c.status, c.error_code) for c in calls] == [
        (shop.client.pk, 200, ""),
        (None, 401, "invalid_token"),
    ]
    assert calls[0].action == "offers:read"
    for call in calls:
        row = " ".join(
            str(v) for v in ChannelCall.objects.filter(pk=call.pk).values().get().values()
        )
        assert shop.token not in row and "chan_wrong" not in row
