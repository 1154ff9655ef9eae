"""The contract: /channel/v1/openapi is OpenAPI 3.1, and real answers validate against it
(JSON Schema 2020-12, as OpenAPI 3.1 uses; jsonschema-rs is the validator installed)."""

import jsonschema_rs
import pytest

from .conftest import add_stock_keys, bearer, order_body, paid

pytestmark = pytest.mark.django_db
URL = "/channel/v1/fulfilments"


@pytest.fixture
def spec(client):
    response = client.get("/channel/v1/openapi")
    assert response.status_code == 200
    return response.json()


def validate(spec, path, method, response):
    """Validate a response body against the schema the document declares for it."""
    operation = spec["paths"][path][method]
    declared = operation["responses"][str(response.status_code)]
    schema = declared["content"]["application/json"]["schema"]
    # The document's components beside the schema: its "#/components/schemas/X" refs resolve.
    wrapped = {**schema, "components": spec["components"]}
    jsonschema_rs.Draft202012Validator(wrapped).validate(response.json())


def test_the_document_is_openapi_3_1_with_bearer_auth(spec):
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {
        "/channel/v1/offers",
        "/channel/v1/fulfilments",
        "/channel/v1/fulfilments/{fulfilment_id}",
    }
    schemes = spec["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    post = spec["paths"]["/channel/v1/fulfilments"]["post"]
    assert {"201", "202", "409", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_real_answers_match_the_document(
    spec, sandbox, combos, in_stock, shop, django_capture_on_commit_callbacks, client
):
    api = bearer(shop.token)
    offers = api.get("/channel/v1/offers", {"limit": 3})
    validate(spec, "/channel/v1/offers", "get", offers)
    since = api.get("/channel/v1/offers", {"since": offers.json()["nextCursor"]})
    validate(spec, "/channel/v1/offers", "get", since)

    sku = in_stock[0]
    add_stock_keys(sku, 1)
    headers = {"Idempotency-Key": "a"}
    at_once = api.post(
        URL, order_body([(sku, 1, paid(combos[sku]))]), "application/json", headers=headers
    )
    assert at_once.status_code == 201
    validate(spec, URL, "post", at_once)
    with django_capture_on_commit_callbacks(execute=True):
        later = api.post(
            URL,
            order_body([(in_stock[1], 1, paid(combos[in_stock[1]]))]),
            "application/json",
            headers={"Idempotency-Key": "b"},
        )
    assert later.status_code == 202
    validate(spec, URL, "post", later)
    detail = api.get(later.json()["url"])
    validate(spec, "/channel/v1/fulfilments/{fulfilment_id}", "get", detail)

    refusals = [
        (
            api.post(
                URL,
                order_body([("NOPE", 1, "1.00")]),
                "application/json",
                headers={"Idempotency-Key": "c"},
            ),
            "post",
            URL,
        ),
        (
            api.post(URL, {"orderId": 1}, "application/json", headers={"Idempotency-Key": "d"}),
            "post",
            URL,
        ),
        (client.get("/channel/v1/offers"), "get", "/channel/v1/offers"),
        (
            api.get("/channel/v1/fulfilments/999999"),
            "get",
            "/channel/v1/fulfilments/{fulfilment_id}",
        ),
    ]
    for response, method, path in refusals:
        assert response.status_code in (400, 401, 404, 422)
        validate(spec, path, method, response)
