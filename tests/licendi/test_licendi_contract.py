from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from licendi.contract import RELIED_ON, contract_drift, load_bundled_spec


@pytest.fixture
def spec() -> dict[str, Any]:
    return copy.deepcopy(load_bundled_spec())


def test_bundled_openapi_is_3_1_and_has_no_drift(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    assert contract_drift(spec) == []


def test_bundled_openapi_is_json_compatible(spec: dict[str, Any]) -> None:
    # The sandbox serves it as JSON; YAML-only types (dates, sets) would break that.
    assert json.loads(json.dumps(spec)) == spec


def test_removing_a_field_reports_exactly_that_field(spec: dict[str, Any]) -> None:
    del spec["components"]["schemas"]["LedgerEntry"]["properties"]["balanceAfter"]

    assert contract_drift(spec) == ["GET /api/balance -> 200: field ledger[].balanceAfter missing"]


def test_removing_a_shared_field_reports_every_use(spec: dict[str, Any]) -> None:
    del spec["components"]["schemas"]["Product"]["properties"]["netPrice"]

    assert contract_drift(spec) == [
        "GET /api/products -> 200: field *.netPrice missing",
        "GET /api/products/{sku} -> 200: field netPrice missing",
    ]


def test_removing_an_operation_is_reported(spec: dict[str, Any]) -> None:
    del spec["paths"]["/api/orders/{id}/keys"]

    assert contract_drift(spec) == [
        "GET /api/orders/{id}/keys: operation missing",
        "GET /api/orders/{id}/keys: operation missing",
    ]


def test_missing_idempotency_header_and_202_response_are_reported(spec: dict[str, Any]) -> None:
    spec["paths"]["/api/orders"]["post"]["parameters"] = []
    del spec["paths"]["/api/orders/{id}/keys"]["get"]["responses"]["202"]

    assert contract_drift(spec) == [
        "POST /api/orders: header parameter Idempotency-Key missing",
        "GET /api/orders/{id}/keys -> 202: response missing",
    ]


def test_missing_webhook_event_field_is_reported(spec: dict[str, Any]) -> None:
    data = spec["components"]["schemas"]["KeyAssignedEvent"]["properties"]["data"]
    del data["properties"]["key"]

    assert contract_drift(spec) == ["webhook key.assigned: field data.key missing"]


def test_upstream_with_other_parameter_names_bare_arrays_and_inline_schemas_has_no_drift() -> None:
    # A differently written but equivalent upstream: {orderId} instead of {id},
    # bare arrays instead of page objects, no $refs. Only what we read matters.
    product = {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in (
                "sku",
                "name",
                "category",
                "brand",
                "platform",
                "price",
                "netPrice",
                "currency",
                "hasVariants",
                "inStock",
                "updatedAt",
                "extraUpstreamField",
            )
        },
    }
    spec = copy.deepcopy(load_bundled_spec())
    spec["paths"]["/api/products"]["get"]["responses"]["200"] = {
        "description": "bare",
        "content": {"application/json": {"schema": {"type": "array", "items": product}}},
    }
    spec["paths"]["/api/orders/{orderId}"] = spec["paths"].pop("/api/orders/{id}")

    assert contract_drift(spec) == []


def test_empty_spec_reports_every_requirement() -> None:
    problems = contract_drift({"openapi": "3.1.0"})

    assert len(problems) == len(RELIED_ON)
    assert all(problem.endswith("operation missing") for problem in problems)


def test_unresolvable_or_cyclic_refs_do_not_crash(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["Balance"] = {"$ref": "#/components/schemas/Balance"}
    spec["components"]["schemas"]["Order"] = {"$ref": "#/nowhere/Order"}

    problems = contract_drift(spec)

    assert "GET /api/balance -> 200: field balance missing" in problems
    assert "GET /api/orders/{id} -> 200: field id missing" in problems


def test_order_creation_answered_200_instead_of_201_is_not_drift(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/orders"]["post"]["responses"]
    del responses["201"]

    assert contract_drift(spec) == []
